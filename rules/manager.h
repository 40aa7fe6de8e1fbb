#pragma once

// The rule manager of the daemon: loads rule files, evaluates each group at
// its interval on a fixed per-group offset, hands the alerts to send to a
// sink (the in-process router, external Alertmanagers), keeps every rule's
// health, and saves and restores alert state so a restart restarts no `for`
// timer.
//
// Time is read from the clock; nothing here sleeps or starts threads. The
// owner calls run_due() when next_due() has come. All methods are
// thread-safe.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

#include "config/relabel.h"
#include "model/clock.h"
#include "model/duration.h"
#include "model/error.h"
#include "routing/alert.h"
#include "rules/evaluation.h"
#include "rules/rule_file.h"
#include "storage/memory_store.h"

namespace vigil::rules {

struct ManagerOptions {
  Millis evaluation_interval = kMinute;  // groups without their own interval
  Millis query_offset = 0;               // groups without their own query_offset
  Millis resend_delay = kDefaultResendDelay;
  Labels external_labels;
  std::string external_url;
  // Restoring `for` timers on a fresh start (Prometheus'
  // --rules.alert.for-grace-period and --rules.alert.for-outage-tolerance).
  Millis for_grace_period = 10 * kMinute;
  Millis outage_tolerance = kHour;
  // Told what each group's restore from the backend did ("2 alerts
  // restored") or why it failed; called with the group's lock held, so it
  // must not call back into the manager. Empty: nobody is told.
  std::function<void(const std::string& group, bool ok, const std::string& what)> on_restore;
};

// Where evaluations read and write: the store that receives recording-rule
// output and ALERTS series (held exclusively while a group evaluates), and
// the query function rules run through (the engine over that store, or a
// remote Prometheus).
struct EvalBackend {
  storage::MemoryStore* store = nullptr;
  std::shared_mutex* store_mu = nullptr;
  QueryFn query;
  // Sidecar mode: the datasource's raw series, where a fresh start reads the
  // `for` state of groups it has no local state for, and where rules that
  // read series vigil records find the others (overlay_query). Empty: rules
  // run on `query` alone and no `for` state is read.
  SeriesReader series = nullptr;
};

// Prometheus' restore of a `for` timer from the last ALERTS_FOR_STATE
// sample (written at `down_at` ms, holding activeAt in seconds) at `now`,
// for an alert that holds `hold` before firing. Both instants are taken in
// whole seconds, as Prometheus does. An alert that was already firing keeps
// its activeAt; one with less than `grace` left gets `grace` from now; any
// other one resumes where it stopped: the time it was down is added to
// activeAt.
int64_t restored_active_at(Millis hold, Millis grace, int64_t now, int64_t down_at, double active_at_seconds);

// The alerts a group's evaluation wants sent, with where they come from.
struct GroupAlerts {
  std::string file;
  std::string group;
  std::vector<OutgoingAlert> alerts;
  // Per alert, the expression of the rule that produced it (for generatorURL).
  std::vector<std::string> exprs;
};
using AlertSink = std::function<void(GroupAlerts&&)>;

// How a group's alerts become the alerts sent to Alertmanagers (Prometheus'
// SendAlerts): external labels added where the alert lacks them,
// alert_relabel_configs applied (an alert they drop is not sent), and a
// generator URL pointing at the expression on `external_url`.
struct SendOptions {
  Labels external_labels;
  std::vector<config::RelabelConfig> relabel;
  std::string external_url;
};
std::vector<routing::Alert> alerts_to_send(const GroupAlerts& g, const SendOptions& opts);

// A read-only picture of a group, for the rules and alerts APIs.
struct RuleStatus {
  const Rule* rule = nullptr;  // valid while the GroupStatus' file is held
  RuleHealth health;
  std::vector<Alert> alerts;  // alerting rules: pending, firing and kept resolved ones
};
struct GroupStatus {
  std::shared_ptr<const RuleFile> file;  // keeps the rules alive
  const RuleGroup* group = nullptr;
  Millis interval = 0;
  Millis query_offset = 0;
  int64_t last_eval = 0;  // ms; 0 before the first
  double last_duration_seconds = 0;
  uint64_t evaluations = 0, missed = 0, failures = 0;
  // Set when reading the `for` state at a fresh start failed (the rule and
  // the error): those timers start from scratch, as in Prometheus.
  std::string restore_error;
  std::vector<RuleStatus> rules;
};

class RuleManager {
 public:
  RuleManager(const Clock& clock, ManagerOptions opts, EvalBackend backend, AlertSink sink);
  ~RuleManager();

