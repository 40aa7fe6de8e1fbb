#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/routing_flags.h"
#include "model/duration.h"
#include "model/file.h"
#include "notifiers/integration.h"
#include "routing/check_config.h"
#include "rules/check_prometheus.h"

namespace vigil::cli {

namespace {

// promtool check config's flags, on `check prometheus` and on `check config`
// (which reads prometheus.yml files too).
struct PrometheusFlags {
  rules::CheckPrometheusOptions opts;
  std::vector<std::string> features;
  std::string lookback_delta = "5m";
};

void add_prometheus_flags(CLI::App& cmd, PrometheusFlags& f, bool with_features) {
  cmd.add_flag("--syntax-only,!--no-syntax-only", f.opts.syntax_only,
               "Prometheus files: check the file alone, not the rule files (and other files) it names");
  cmd.add_option("--lint", f.opts.rules.lint,
                 "Prometheus files: lint checks: duplicate-rules (the default) on their rule files, "
                 "too-long-scrape-interval, all, none")
      ->default_str("duplicate-rules");
  cmd.add_flag("--agent,!--no-agent", f.opts.agent,
               "Prometheus files: check them as Prometheus in agent mode loads them (no alerting, "
               "rule_files or remote_read)");
  cmd.add_option("--query.lookback-delta", f.lookback_delta,
                 "Prometheus files: the server's lookback delta, for --lint=too-long-scrape-interval "
                 "(also in --lint=all): jobs scraping at least this far apart are reported")
      ->default_str("5m");
  cmd.add_flag("--lint-fatal,!--no-lint-fatal", f.opts.rules.lint_fatal,
               "Prometheus files: exit with code 3 when a lint check finds something");
  cmd.add_flag("--ignore-unknown-fields,!--no-ignore-unknown-fields", f.opts.rules.load.ignore_unknown_fields,
               "Prometheus files: accept keys the rule-file format does not define in their rule files");
  if (with_features) {
    cmd.add_option("--enable-feature", f.features,
                   "Features to turn on, comma-separated: promql-experimental-functions; other names "
                   "promtool knows are accepted with a warning")
        ->take_all()
        ->allow_extra_args(false);
  }
}

int check_prometheus(const std::vector<std::string>& files, PrometheusFlags& f) {
  auto lookback = parse_duration(f.lookback_delta);
  if (!lookback) {
    std::cerr << "--query.lookback-delta: " << lookback.error().message << "\n";
    return 1;
  }
  f.opts.lookback_delta = *lookback;
  for (const auto& feature : f.features) rules::enable_features(feature, f.opts.rules, std::cerr);
  return rules::check_prometheus_configs(files, f.opts, std::cout, std::cerr);
}

// The content decides; when it does not (an empty file, only unknown keys),
// a file named like prometheus.yml is one, anything else is read as an
// Alertmanager config, as amtool would.
bool is_prometheus_file(const std::string& path) {
  auto text = read_file(path);
  if (!text) return false;  // the Alertmanager check reports it
  switch (rules::config_kind(*text)) {
    case rules::ConfigKind::kPrometheus: return true;
    case rules::ConfigKind::kAlertmanager: return false;
    case rules::ConfigKind::kUnknown: break;
  }
  const size_t slash = path.rfind('/');
  return path.find("prometheus", slash == std::string::npos ? 0 : slash + 1) != std::string::npos;
}

}  // namespace

void register_check_config(CLI::App& check, int* exit_code) {
  auto* cmd = check.add_subcommand(
      "config",
      "Validate configuration files: alertmanager.yml as amtool check-config does, prometheus.yml\n"
      "(told apart by its content: scrape_configs, rule_files, alerting, ...) as promtool check\n"
      "config does. Every error names its file, line and column.");
  auto files = std::make_shared<std::vector<std::string>>();
  auto features = std::make_shared<std::string>();
  auto strict = std::make_shared<bool>(false);
  auto prom = std::make_shared<PrometheusFlags>();
  cmd->add_option("config-files", *files, "The files to check (none: an Alertmanager config on standard input)");
  add_feature_flag(*cmd, *features);
  cmd->add_flag("--strict", *strict,
                "Alertmanager files: fail on what is only a warning otherwise: receivers vigil cannot deliver "
                "to yet");
  add_prometheus_flags(*cmd, *prom, false);
  cmd->callback([files, features, strict, prom, exit_code] {
    // Runs of files of one kind, in the order given.
    std::vector<std::pair<bool, std::vector<std::string>>> runs;
    for (const auto& f : *files) {
      bool p = is_prometheus_file(f);
      if (runs.empty() || runs.back().first != p) runs.push_back({p, {}});
      runs.back().second.push_back(f);
    }
    if (files->empty()) runs.push_back({false, {}});
    int rc = 0;
    for (auto& [is_prometheus, run] : runs) {
      int r = 0;
      if (is_prometheus) {
        prom->features.clear();
        if (!features->empty()) prom->features.push_back(*features);
        r = check_prometheus(run, *prom);
      } else {
        routing::LoadOptions opts;
        opts.deliverable = notifiers::can_deliver;
        opts.strict = *strict;
        if (!apply_features(*features, opts, std::cerr)) {
          *exit_code = 1;
          return;
        }
        r = routing::check_config(run, opts, std::cin, std::cout, std::cerr);
      }
      if (r == 1 || rc == 0) rc = r;
    }
    *exit_code = rc;
  });
}

void register_check_prometheus(CLI::App& check, int* exit_code) {
  auto* cmd = check.add_subcommand(
      "prometheus",
      "Validate Prometheus configuration files (prometheus.yml) and the rule files they name;\n"
      "checks, output and exit codes follow promtool check config. Service discoveries vigil\n"
      "does not run are accepted with a warning.");
  auto files = std::make_shared<std::vector<std::string>>();
  auto prom = std::make_shared<PrometheusFlags>();
  cmd->add_option("config-files", *files, "The files to check")->required();
  add_prometheus_flags(*cmd, *prom, true);
  cmd->callback([files, prom, exit_code] { *exit_code = check_prometheus(*files, *prom); });
}

}  // namespace vigil::cli
