#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/prometheus_config.h"
#include "model/file.h"
#include "promql/parser.h"
#include "promql/printer.h"
#include "rules/check.h"
#include "rules/api_query.h"
#include "rules/lint.h"
#include "tests/shared_corpus.h"

using namespace vigil::rules;
namespace fs = std::filesystem;

namespace {

const fs::path kCorpus = fs::path(VIGIL_SOURCE_DIR) / "tests/rules/testdata/lint";

// (line, check) pairs, counted.
using Expected = std::multiset<std::pair<int, std::string>>;

Expected expectations(const std::string& content) {
  Expected out;
  std::istringstream in(content);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    auto at = line.find("# expect: ");
    if (at == std::string::npos) continue;
    std::string check = line.substr(at + 10);
    check = check.substr(0, check.find_first_of(" \t"));
    out.insert({n, check});
  }
  return out;
}

std::vector<Finding> lint_path(const std::string& path, const LintOptions& opts) {
  auto content = vigil::read_file(path);
  REQUIRE(content);
  LoadResult r = parse_rule_file(*content);
  REQUIRE_MESSAGE(r.ok(), path << ": " << (r.errors.empty() ? "" : r.errors[0].text));
  r.file.path = path;
  auto findings = lint_rule_file(r.file, *content, opts);
  auto dups = duplicate_findings(path, r.file);
  findings.insert(findings.end(), dups.begin(), dups.end());
  return findings;
}

std::string describe(const std::vector<Finding>& fs) {
  std::ostringstream out;
  write_findings(out, FindingFormat::kText, fs, {}, "");
  return out.str();
}

OutputLabels labels(std::string_view expr) {
  auto e = vigil::promql::parse_expr(expr);
  REQUIRE(e);
  return output_labels(**e);
}

}  // namespace

TEST_CASE("lint corpus: each planted mistake is found where it is, and nothing else") {
  auto pc = vigil::config::load_prometheus_config((kCorpus / "prometheus.yml").string());
  REQUIRE(pc.ok());
  LintOptions opts;
  opts.prometheus = &pc.config;
  std::set<std::string> covered;
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(kCorpus)) {
    if (entry.path().extension() != ".yml" || entry.path().filename() == "prometheus.yml") continue;
    ++files;
    std::string path = entry.path().string();
    auto content = vigil::read_file(path);
    REQUIRE(content);
    Expected want = expectations(*content);
    CHECK_MESSAGE(!want.empty(), path << " plants nothing");
    auto findings = lint_path(path, opts);
    Expected got;
    for (const auto& f : findings) got.insert({f.line, f.check});
    CHECK_MESSAGE(got == want, path << " found:\n" << describe(findings));
    // The file is named after the check it plants.
    CHECK(want.count({want.begin()->first, "promql/" + entry.path().stem().string()}) +
              want.count({want.begin()->first, "alerts/" + entry.path().stem().string()}) +
              want.count({want.begin()->first, "rules/" + entry.path().stem().string()}) >
          0);
    for (const auto& [line, check] : want) covered.insert(check);
  }
  CHECK(files > 10);
  // Every check has a planted mistake, but the live ones, which need a
  // datasource (tested against a fake one below, and a real Prometheus in
  // integration.lint_datasource).
  for (const auto& c : lint_checks()) {
    if (c.name.starts_with("promql/series-")) continue;
    CHECK_MESSAGE(covered.contains(std::string(c.name)), c.name);
  }
  CHECK(covered.contains("rules/duplicate-rules"));
}

