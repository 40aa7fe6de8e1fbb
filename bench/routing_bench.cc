// Routing benchmark: 100 000 active alerts in 5 000 aggregation groups, a
// route tree of 200 routes, 1 000 silences and 50 inhibition rules.
//
//   ninja -C build vigil_routing_bench && build/bench/vigil_routing_bench [alerts]
//
// Reports routing throughput (route tree matching alone, and full ingestion:
// store merge, inhibition sources, grouping), the cost of flushing every
// group through the notify pipeline (inhibition, silences, dedup, log), and
// heap bytes per active alert.
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "model/clock.h"
#include "routing/config.h"
#include "routing/route.h"
#include "routing/router.h"

using namespace vigil;
using namespace vigil::routing;

namespace {

constexpr int kTeams = 20;
constexpr int kServices = 10;  // 9 with their own route, the 10th uses the team's
constexpr int kAlertnames = 25;
constexpr Millis kT0 = 1'700'000'000'000;

std::string make_config() {
  std::string y = "global:\n  resolve_timeout: 1h\nroute:\n  receiver: default\n"
                  "  group_by: [alertname, service]\n  group_wait: 30s\n  group_interval: 5m\n"
                  "  repeat_interval: 4h\n  routes:\n";
  for (int t = 0; t < kTeams; ++t) {
    y += fmt::format("  - matchers: ['team=\"team-{}\"']\n    receiver: team-{}\n    routes:\n", t, t);
    for (int s = 0; s < kServices - 1; ++s)
      y += fmt::format("    - match_re: {{service: 'svc-{}|svc-{}-canary'}}\n      receiver: team-{}\n", s, s, t);
  }
  y += "receivers:\n- name: default\n  webhook_configs: [{url: http://hook.invalid/}]\n";
  for (int t = 0; t < kTeams; ++t)
    y += fmt::format("- name: team-{}\n  webhook_configs: [{{url: http://hook.invalid/{}}}]\n", t, t);
  y += "inhibit_rules:\n";
  for (int i = 0; i < 50; ++i)
    y += fmt::format("- source_matchers: [severity=\"critical\", alertname=\"alert-{}\"]\n"
                     "  target_matchers: [severity=\"warning\"]\n  equal: [team, service, instance]\n",
                     i % kAlertnames);
  return y;
}

Alert make_alert(int i) {
  const int group = i % (kTeams * kServices * kAlertnames);
  const int instance = i / (kTeams * kServices * kAlertnames);
  const int team = group % kTeams, service = group / kTeams % kServices, name = group / (kTeams * kServices);
  Alert a;
  a.labels = Labels{{"alertname", fmt::format("alert-{}", name)},
                    {"team", fmt::format("team-{}", team)},
                    {"service", fmt::format("svc-{}", service)},
                    {"instance", fmt::format("10.0.{}.{}:9100", instance / 250, instance % 250)},
                    {"job", "node"},
                    {"severity", i % 1000 == 0 ? "critical" : "warning"},
                    {"cluster", "eu-west-1"}};
  a.annotations = {{"description", "A longer text about what is wrong and what to do."},
                   {"summary", "Something is wrong"}};
  a.starts_at = kT0;
  a.generator_url = "http://prometheus:9090/graph?g0.expr=up";
  return a;
}

class CountingNotifier : public Notifier {
 public:
  void notify(const Notification& n, std::function<void(bool)> done) override {
    ++notifications;
    alerts += n.alerts.size();
    done(true);
  }
  size_t notifications = 0, alerts = 0;
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

size_t heap_in_use() { return mallinfo2().uordblks; }

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 100'000;
  LoadResult loaded = parse_config(make_config());
  if (!loaded.ok()) {
    std::fprintf(stderr, "config: %s\n", format_error("", loaded.errors[0]).c_str());
    return 1;
  }
  auto config = std::make_shared<const Config>(std::move(loaded.config));
  int routes = -1;
  auto root = Route::build(config->route);
  root->walk([&](const Route&) { ++routes; });

  std::vector<Alert> alerts;
  alerts.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) alerts.push_back(make_alert(i));

  // Routing alone: the tree walk every alert goes through.
  std::vector<const Route*> out;
  size_t matched = 0;
  auto t = std::chrono::steady_clock::now();
  for (int rep = 0; rep < 5; ++rep)
    for (const Alert& a : alerts) {
      out.clear();
      root->match(a.labels, out);
      matched += out.size();
    }
  const double route_rate = 5.0 * n / seconds_since(t);

  ManualClock clock(kT0);
  CountingNotifier notifier;
  Router router(config, clock, notifier, {});
  // Each silence mutes one alert: 1% of them.
  for (int i = 0; i < 1000; ++i) {
    const Labels& target = alerts[static_cast<size_t>(i * 97 % n)].labels;
    Silence s;
    s.matchers = {*make_matcher(MatchType::kEqual, "instance", std::string(target.get("instance"))),
                  *make_matcher(MatchType::kEqual, "alertname", std::string(target.get("alertname"))),
                  *make_matcher(MatchType::kEqual, "team", std::string(target.get("team"))),
                  *make_matcher(MatchType::kRegex, "service", std::string(target.get("service")) + "|none")};
    s.ends_at = kT0 + kDay;
    if (!router.silences().set(s)) return 1;
  }

  // Everything allocated from here on that stays is owed to the active
  // alerts: the alerts themselves (labels, annotations), the store, the
  // groups and the inhibition index.
  alerts.clear();
  alerts.shrink_to_fit();
  const size_t heap_before = heap_in_use();
  for (int i = 0; i < n; ++i) alerts.push_back(make_alert(i));
  t = std::chrono::steady_clock::now();
  router.put_alerts(std::move(alerts));
  const double ingest_s = seconds_since(t);
  alerts = {};
  const size_t heap_after = heap_in_use();

  clock.advance(30 * kSecond);
  t = std::chrono::steady_clock::now();
  const size_t flushes = router.run_due();
  const double flush_s = seconds_since(t);

  // The second round: nothing changed, the log says so for every group.
  clock.advance(5 * kMinute);
  t = std::chrono::steady_clock::now();
  const size_t quiet = router.run_due();
  const double quiet_s = seconds_since(t);

  std::printf("alerts %d, groups %zu, routes %d, silences %zu, inhibit rules %zu\n", n,
              router.group_count(), routes, router.silences().list().size(), config->inhibit_rules.size());
  std::printf("routing (tree match only): %.2f M alerts/s (%zu matches)\n", route_rate / 1e6, matched / 5);
  std::printf("ingestion (validation, store, inhibition, grouping): %.2f M alerts/s (%.1f ms)\n", n / ingest_s / 1e6,
              ingest_s * 1e3);
  std::printf("first flush of every group: %zu flushes in %.1f ms = %.1f us/group, %zu notifications, "
              "%zu alerts sent (%zu inhibited or silenced)\n",
              flushes, flush_s * 1e3, flush_s * 1e6 / static_cast<double>(flushes), notifier.notifications,
              notifier.alerts, static_cast<size_t>(n) - notifier.alerts);
  std::printf("unchanged flush (dedup only): %zu flushes in %.1f ms = %.1f us/group, %zu notifications\n", quiet,
              quiet_s * 1e3, quiet_s * 1e6 / static_cast<double>(quiet), notifier.notifications);
  std::printf("heap per active alert: %.0f bytes\n",
              static_cast<double>(heap_after - heap_before) / static_cast<double>(n));
  return 0;
}
