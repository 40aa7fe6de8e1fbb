#include <doctest/doctest.h>

#include "tests/temp_dir.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "rules/check.h"
#include "tests/shared_corpus.h"

using namespace vigil::rules;
namespace fs = std::filesystem;

namespace {

const std::string kPromtool = std::string(VIGIL_SHARED_DIR) + "/conformance/promtool/";

struct Run {
  int code;
  std::string out, err;
};

Run run(std::vector<std::string> files, CheckRulesOptions opts = {}, std::string input = "") {
  std::istringstream in(input);
  std::ostringstream out, err;
  int code = check_rules(files, opts, in, out, err);
  return {code, out.str(), err.str()};
}

// A fresh directory under the system temp dir, removed at scope exit.
using vigil::testing::TempDir;

}  // namespace

TEST_CASE("check rules conformance: the good promtool files pass") {
  VIGIL_NEEDS_SHARED();
  for (const char* f : {"rules.yml", "rules_large.yml", "at-modifier.yml", "negative-offset.yml"}) {
    Run r = run({kPromtool + f});
    CHECK_MESSAGE(r.code == 0, f, "\n", r.out, r.err);
  }
  Run r = run({kPromtool + "rules.yml"});
  CHECK(r.out == "Checking " + kPromtool + "rules.yml\n  SUCCESS: 5 rules found\n\n");
  CHECK(r.err.empty());
}

TEST_CASE("check rules conformance: rules-bad.yml fails on its template") {
  VIGIL_NEEDS_SHARED();
  Run r = run({kPromtool + "rules-bad.yml"});
  CHECK(r.code == 1);
  CHECK(r.out == "Checking " + kPromtool + "rules-bad.yml\n");
  CHECK(r.err == "  FAILED:\n" + kPromtool +
                     "rules-bad.yml: 12:20: group \"alerts\", rule 1, \"InstanceDown\": annotation "
                     "\"summary\": template: __alert_InstanceDown:1: undefined variable "
                     "\"$label\"\n");
}

TEST_CASE("check rules conformance: rules_extrafields.yml fails unless unknown fields are ignored") {
  VIGIL_NEEDS_SHARED();
  Run r = run({kPromtool + "rules_extrafields.yml"});
  CHECK(r.code == 1);
  CHECK(r.err == "  FAILED:\n" + kPromtool +
                     "rules_extrafields.yml: yaml: unmarshal errors:\n"
                     "  line 7, column 5: field namespace not found in type rulefmt.RuleGroup\n"
                     "  line 21, column 5: field ownership not found in type rulefmt.RuleGroup\n");
  CheckRulesOptions lax;
  lax.load.ignore_unknown_fields = true;
  Run ok = run({kPromtool + "rules_extrafields.yml"}, lax);
  CHECK(ok.code == 0);
  CHECK(ok.out.find("SUCCESS: 5 rules found") != std::string::npos);
}

TEST_CASE("check rules conformance: rules_duplicates.yml passes, lints, and is fatal on request") {
  VIGIL_NEEDS_SHARED();
  const std::string file = kPromtool + "rules_duplicates.yml";
  const std::string lint_report =
      "  FAILED:\nlint error 1 duplicate rule(s) found.\nMetric: job:test:count_over_time1m\n"
      "Label(s):\nMight cause inconsistency while recording expressions\n";
  Run r = run({file});
  CHECK(r.code == 0);
  CHECK(r.out == "Checking " + file + "\n\n");
  CHECK(r.err == lint_report);

  CheckRulesOptions fatal;
  fatal.lint_fatal = true;
  CHECK(run({file}, fatal).code == 3);

  CheckRulesOptions none;
  none.lint = "none";
  none.lint_fatal = true;
  Run quiet = run({file}, none);
  CHECK(quiet.code == 0);
  CHECK(quiet.out.find("SUCCESS: 5 rules found") != std::string::npos);

  CheckRulesOptions all;
  all.lint = "all";
  CHECK(run({file}, all).err == lint_report);
}

TEST_CASE("check rules: duplicates merge group labels under rule labels") {
  auto r = parse_rule_file(R"(groups:
- name: a
  labels: {team: x}
  rules:
  - alert: A
    expr: up
  - alert: A
    expr: down
    labels: {team: x}
  - alert: A
    expr: up
    labels: {team: y}
)");
  REQUIRE(r.ok());
  auto dups = find_duplicate_rules(r.file);
  REQUIRE(dups.size() == 1);
  CHECK(dups[0].name == "A");
  CHECK(dups[0].labels.to_string() == "{team=\"x\"}");
}

TEST_CASE("check rules: unknown lint options warn on stdout, as promtool") {
  VIGIL_NEEDS_SHARED();
  CheckRulesOptions o;
  o.lint = "bogus,duplicate-rules";
  Run r = run({kPromtool + "rules.yml"}, o);
  CHECK(r.code == 0);
  CHECK(r.out.starts_with("WARNING: unknown lint option: \"bogus\"\nChecking "));
}

TEST_CASE("check rules: errors anywhere make exit 1 even with lint findings elsewhere") {
  VIGIL_NEEDS_SHARED();
  CheckRulesOptions fatal;
  fatal.lint_fatal = true;
  Run r = run({kPromtool + "rules_duplicates.yml", kPromtool + "rules-bad.yml",
               kPromtool + "rules.yml"},
              fatal);
  CHECK(r.code == 1);
  CHECK(r.out.find("Checking " + kPromtool + "rules.yml\n  SUCCESS: 5 rules found\n\n") !=
        std::string::npos);
}

