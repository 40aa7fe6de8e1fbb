// vigil lint: the rule-file linter (rules/lint.h), with outputs CI systems read.
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "config/prometheus_config.h"
#include "rules/check.h"
#include "rules/evaluation.h"
#include "rules/lint.h"

namespace vigil::cli {

void register_lint(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "lint",
      "Find mistakes in rule files that load fine but page wrongly or never: each finding\n"
      "with file:line:col, a check name, a severity (bug, warning, info) and a reason.\n"
      "Exit 1 when a finding is at least --fail-on (bug by default), else 0.\n"
      "  vigil lint rules/*.yml\n"
      "  vigil lint --config.file=prometheus.yml           (its rule_files; scrape intervals too)\n"
      "  vigil lint --format=github rules/*.yml            (annotations on a pull request)\n"
      "  vigil lint --datasource.url=http://prometheus:9090 rules/*.yml   (live checks too)\n"
      "A rule silences a check with a comment in its lines: # vigil lint ignore CHECK");
  struct Options {
    std::vector<std::string> files;
    std::string format = "text";
    std::string fail_on = "bug";
    std::vector<std::string> disable;
    std::string prometheus;
    bool list = false;
    bool ignore_unknown_fields = false;
    rules::RemoteQueryOptions datasource;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("rule-files", o->files, "The rule files to lint");
  cmd->add_option("--format", o->format, "Output: text, json, github, gitlab or junit")
      ->default_str("text");
  cmd->add_option("--fail-on", o->fail_on,
                  "Exit 1 when a finding has at least this severity: bug, warning, info or none")
      ->default_str("bug");
  cmd->add_option("--disable", o->disable, "Checks to skip (repeat, or comma-separated)")
      ->delimiter(',')
      ->allow_extra_args(false);
  cmd->add_option("--config.file", o->prometheus,
                  "A prometheus.yml: lints its rule_files when no file is given, and takes scrape "
                  "and evaluation intervals from it");
  cmd->add_flag("--list-checks", o->list, "List the checks and exit");
  cmd->add_option("--datasource.url", o->datasource.url,
                  "A Prometheus-compatible server to run the live checks against: selectors that "
                  "match no series (and why), and how many series each rule touches");
  cmd->add_option("--datasource.bearer-token-file", o->datasource.http.bearer_token_file,
                  "File holding the datasource's bearer token");
  cmd->add_flag("--ignore-unknown-fields", o->ignore_unknown_fields,
                "Accept keys the rule-file format does not define");
  cmd->callback([o, exit_code] {
    *exit_code = 1;
    if (o->list) {
      for (const auto& c : rules::lint_checks()) {
        std::cout << fmt::format("{:<32} {:<8} {}\n", c.name, rules::severity_name(c.severity), c.summary);
      }
      *exit_code = 0;
      return;
    }
    rules::LintRunOptions run;
    auto format = rules::parse_finding_format(o->format);
    if (!format) {
      std::cerr << "vigil lint: unknown --format " << o->format << " (expected "
                << rules::kFindingFormats << ")\n";
      return;
    }
    run.format = *format;
    if (o->fail_on == "none") {
      run.fail_on.reset();
    } else if (auto s = rules::parse_severity(o->fail_on)) {
      run.fail_on = *s;
    } else {
      std::cerr << "vigil lint: unknown --fail-on " << o->fail_on
                << " (expected bug, warning, info or none)\n";
      return;
    }
    for (const auto& d : o->disable) {
      bool known = d == "rules/duplicate-rules";
      for (const auto& c : rules::lint_checks()) known = known || c.name == d;
      if (!known) {
        std::cerr << "vigil lint: unknown check " << d << " (see vigil lint --list-checks)\n";
        return;
      }
      run.lint.disabled.insert(d);
    }
    run.load.ignore_unknown_fields = o->ignore_unknown_fields;
    config::PrometheusConfigResult prometheus;
    std::vector<std::string> files = o->files;
    if (!o->prometheus.empty()) {
      prometheus = config::load_prometheus_config(o->prometheus);
      if (!prometheus.ok()) {
        for (const auto& e : prometheus.errors) {
          std::cerr << o->prometheus;
          if (e.line) std::cerr << ":" << e.line << ":" << e.column;
          std::cerr << ": " << e.message << "\n";
        }
        return;
      }
      run.lint.prometheus = &prometheus.config;
      if (files.empty()) files = prometheus.config.rule_files;
    }
    if (!o->datasource.url.empty()) {
      o->datasource.timeout = 30 * kSecond;
      auto q = rules::remote_query(o->datasource);
      if (!q) {
        std::cerr << "vigil lint: " << q.error().message << "\n";
        return;
      }
      run.lint.query = *q;
      run.lint.now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    }
    if (files.empty()) {
      std::cerr << "vigil lint: no rule files given (name them, or --config.file with rule_files)\n";
      return;
    }
    *exit_code = rules::lint_files(files, run, std::cout, std::cerr);
  });
}

}  // namespace vigil::cli
