// vigil rules backtest: replays rule files over a datasource's history and
// prints when each alert was pending, firing and resolved (rules/backtest.h).
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "model/timestamp.h"
#include "routing/config.h"
#include "rules/backtest.h"
#include "server/prometheus_api.h"

namespace vigil::cli {

namespace {

struct BacktestArgs {
  rules::RemoteQueryOptions datasource;
  std::string from, to, interval = "1m", timeout = "2m", output = "text";
  std::string alertmanager_config;
  std::vector<std::string> files;
};

std::string labels_text(const Labels& ls) {
  std::string out = "{";
  for (const auto& l : ls) out += fmt::format("{}{}=\"{}\"", out.size() > 1 ? ", " : "", l.name, l.value);
  return out + "}";
}

int run_backtest(const BacktestArgs& a) {
  auto fail_with = [](const std::string& m) {
    std::cerr << "vigil rules backtest: " << m << "\n";
    return 1;
  };
  auto from = server::parse_time_param(a.from);
  if (!from) return fail_with("--from: " + from.error().message);
  auto to = server::parse_time_param(a.to);
  if (!to) return fail_with("--to: " + to.error().message);
  if (*to < *from) return fail_with("--to is before --from");
  auto interval = parse_duration(a.interval);
  if (!interval || *interval <= 0) return fail_with("--evaluation-interval: expected a positive duration");
  auto timeout = parse_duration(a.timeout);
  if (!timeout) return fail_with("--datasource.timeout: " + timeout.error().message);
  if (a.output != "text" && a.output != "json") return fail_with("--output: expected text or json");
  std::vector<rules::RuleFile> files;
  for (const auto& path : a.files) {
    auto r = rules::load_rule_file(path);
    if (!r.ok()) {
      for (const auto& e : rules::format_errors(r.errors)) std::cerr << path << ": " << e << "\n";
      return 1;
    }
    r.file.path = path;
    files.push_back(std::move(r.file));
  }
  rules::BacktestOptions bopts{*from, *to, *interval, nullptr};
  if (!a.alertmanager_config.empty()) {
    auto am = routing::load_config(a.alertmanager_config);
    if (!am.ok()) {
      for (const auto& e : am.errors) std::cerr << a.alertmanager_config << ": " << e.message << "\n";
      return 1;
    }
    bopts.alertmanager = std::make_shared<const routing::Config>(std::move(am.config));
  }
  rules::RemoteQueryOptions ds = a.datasource;
  ds.timeout = *timeout;
  auto query = rules::remote_query(ds);
  if (!query) return fail_with(query.error().message);
  auto series = rules::remote_series(ds);
  if (!series) return fail_with(series.error().message);

  auto start = std::chrono::steady_clock::now();
  rules::BacktestResult r = rules::backtest(files, bopts, *query, *series);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (a.output == "json") {
    nlohmann::ordered_json out;
    out["evaluations"] = r.evaluations;
    out["failures"] = r.failures;
    out["errors"] = r.errors;
    auto& changes = out["changes"] = nlohmann::ordered_json::array();
    for (const auto& c : r.changes) {
      nlohmann::ordered_json labels = nlohmann::ordered_json::object();
      for (const auto& l : c.labels) labels[std::string(l.name)] = std::string(l.value);
      changes.push_back({{"time", format_rfc3339(c.at)},
                         {"state", c.state == rules::AlertState::kInactive ? "resolved"
                                                                            : std::string(alert_state_name(c.state))},
                         {"labels", std::move(labels)},
                         {"activeAt", format_rfc3339(c.active_at)},
                         {"file", c.file},
                         {"group", c.group}});
    }
    auto& sent = out["notifications"] = nlohmann::ordered_json::array();
    for (const auto& n : r.notifications) {
      sent.push_back({{"time", format_rfc3339(n.at)},
                      {"receiver", n.receiver},
                      {"integration", n.integration},
                      {"groupKey", n.group_key},
                      {"firing", n.firing},
                      {"resolved", n.resolved}});
    }
    std::cout << out.dump(2) << "\n";
  } else {
    for (const auto& c : r.changes) {
      std::string state = c.state == rules::AlertState::kInactive ? "resolved" : std::string(alert_state_name(c.state));
      std::cout << fmt::format("{}  {:<8}  {}  ({}: {})\n", format_rfc3339(c.at), state, labels_text(c.labels),
                               c.file, c.group);
    }
    for (const auto& n : r.notifications) {
      std::cout << fmt::format("{}  notify    {} ({}): {} firing, {} resolved  {}\n", format_rfc3339(n.at),
                               n.receiver, n.integration, n.firing, n.resolved, n.group_key);
    }
    for (const auto& e : r.errors) std::cerr << "rule failed: " << e << "\n";
    std::cerr << fmt::format("{} rule evaluations, {} failed, in {:.2f}s ({:.0f} evaluations/s)\n", r.evaluations,
                             r.failures, secs, secs > 0 ? static_cast<double>(r.evaluations) / secs : 0.0);
  }
  return r.failures > 0 ? 1 : 0;
}

}  // namespace

void register_rules_backtest(CLI::App& rules_cmd, int* exit_code) {
  auto a = std::make_shared<BacktestArgs>();
  auto* cmd = rules_cmd.add_subcommand(
      "backtest",
      "Replay alerting and recording rules over a Prometheus-compatible datasource's history and print\n"
      "when each alert would have been pending, firing and resolved. One instant query per rule and\n"
      "evaluation, at each instant of the group's schedule; recording rules' outputs feed later rules.");
  cmd->add_option("--datasource.url", a->datasource.url, "The Prometheus-compatible server to read")->required();
  cmd->add_option("--datasource.bearer-token-file", a->datasource.http.bearer_token_file,
                  "File holding a bearer token for the datasource");
  cmd->add_option("--datasource.timeout", a->timeout, "Timeout of one query")->capture_default_str();
  cmd->add_option("--from", a->from, "Start: RFC 3339 or Unix seconds")->required();
  cmd->add_option("--to", a->to, "End: RFC 3339 or Unix seconds")->required();
  cmd->add_option("--evaluation-interval", a->interval, "Interval of groups that set none")->capture_default_str();
  cmd->add_option("--output", a->output, "text or json")->capture_default_str();
  cmd->add_option("--alertmanager.config", a->alertmanager_config,
                  "An Alertmanager configuration: also print the notifications its routes, grouping and "
                  "timers would have sent, per receiver and integration");
  cmd->add_option("rule-files", a->files, "The rule files to replay")->required();
  cmd->callback([a, exit_code] { *exit_code = run_backtest(*a); });
}

}  // namespace vigil::cli
