// vigil notify test: sends one test notification through each integration of
// a receiver and says, per integration, whether it was delivered and if not why.
#include <chrono>
#include <future>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/routing_flags.h"
#include "model/clock.h"
#include "model/duration.h"
#include "notifiers/delivery.h"
#include "routing/config.h"

namespace vigil::cli {

namespace {

struct NotifyTestArgs {
  std::string config_file;
  std::string features;
  std::string receiver;
  std::vector<std::string> labels;
  std::string external_url = "http://localhost:9093";
  std::string timeout = "30s";
  bool resolved = false;
  bool verbose = false;
  bool dry_run = false;
};

// What a dry run shows of one integration: each request it would make.
void print_dry_run(const std::vector<notifiers::DryRunRequest>& requests) {
  for (const auto& r : requests) {
    std::cout << fmt::format("  {} {}\n", r.method, r.url);
    for (const auto& h : r.headers) std::cout << "  " << h << "\n";
    std::cout << "\n";
    std::string body = r.body;
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
    if (!body.empty()) {
      // Indented, line by line (an email's CRLF lines included).
      size_t start = 0;
      while (start <= body.size()) {
        size_t end = body.find('\n', start);
        std::string_view line(body.data() + start, (end == std::string::npos ? body.size() : end) - start);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        std::cout << "    " << line << "\n";
        if (end == std::string::npos) break;
        start = end + 1;
      }
      std::cout << "\n";
    }
  }
}

int fail_with(const std::string& message) {
  std::cerr << "vigil: error: " << message << "\n";
  return 1;
}

int run(const NotifyTestArgs& a) {
  if (a.config_file.empty()) return fail_with("--config.file is required");
  if (a.receiver.empty()) return fail_with("--receiver is required");
  routing::LoadOptions opts;
  if (!apply_features(a.features, opts, std::cerr)) return 1;
  auto timeout = parse_duration(a.timeout);
  if (!timeout || *timeout <= 0)
    return fail_with(fmt::format("--timeout: expected a positive duration such as 30s, got {:?}", a.timeout));

  routing::LoadResult r = routing::load_config(a.config_file, opts);
  if (!r.ok()) {
    for (const auto& e : r.errors) std::cerr << format_error(a.config_file, e) << "\n";
    return 1;
  }
  auto config = std::make_shared<const routing::Config>(std::move(r.config));
  const routing::ReceiverConfig* receiver = config->receiver(a.receiver);
  if (receiver == nullptr) {
    std::string names;
    for (const auto& rc : config->receivers) names += (names.empty() ? "" : ", ") + rc.name;
    return fail_with(fmt::format("no receiver named {:?} in {} (receivers: {})", a.receiver, a.config_file, names));
  }
  if (receiver->integrations.empty())
    return fail_with(fmt::format("receiver {:?} has no integrations to test", a.receiver));

  LabelsBuilder lb;
  for (const std::string& l : a.labels) {
    size_t eq = l.find('=');
    if (eq == std::string::npos || eq == 0)
      return fail_with(fmt::format("label {:?}: expected name=value", l));
    lb.set(l.substr(0, eq), l.substr(eq + 1));
  }
  Labels labels = lb.build();
  if (!labels.has("alertname")) labels = LabelsBuilder(labels).set("alertname", "VigilTestNotification").build();

  SystemClock clock;
  const Millis now = clock.now();
  auto alert = std::make_shared<routing::Alert>();
  alert->labels = labels;
  alert->annotations = {{"description", "vigil notify test checks that this receiver can be reached."},
                        {"summary", "Test notification from vigil"}};
  alert->starts_at = now - kSecond;
  alert->ends_at = a.resolved ? now : 0;
  alert->updated_at = now;

  notifiers::DeliveryOptions dopts;
  dopts.workers = std::max<size_t>(2, receiver->integrations.size());
  dopts.max_in_flight_per_integration = 1;
  dopts.external_url = a.external_url;
  dopts.log = a.verbose ? notifiers::stderr_log(notifiers::LogLevel::kDebug) : [](notifiers::LogLevel, std::string_view) {};
  notifiers::DryRun dry_run;
  if (a.dry_run) dopts.dry_run = &dry_run;
  notifiers::Delivery delivery(clock, dopts);

  struct Result {
    notifiers::DeliveryOutcome outcome;
    long long ms = 0;
  };
  struct Pending {
    const routing::IntegrationConfig* integration;
    std::future<Result> result;
  };
  std::vector<Pending> pending;
  for (const auto& ic : receiver->integrations) {
    routing::Notification n;
    n.config = config;
    n.receiver = receiver;
    n.integration = &ic;
    n.group_labels = labels;
    n.group_key = "{}/vigil-notify-test:" + labels.to_string();
    n.alerts.push_back(routing::FlushedAlert{alert, a.resolved});
    n.now = now;
    n.deadline = now + *timeout;
    n.flush_id = 1;
    auto p = std::make_shared<std::promise<Result>>();
    pending.push_back({&ic, p->get_future()});
    auto start = std::chrono::steady_clock::now();
    delivery.deliver(n, [p, start](const notifiers::DeliveryOutcome& o) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
      p->set_value(Result{o, static_cast<long long>(ms.count())});
    });
  }