TEST_CASE("lint: the clean corpus (examples, upstream's promtool files) has no false finding") {
  VIGIL_NEEDS_SHARED();
  std::vector<std::string> paths;
  for (const auto& entry : fs::recursive_directory_iterator(fs::path(VIGIL_SOURCE_DIR) / "examples")) {
    auto ext = entry.path().extension();
    if (ext != ".yml" && ext != ".yaml") continue;
    auto content = vigil::read_file(entry.path().string());
    if (content && content->starts_with("groups:") ) paths.push_back(entry.path().string());
    else if (content && content->find("\ngroups:") != std::string::npos) paths.push_back(entry.path().string());
  }
  CHECK(paths.size() >= 3);
  std::string promtool = std::string(VIGIL_SHARED_DIR) + "/conformance/promtool/";
  for (const auto& entry : fs::directory_iterator(promtool)) {
    std::string path = entry.path().string();
    if (entry.path().extension() != ".yml" || path.find("bad") != std::string::npos) continue;
    auto content = vigil::read_file(path);
    if (!content || content->find("groups:") == std::string::npos) continue;
    if (!parse_rule_file(*content).ok()) continue;  // unit-test files and the like
    paths.push_back(path);
  }
  CHECK(paths.size() > 10);
  for (const auto& path : paths) {
    auto content = vigil::read_file(path);
    REQUIRE(content);
    LoadResult r = parse_rule_file(*content);
    if (!r.ok()) continue;
    r.file.path = path;
    auto findings = lint_rule_file(r.file, *content, {});
    // True findings in upstream's feature-flag test file: rate() over `up`
    // and `down`, gauges.
    if (path.ends_with("/features.yml")) {
      std::erase_if(findings, [](const Finding& f) {
        return f.check == "promql/rate-non-counter" && (f.message.find("over up,") != std::string::npos ||
                                                         f.message.find("over down,") != std::string::npos);
      });
    }
    CHECK_MESSAGE(findings.empty(), path << ":\n" << describe(findings));
  }
}

TEST_CASE("lint: findings point at the offending part of the expression") {
  std::string content =
      "groups:\n"
      "  - name: g\n"
      "    rules:\n"
      "      - alert: A\n"
      "        expr: up == 0 and rate(up[5m]) > 1\n"
      "      - alert: B\n"
      "        expr: |\n"
      "          sum(x)\n"
      "            > on(job) http_errors_total\n";
  LoadResult r = parse_rule_file(content);
  REQUIRE(r.ok());
  auto fs = lint_rule_file(r.file, content, {});
  REQUIRE(fs.size() == 2);
  CHECK(fs[0].check == "promql/rate-non-counter");
  CHECK(fs[0].line == 5);
  CHECK(fs[0].column == 32);  // the `up[5m]` inside rate()
  CHECK(fs[1].check == "promql/counter-raw");
  CHECK(fs[1].line == 9);
  CHECK(fs[1].column == 23);
}

TEST_CASE("lint: ignore comments silence one check for one rule") {
  std::string content =
      "groups:\n"
      "  - name: g\n"
      "    rules:\n"
      "      - alert: A\n"
      "        # vigil lint ignore promql/counter-raw\n"
      "        expr: errors_total > 1\n"
      "      - alert: B\n"
      "        expr: errors_total > 1\n";
  LoadResult r = parse_rule_file(content);
  REQUIRE(r.ok());
  auto fs = lint_rule_file(r.file, content, {});
  REQUIRE(fs.size() == 1);
  CHECK(fs[0].line == 8);
  LintOptions off;
  off.disabled.insert("promql/counter-raw");
  CHECK(lint_rule_file(r.file, content, off).empty());
}

