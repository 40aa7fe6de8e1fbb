#pragma once

// Evaluating rules: recording rules write new series, alerting rules keep
// alert state (inactive -> pending -> firing, keep_firing_for, resolved alerts
// kept 15 minutes), and a group evaluates its rules in order, writing each
// rule's output into the store at the instant it read (the evaluation time less
// the query offset, as Prometheus stamps it) so later rules of the
// same evaluation see it, and marking series that disappeared as stale.
//
// Time is whatever the caller passes: tests drive evaluations at chosen
// instants, the daemon at its interval.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/http_config.h"
#include "model/duration.h"
#include "model/error.h"
#include "model/labels.h"
#include "model/matcher.h"
#include "promql/ast.h"
#include "promql/engine.h"
#include "promql/value.h"
#include "rules/rule_file.h"
#include "storage/memory_store.h"
#include "templates/prometheus.h"

namespace vigil::rules {

// Runs a rule's expression at time t (ms): the in-process engine, or a remote
// Prometheus. A scalar result is a one-element vector without labels.
using QueryFn = std::function<Result<promql::Vector>(const promql::Expr& expr, int64_t t)>;

// A QueryFn over the in-process engine and store.
QueryFn engine_query(const storage::MemoryStore& store, const promql::EngineOptions& opts = {});

// Where remote_query sends its queries, and how.
struct RemoteQueryOptions {
  std::string url;  // a Prometheus-compatible server; /api/v1/query is appended
  config::HttpClientSettings http;
  Millis timeout = 2 * kMinute;
};
// A QueryFn through a remote server's /api/v1/query (sidecar mode): a failed
// or refused query is a failed rule, with the server's message.
Result<QueryFn> remote_query(const RemoteQueryOptions& opts);

// Raw samples of one series, oldest first.
struct RemoteSeries {
  Labels labels;  // __name__ included
  std::vector<int64_t> t;  // ms, ascending
  std::vector<double> v;
  // Empty when every point is a float; otherwise parallel to `t`, a set
  // entry making that point a native histogram (its `v` is then 0).
  std::vector<HistogramPtr> h = {};
};
// Reads the raw samples in (from, to] of the series matching `matchers`:
// how a fresh start finds the `for` timers a previous evaluator left in the
// datasource (ALERTS_FOR_STATE), and how rules that read series vigil
// records get the datasource's series they combine them with.
using SeriesReader =
    std::function<Result<std::vector<RemoteSeries>>(const std::vector<Matcher>& matchers, int64_t from, int64_t to)>;
// A SeriesReader through a remote server's /api/v1/query (a range
// selector's raw samples). The API leaves out staleness markers: a series
// that ended within the window still shows its last sample, where Prometheus
// reading its own TSDB sees the marker.
Result<SeriesReader> remote_series(const RemoteQueryOptions& opts);

// Sidecar mode's query for a rule that reads a series vigil records
// (`recorded` says which metric names those are): such a rule runs on the
// in-process engine over `store`, which holds what vigil's rules wrote (at
// the evaluation time, so a rule sees what an earlier rule of its group
// wrote in the same round), after the datasource's series for its other
// selectors are copied in for the window the expression reads. Any other
// rule goes to `remote` unchanged. Called with the store held exclusively.
QueryFn overlay_query(QueryFn remote, SeriesReader series, storage::MemoryStore& store,
                      std::function<bool(std::string_view name)> recorded);

enum class AlertState { kInactive, kPending, kFiring };

// Prometheus' --rules.alert.resend-delay default.
constexpr Millis kDefaultResendDelay = kMinute;
std::string_view alert_state_name(AlertState s);  // "inactive", "pending", "firing"

struct Alert {
  Labels labels;        // includes alertname
  Labels annotations;
  AlertState state = AlertState::kPending;
  double value = 0;
  int64_t active_at = 0;   // ms; when the condition first held
  int64_t fired_at = 0;    // ms; 0 if never fired
  int64_t resolved_at = 0; // ms; 0 while active
  int64_t keep_firing_since = 0;
  bool sent = false;        // handed on at least once
  int64_t last_sent_at = 0;
  int64_t valid_until = 0;
};

// An alert as it is handed to the dispatcher (or an Alertmanager): startsAt
// is when it fired; endsAt is when it resolved, or, while it fires, how long
// it stays valid without a resend.
struct OutgoingAlert {
  Labels labels;
  Labels annotations;
  int64_t starts_at = 0;  // ms
  int64_t ends_at = 0;    // ms
  bool resolved = false;
};

// Evaluation settings shared by a group's rules.
struct EvalSettings {
  Millis query_offset = 0;
  int64_t limit = 0;  // 0: none
  Labels external_labels;
  std::string external_url;
  Labels group_labels;  // added to every rule's output; rule labels win
};

// Label and annotation values are templates, parsed once here and expanded
// for each output sample as Prometheus does: with $labels (the sample's
// labels), $value, $externalLabels, $externalURL, and the template function
// `query` running through the rule's QueryFn at the evaluation time. A value
// that fails to expand becomes "<error expanding template: ...>".
class AlertingRule {
 public:
  explicit AlertingRule(const Rule& rule);