  int failed = 0;
  for (auto& p : pending) {
    Result res = p.result.get();
    const notifiers::DeliveryOutcome& o = res.outcome;
    const long long ms = res.ms;
    std::string name = fmt::format("{}/{}[{}]", receiver->name, p.integration->type, p.integration->index);
    if (a.dry_run) {
      std::vector<notifiers::DryRunRequest> mine;
      for (auto& r : dry_run.requests())
        if (r.integration == p.integration) mine.push_back(std::move(r));
      if (o.delivered) {
        std::cout << fmt::format("{}: would send {} request{}\n", name, mine.size(), mine.size() == 1 ? "" : "s");
      } else {
        ++failed;
        std::cout << fmt::format("{}: FAILED ({}): {}\n", name, notifiers::reason_name(o.reason), o.error);
      }
      print_dry_run(mine);
      continue;
    }
    if (o.delivered) {
      std::cout << fmt::format("{}: delivered ({} attempt{}, {}ms)\n", name, o.attempts, o.attempts == 1 ? "" : "s", ms);
    } else {
      ++failed;
      std::cout << fmt::format("{}: FAILED after {} attempt{} ({}): {}\n", name, o.attempts,
                               o.attempts == 1 ? "" : "s", notifiers::reason_name(o.reason), o.error);
    }
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace

void register_notify_test(CLI::App& notify, int* exit_code) {
  auto* cmd = notify.add_subcommand(
      "test",
      "Send a test notification through every integration of a receiver and report, per\n"
      "integration, whether it was delivered or the error that stopped it. Failures are\n"
      "retried as in normal operation until --timeout. Exit code 0 when all were delivered.");
  auto a = std::make_shared<NotifyTestArgs>();
  cmd->add_option("--config.file", a->config_file, "The Alertmanager configuration file")->required();
  add_feature_flag(*cmd, a->features);
  cmd->add_option("--receiver", a->receiver, "The receiver to test")->required();
  cmd->add_option("--external.url", a->external_url, "The URL templates show as .ExternalURL");
  cmd->add_option("--timeout", a->timeout, "How long to keep retrying each integration (default 30s)");
  cmd->add_flag("--resolved", a->resolved, "Send the test alert as resolved");
  cmd->add_flag("--verbose", a->verbose, "Log every attempt to standard error");
  cmd->add_flag("--dry-run", a->dry_run,
                "Send nothing: print what each integration would send (method, URL, headers, body; secrets as "
                "<secret>)");
  cmd->add_option("labels", a->labels, "Labels of the test alert, as name=value (alertname defaults to VigilTestNotification)");
  cmd->callback([a, exit_code] { *exit_code = run(*a); });
}

}  // namespace vigil::cli