  // Loads `files` and swaps them in. Groups keep their alert state when a
  // group of the same file and name has a rule of the same name and
  // expression. When any file fails, nothing changes and every error is
  // returned, prefixed with its file.
  std::vector<std::string> load(const std::vector<std::string>& files, ManagerOptions opts,
                                const LoadOptions& load_opts = {});
  void set_backend(EvalBackend backend);
  // Called after each group's evaluation with the samples it wrote that the
  // store accepted, stale markers included (remote write takes them), with
  // the store's lock released. It must not wait: evaluation waits for it.
  using AppendedFn = std::function<void(const promql::Vector&)>;
  void set_on_appended(AppendedFn fn);

  // When the next group is due; nullopt without groups.
  std::optional<Millis> next_due() const;
  // Evaluates every group that is due, at its scheduled instant (the latest
  // one not after now: evaluations missed while the process was busy or
  // stopped are skipped and counted). Returns how many groups ran.
  size_t run_due();

  std::vector<GroupStatus> status() const;
  size_t group_count() const;
  size_t rule_count() const;

  // Alert state as JSON, and back; restore applies to the groups loaded now
  // (call it after load) and skips state of rules that no longer exist.
  //
  // The groups of the first load that restore() finds no state for read
  // their `for` timers from the backend's for_state reader instead, as
  // Prometheus restores from its TSDB: after their second evaluation, for
  // alerting rules whose `for` is at least the grace period, from the
  // series written within the outage tolerance.
  std::string snapshot() const;
  Result<void> restore(std::string_view json);
  // Counts evaluations: a daemon saves state when it moved.
  uint64_t version() const;

  // The instants a group of this interval and identity is evaluated at:
  // t with (t - offset) % interval == 0, as Prometheus spreads groups
  // (rules/schedule.h).
  static Millis offset_of(const std::string& file, const std::string& group, Millis interval);

 private:
  struct Group;
  // Evaluates one group at ts; returns the alerts it sends.
  GroupAlerts eval_group(Group& g, int64_t ts);
  // What rules run through: the backend's query, or in sidecar mode, for
  // rules reading series vigil records, overlay_query.
  QueryFn rule_query() const;
  // Reads the group's `for` state through the backend (its mu held).
  void restore_for_state(Group& g, int64_t now);

  // Lock order: eval_mu_, then mu_, then a group's mu, then the store's
  // (EvalBackend::store_mu); never the other way round. The sink is called
  // with none of them held (run_due hands alerts on after the round).

  // Constant after construction.
  const Clock& clock_;
  const AlertSink sink_;

  // One evaluation round, load, restore or backend change at a time.
  std::mutex eval_mu_;
  // Guards the schedule and the fields below, with eval_mu_ for writers:
  // they are written with both held, so either one is enough to read them.
  mutable std::mutex mu_;
  ManagerOptions opts_;
  EvalBackend backend_;
  AppendedFn on_appended_;
  std::vector<std::shared_ptr<const RuleFile>> files_;
  std::vector<std::unique_ptr<Group>> groups_;  // each group's fields say what guards them
  uint64_t version_ = 0;                        // mu_ only
  bool loaded_ = false;                         // a load() succeeded
  // The metric names the loaded recording rules write.
  std::shared_ptr<const std::set<std::string, std::less<>>> recorded_;
  QueryFn query_;  // rule_query() of the backend and rules above
};

}  // namespace vigil::rules
