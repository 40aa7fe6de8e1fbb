#include "rules/backtest.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "model/clock.h"
#include "model/timestamp.h"
#include "routing/router.h"
#include "rules/manager.h"
#include "rules/lookback.h"
#include "rules/schedule.h"
#include "storage/memory_store.h"

namespace vigil::rules {

namespace {

struct Replayed {
  const RuleFile* file;
  const RuleGroup* group;
  Millis interval;
  std::unique_ptr<GroupEvaluator> eval;
  int64_t next;
  // Per rule, each alert's last reported state, by label hash.
  std::vector<std::map<uint64_t, AlertState>> reported;
};

// Records what the router delivers, at the replay's time; every delivery
// succeeds.
class Recorder final : public routing::Notifier {
 public:
  Recorder(const Clock& clock, std::vector<BacktestNotification>& out) : clock_(clock), out_(out) {}
  void notify(const routing::Notification& n, std::function<void(bool)> done) override {
    BacktestNotification r{clock_.now(), n.receiver->name, n.integration->type, n.group_key, 0, 0};
    for (const auto& a : n.alerts) (a.resolved ? r.resolved : r.firing)++;
    out_.push_back(std::move(r));
    done(true);
  }

 private:
  const Clock& clock_;
  std::vector<BacktestNotification>& out_;
};

// The router of a replay, when there is an Alertmanager configuration.
struct ReplayRouter {
  ManualClock clock;
  Recorder recorder;
  routing::Router router;
  ReplayRouter(std::shared_ptr<const routing::Config> config, int64_t from, std::vector<BacktestNotification>& out)
      : clock(from), recorder(clock, out), router(std::move(config), clock, recorder, {}) {}
  // Runs every flush due up to t.
  void advance(int64_t t) {
    for (auto due = router.next_due(); due && *due <= t; due = router.next_due()) {
      clock.set(std::max(clock.now(), *due));
      router.run_due();
    }
    clock.set(std::max(clock.now(), t));
  }
  void send(const Replayed& g, int64_t ts) {
    GroupAlerts ga{g.file->path, g.group->name, {}, {}};
    for (size_t i = 0; i < g.group->rules.size(); ++i) {
      AlertingRule* r = g.eval->alerting(i);
      if (!r) continue;
      for (auto& a : r->alerts_to_send(ts, kDefaultResendDelay, g.interval)) {
        ga.alerts.push_back(std::move(a));
        ga.exprs.push_back(g.group->rules[i].expr);
      }
    }
    if (!ga.alerts.empty()) router.put_alerts(alerts_to_send(ga, SendOptions{}));
  }
};

}  // namespace

BacktestResult backtest(const std::vector<RuleFile>& files, const BacktestOptions& opts, const QueryFn& remote,
                        const SeriesReader& series) {
  BacktestResult out;
  storage::MemoryStore store;
  auto recorded = std::make_shared<std::set<std::string, std::less<>>>();
  std::vector<Replayed> groups;
  for (const auto& f : files) {
    for (const auto& g : f.groups) {
      for (const auto& r : g.rules) {
        if (!r.is_alert()) recorded->insert(r.name);
      }
      Replayed rg{&f, &g, g.interval.value_or(opts.evaluation_interval), nullptr, 0, {}};
      if (rg.interval <= 0) rg.interval = kMinute;
      EvalSettings settings;
      settings.query_offset = g.query_offset.value_or(0);
      settings.limit = g.limit;
      settings.group_labels = Labels(g.labels);
      rg.eval = std::make_unique<GroupEvaluator>(g, settings);
      // The group's own instants, as the daemon (and Prometheus) would run it.
      const Millis offset = group_offset(f.path, g.name, rg.interval);
      rg.next = tick_at_or_before(opts.from, offset, rg.interval);
      if (rg.next < opts.from) rg.next += rg.interval;
      rg.reported.resize(g.rules.size());
      groups.push_back(std::move(rg));
    }
  }
  // What the store keeps: the furthest any rule reads back, as the daemon.
  Millis keep = kHour;
  for (const auto& g : groups) {
    for (const auto& r : g.group->rules) {
      if (r.parsed) keep = std::max(keep, lookback(*r.parsed) + g.group->query_offset.value_or(0) + 2 * g.interval);
    }
  }
  QueryFn query = overlay_query(remote, series, store, [recorded](std::string_view n) { return recorded->contains(n); });
  std::unique_ptr<ReplayRouter> router;
  if (opts.alertmanager) router = std::make_unique<ReplayRouter>(opts.alertmanager, opts.from, out.notifications);
  for (;;) {
    Replayed* due = nullptr;
    for (auto& g : groups) {
      if (g.next <= opts.to && (!due || g.next < due->next)) due = &g;
    }
    if (!due) break;
    const int64_t ts = due->next;
    due->next += due->interval;
    if (router) router->advance(ts);
    due->eval->eval(ts, store, query);
    if (router) router->send(*due, ts);
    const auto& health = due->eval->health();
    for (size_t i = 0; i < due->group->rules.size(); ++i) {
      ++out.evaluations;
      if (!health[i].ok) {
        ++out.failures;
        if (out.errors.size() < 100) {
          out.errors.push_back(fmt::format("{}/{} at {}: {}", due->group->name, due->group->rules[i].name,
                                           format_rfc3339(ts), health[i].last_error));
        }
      }
      const AlertingRule* r = due->eval->alerting(i);
      if (!r) continue;
      auto& seen = due->reported[i];
      for (const Alert* a : r->alerts()) {
        auto [it, fresh] = seen.try_emplace(a->labels.hash(), AlertState::kInactive);
        if (it->second == a->state) continue;
        // A resolved alert is reported once; one never seen active is not.
        if (fresh && a->state == AlertState::kInactive) continue;
        it->second = a->state;
        out.changes.push_back(AlertChange{ts, due->file->path, due->group->name, a->labels, a->state, a->active_at});
      }
    }
    // Resolved alerts the rule has forgotten can become active again.
    for (size_t i = 0; i < due->group->rules.size(); ++i) {
      const AlertingRule* r = due->eval->alerting(i);
      if (!r) continue;
      std::set<uint64_t> kept;
      for (const Alert* a : r->alerts()) kept.insert(a->labels.hash());
      std::erase_if(due->reported[i], [&kept](const auto& kv) { return !kept.contains(kv.first); });
    }
    store.truncate_before(ts - keep);
  }
  if (router) router->advance(opts.to);
  return out;
}

}  // namespace vigil::rules