TEST_CASE("output labels: what an expression can return") {
  CHECK_FALSE(labels("up").bounded);
  CHECK(labels("sum(up)").bounded);
  CHECK(labels("sum(up)").names.empty());
  CHECK(labels("sum by (job, instance) (up)").names == std::set<std::string>{"instance", "job"});
  CHECK_FALSE(labels("sum without (job) (up)").bounded);
  CHECK(labels("sum without (job) (sum by (job, env) (up))").names == std::set<std::string>{"env"});
  CHECK(labels("sum by (job) (sum by (env) (up))").names.empty());
  CHECK(labels("count_values by (job) (\"version\", build_info)").names ==
        std::set<std::string>{"job", "version"});
  CHECK(labels("topk(3, sum by (job) (up))").names == std::set<std::string>{"job"});
  CHECK(labels("absent(up{job=\"a\", env=~\"p.*\"})").names == std::set<std::string>{"job"});
  CHECK(labels("vector(1)").bounded);
  CHECK(labels("up > on(job) sum by (job, env) (up)").names == std::set<std::string>{"job"});
  CHECK(labels("sum by (job, env) (up) > ignoring(env) sum by (job) (up)").names ==
        std::set<std::string>{"job"});
  CHECK_FALSE(labels("up * on(job) group_left(team) team_info").bounded);
  CHECK(labels("sum by (job) (up) * on(job) group_left(team) team_info").names ==
        std::set<std::string>{"job", "team"});
  CHECK(labels("sum by (job) (up) or sum by (env) (up)").names == std::set<std::string>{"env", "job"});
  CHECK_FALSE(labels("sum by (job) (up) or up").bounded);
  CHECK(labels("histogram_quantile(0.9, sum by (le, job) (rate(x_bucket[5m])))").names ==
        std::set<std::string>{"job"});
  CHECK(labels("label_replace(sum by (job) (up), \"svc\", \"$1\", \"job\", \"(.*)\")").names ==
        std::set<std::string>{"job", "svc"});
  CHECK(labels("sum by (job) (up) > 0.5").names == std::set<std::string>{"job"});
  CHECK(labels("1 < sum by (job) (up)").names == std::set<std::string>{"job"});
}

TEST_CASE("findings formats: GitHub annotations, GitLab code quality, JUnit, JSON") {
  std::vector<Finding> fs = {
      {"r.yml", 7, 3, "promql/counter-raw", Severity::kWarning, "x_total, raw: 100%"},
      {"r.yml", 2, 1, "alerts/value-in-labels", Severity::kBug, "label `v`"},
  };
  std::ostringstream gh;
  write_findings(gh, FindingFormat::kGithub, fs, {"r.yml", "clean.yml"}, "s");
  CHECK(gh.str() ==
        "::error file=r.yml,line=2,col=1,title=alerts/value-in-labels::label `v`\n"
        "::warning file=r.yml,line=7,col=3,title=promql/counter-raw::x_total, raw: 100%25\n");

  std::ostringstream gl;
  write_findings(gl, FindingFormat::kGitlab, fs, {}, "s");
  auto j = nlohmann::json::parse(gl.str());
  REQUIRE(j.size() == 2);
  CHECK(j[0]["check_name"] == "alerts/value-in-labels");
  CHECK(j[0]["severity"] == "major");
  CHECK(j[0]["location"]["path"] == "r.yml");
  CHECK(j[0]["location"]["lines"]["begin"] == 2);
  CHECK(j[0]["fingerprint"].get<std::string>().size() == 16);
  CHECK(j[0]["fingerprint"] != j[1]["fingerprint"]);

  std::ostringstream js;
  write_findings(js, FindingFormat::kJson, fs, {}, "s");
  auto k = nlohmann::json::parse(js.str());
  CHECK(k[1]["line"] == 7);
  CHECK(k[1]["severity"] == "warning");

  std::ostringstream ju;
  write_findings(ju, FindingFormat::kJunit, fs, {"r.yml", "clean.yml"}, "vigil lint");
  std::string x = ju.str();
  CHECK(x.find("<testsuites name=\"vigil lint\" tests=\"3\" failures=\"2\">") != std::string::npos);
  CHECK(x.find("<testsuite name=\"clean.yml\" tests=\"1\" failures=\"0\">") != std::string::npos);
  CHECK(x.find("<failure type=\"warning\" message=\"x_total, raw: 100%\">r.yml:7:3</failure>") !=
        std::string::npos);
}

TEST_CASE("check rules --format: load errors and duplicates as findings, same exit codes") {
  VIGIL_NEEDS_SHARED();
  std::string bad = std::string(VIGIL_SHARED_DIR) + "/conformance/promtool/rules-bad.yml";
  std::string dup = (kCorpus / "duplicate-rules.yml").string();
  CheckRulesOptions opts;
  opts.format = FindingFormat::kGithub;
  std::istringstream in;
  std::ostringstream out, err;
  CHECK(check_rules({bad}, opts, in, out, err) == kExitFailure);
  CHECK(out.str().starts_with("::error file=" + bad));
  CHECK(out.str().find("title=rules/load::") != std::string::npos);

  std::ostringstream out2, err2;
  opts.lint_fatal = true;
  CHECK(check_rules({dup}, opts, in, out2, err2) == kExitLint);
  CHECK(out2.str().find(",line=6,col=9,title=rules/duplicate-rules::job:up:sum{}") != std::string::npos);
}