  // Evaluates at ts (ms), updating alert state. Returns the ALERTS and
  // ALERTS_FOR_STATE samples for the store.
  Result<promql::Vector> eval(int64_t ts, const EvalSettings& settings, const QueryFn& query);

  const Rule& rule() const { return *rule_; }
  // Alerts not inactive, and resolved ones still kept, ordered by labels.
  std::vector<const Alert*> alerts() const;

  // The alerts to send after the evaluation at ts, by Prometheus' rules:
  // pending alerts never; an alert resolved since it was last sent, at once;
  // any other firing or resolved alert once resend_delay has passed since its
  // last send. Each one sent is valid for 4 x max(resend_delay, interval),
  // so that two missed evaluations or sends do not resolve it.
  std::vector<OutgoingAlert> alerts_to_send(int64_t ts, Millis resend_delay, Millis interval);

  // The alert state, for persistence across restarts, and back: restore
  // replaces the state (pending timers keep their active_at).
  std::vector<Alert> state() const;
  void restore(const std::vector<Alert>& alerts);

 private:
  // One value of the rule's labels or annotations: plain text, or a template.
  struct Text {
    std::string name;
    std::string plain;
    std::optional<templates::AlertTemplate> tmpl;
  };
  std::string expand(const Text& t, const templates::AlertTemplateData& data) const;

  const Rule* rule_;
  std::vector<Text> labels_, annotations_;
  bool has_templates_ = false;
  std::map<uint64_t, Alert> active_;  // by label-set hash
};

// Evaluates a recording rule at ts: its output samples, renamed and labelled.
Result<promql::Vector> eval_recording_rule(const Rule& rule, const EvalSettings& settings, int64_t ts,
                                           const QueryFn& query);

// How one rule fared in its last evaluation.
struct RuleHealth {
  bool ok = true;  // false: the last evaluation failed
  std::string last_error;
  int64_t last_eval = 0;  // ms
  double last_duration_seconds = 0;
  size_t samples = 0;  // series the last evaluation wrote (ALERTS and ALERTS_FOR_STATE for alerting rules)
};

// A group of rules evaluated in order against a store.
class GroupEvaluator {
 public:
  GroupEvaluator(const RuleGroup& group, EvalSettings settings);

  // Evaluates every rule at ts, writing outputs into `store`. With
  // `appended`, the samples the store accepted (stale markers included) are
  // added to it, for remote write.
  void eval(int64_t ts, storage::MemoryStore& store, const QueryFn& query, promql::Vector* appended = nullptr);

  const RuleGroup& group() const { return group_; }
  const std::vector<RuleHealth>& health() const { return health_; }
  // The alerting rule at rule index i, or nullptr for a recording rule.
  const AlertingRule* alerting(size_t i) const;
  AlertingRule* alerting(size_t i);
  // Every alerting rule's alerts_to_send, in rule order.
  std::vector<OutgoingAlert> alerts_to_send(int64_t ts, Millis resend_delay, Millis interval);

 private:
  const RuleGroup& group_;
  EvalSettings settings_;
  std::vector<std::optional<AlertingRule>> alerting_;
  std::vector<RuleHealth> health_;
  std::vector<std::vector<Labels>> previous_;  // series each rule wrote last time
};

}  // namespace vigil::rules