TEST_CASE("check rules: standard input, as '-' or with no files") {
  const std::string good = "groups:\n- name: a\n  rules:\n  - record: r\n    expr: up\n";
  for (auto files : {std::vector<std::string>{"-"}, std::vector<std::string>{}}) {
    Run r = run(files, {}, good);
    CHECK(r.code == 0);
    CHECK(r.out == "Checking standard input\n  SUCCESS: 1 rules found\n\n");
  }
  Run bad = run({"-"}, {}, "groups:\n- name: a\n  rules:\n  - record: r\n");
  CHECK(bad.code == 1);
  // Errors from standard input carry no file prefix.
  CHECK(bad.err == "  FAILED:\n4:5: group \"a\", rule 1, \"r\": field 'expr' must be set in rule\n");
}

TEST_CASE("check rules bad input: missing file, directory, non-YAML, garbage, wrong shape") {
  TempDir tmp;
  struct Case {
    std::string path, want;
  };
  // The start of an ELF header, NULs included; the length comes from the
  // array, not from counting escapes.
  static constexpr char kElfStart[] = "\x7f" "ELF\x02\x01\x01\0\0\0\xff\xfe";
  std::vector<Case> cases = {
      {"/nonexistent/rules.yml", "open /nonexistent/rules.yml: no such file or directory"},
      {tmp.path().string(), "read " + tmp.path().string() + ": is a directory"},
      {tmp.write("notyaml.yml", "groups:\n  - name: a\n   rules: [\n"), "yaml: line "},
      {tmp.write("binary.yml", std::string(kElfStart, sizeof kElfStart - 1)),
       "yaml: line 1, column 1: control characters are not allowed"},
      {tmp.write("groups_str.yml", "groups: nope\n"),
       "cannot unmarshal !!str `nope` into []rulefmt.RuleGroup"},
      {tmp.write("rules_map.yml", "groups:\n- name: a\n  rules: {a: b}\n"),
       "cannot unmarshal !!map into []rulefmt.Rule"},
      {tmp.write("scalar.yml", "just some words\n"),
       "cannot unmarshal !!str `just so...` into rulefmt.RuleGroups"},
      {tmp.write("deep.yml", "groups: " + std::string(100000, '[') + "\n"), "exceeded max depth"},
  };
  for (const Case& c : cases) {
    Run r = run({c.path});
    CHECK_MESSAGE(r.code == 1, c.path);
    CHECK_MESSAGE(r.err.starts_with("  FAILED:\n" + c.path + ": "), c.path, "\n", r.err);
    CHECK_MESSAGE(r.err.find(c.want) != std::string::npos, c.path, "\n", r.err);
  }
}

TEST_CASE("check rules: an empty file is valid with 0 rules, as in promtool") {
  TempDir tmp;
  Run r = run({tmp.write("empty.yml", "")});
  CHECK(r.code == 0);
  CHECK(r.out.find("SUCCESS: 0 rules found") != std::string::npos);
}

TEST_CASE("check rules: a 50 MB rule file is checked in bounded time") {
  TempDir tmp;
  std::string text = "groups:\n";
  int rules = 0;
  for (int g = 0; text.size() < 50'000'000; ++g) {
    text += "- name: group" + std::to_string(g) + "\n  interval: 30s\n  rules:\n";
    for (int i = 0; i < 100; ++i, ++rules) {
      text += "  - alert: HighErrorRate" + std::to_string(i) +
              "\n    expr: sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m])) > 0.1\n"
              "    for: 5m\n    labels:\n      severity: page\n    annotations:\n"
              "      summary: \"{{ $labels.job }} has a high error rate\"\n";
    }
  }
  const std::string path = tmp.write("big.yml", text);
  text.clear();
  text.shrink_to_fit();
  auto start = std::chrono::steady_clock::now();
  CheckRulesOptions no_lint;
  no_lint.lint = "none";
  Run r = run({path}, no_lint);
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(r.code == 0);
  CHECK(r.out.find("SUCCESS: " + std::to_string(rules) + " rules found") != std::string::npos);
  CHECK(seconds < 120);
  MESSAGE("50 MB, ", rules, " rules checked in ", seconds, " s");
}

TEST_CASE("check rules: the quickstart example checks clean") {
  Run r = run({std::string(VIGIL_SOURCE_DIR) + "/examples/quickstart/rules.yml"});
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  CHECK(r.out.find("SUCCESS: 9 rules found") != std::string::npos);
}

TEST_CASE("check rules: --enable-feature names, as promtool") {
  CheckRulesOptions o;
  CHECK_FALSE(o.load.promql.experimental_functions);  // promtool's default
  std::ostringstream err;
  enable_features("promql-experimental-functions,promql-delayed-name-removal,bogus", o, err);
  CHECK(o.load.promql.experimental_functions);
  CHECK(err.str() ==
        "  WARNING: feature promql-delayed-name-removal is not supported by vigil yet and has no "
        "effect\n  WARNING: Unknown feature passed to --enable-feature: bogus\n");
}