TEST_CASE("lint live checks: missing series, the matcher that rules them out, series touched") {
  // A datasource with up{job="api"} x3 and up{job="web"} x2, nothing else.
  struct Fake {
    std::vector<std::string> asked;
  };
  auto fake = std::make_shared<Fake>();
  auto series = [](std::string job) {
    return vigil::promql::Sample{vigil::Labels({{"__name__", "up"}, {"job", job}}), 1, 0};
  };
  LintOptions opts;
  opts.now = 1000;
  opts.query = [fake, series](const vigil::promql::Expr& e, int64_t t) -> vigil::Result<vigil::promql::Vector> {
    CHECK(t == 1000);
    std::string q = vigil::promql::to_string(e);
    fake->asked.push_back(q);
    auto num = [](double v) { return vigil::promql::Vector{{vigil::Labels(), v, 0}}; };
    if (q == "count(up)" ) return num(5);
    if (q == "count(up{job=\"api\"})") return num(3);
    if (q == "count by (job) (up)") {
      auto a = series("api"), w = series("web");
      a.labels = vigil::Labels({{"job", "api"}});
      w.labels = vigil::Labels({{"job", "web"}});
      return vigil::promql::Vector{a, w};
    }
    return vigil::promql::Vector{};  // count() of nothing is empty
  };
  std::string content =
      "groups:\n"
      "  - name: g\n"
      "    rules:\n"
      "      - alert: ApiDown\n"
      "        expr: up{job=\"api\"} == 0\n"
      "      - alert: DbDown\n"
      "        expr: up{job=\"db\"} == 0\n"
      "      - alert: Gone\n"
      "        expr: absent(nothing_here_total)\n"
      "      - record: job:mine:sum\n"
      "        expr: sum(up)\n"
      "      - alert: ReadsRecorded\n"
      "        expr: job:mine:sum < 1\n";
  LoadResult r = parse_rule_file(content);
  REQUIRE(r.ok());
  auto fs = lint_live(r.file, content, opts);
  REQUIRE(fs);
  std::sort(fs->begin(), fs->end(), [](const Finding& a, const Finding& b) { return a.line < b.line; });
  REQUIRE_MESSAGE(fs->size() == 4, describe(*fs));
  CHECK((*fs)[0].check == "promql/series-count");
  CHECK((*fs)[0].message == "the query touches 3 series (up{job=\"api\"}: 3)");
  CHECK((*fs)[1].check == "promql/series-missing");
  CHECK((*fs)[1].line == 7);
  CHECK((*fs)[1].message ==
        "up{job=\"db\"} matches no series on the datasource: up has 5 series, none with job=\"db\" "
        "(job values: \"api\", \"web\")");
  CHECK((*fs)[2].check == "promql/series-missing");
  CHECK((*fs)[2].message.ends_with(": no series of this name in the last 7 days"));
  CHECK((*fs)[3].check == "promql/series-count");  // sum(up), the recording rule
  // The series the file records itself are not looked up.
  for (const auto& q : fake->asked) CHECK(q.find("job:mine:sum") == std::string::npos);

  opts.query = [](const vigil::promql::Expr&, int64_t) -> vigil::Result<vigil::promql::Vector> {
    return vigil::fail("connection refused");
  };
  auto down = lint_live(r.file, content, opts);
  REQUIRE_FALSE(down);
  CHECK(down.error().message.find("connection refused") != std::string::npos);
}

TEST_CASE("query times as promtool reads them: Unix seconds (to the millisecond) or RFC 3339") {
  CHECK(parse_query_time("1700000000") == 1700000000.0);
  CHECK(parse_query_time("1700000000.1234") == doctest::Approx(1700000000.123));
  CHECK(parse_query_time("2026-01-02T03:04:05.5Z") == doctest::Approx(1767323045.5));
  CHECK_FALSE(parse_query_time("yesterday"));
  CHECK_FALSE(parse_query_time(""));
}
