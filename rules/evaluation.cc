#include "rules/evaluation.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "promql/engine.h"
#include "promql/parser.h"

namespace vigil::rules {

namespace {

// Prometheus keeps resolved alerts this long so they are sent as resolved.
constexpr Millis kResolvedRetention = 15 * kMinute;

bool has_duplicates(const promql::Vector& v) {
  // Equal hashes first, in a sorted array (a hash set allocated per sample).
  std::vector<uint64_t> hashes;
  hashes.reserve(v.size());
  for (const auto& s : v) hashes.push_back(s.labels.hash());
  std::sort(hashes.begin(), hashes.end());
  if (std::adjacent_find(hashes.begin(), hashes.end()) == hashes.end()) return false;
  for (size_t i = 0; i < v.size(); ++i)
    for (size_t j = i + 1; j < v.size(); ++j)
      if (v[i].labels == v[j].labels) return true;
  return false;
}

// The template function `query`, run through the rule's QueryFn.
templates::QueryFn template_query(const QueryFn& query) {
  return [&query](std::string_view text, Millis at) -> Result<templates::QueryResult> {
    auto expr = promql::parse_expr(text);
    if (!expr) return fail(promql::format_parse_error(expr.error()));
    auto v = query(**expr, at);
    if (!v) return std::unexpected(v.error());
    templates::QueryResult out;
    out.reserve(v->size());
    for (auto& s : *v) out.push_back({std::move(s.labels), s.value});
    return out;
  };
}

}  // namespace

std::string_view alert_state_name(AlertState s) {
  switch (s) {
    case AlertState::kInactive: return "inactive";
    case AlertState::kPending: return "pending";
    case AlertState::kFiring: return "firing";
  }
  return "";
}

QueryFn engine_query(const storage::MemoryStore& store, const promql::EngineOptions& opts) {
  return [&store, engine = promql::Engine(opts)](const promql::Expr& expr, int64_t t) -> Result<promql::Vector> {
    auto res = engine.instant(store, expr, t);
    if (!res) return std::unexpected(res.error());
    if (auto* v = std::get_if<promql::Vector>(&res->value)) return std::move(*v);
    if (auto* s = std::get_if<promql::Scalar>(&res->value)) return promql::Vector{promql::Sample{{}, s->value, t}};
    return fail("rule result is not a vector or scalar");
  };
}

Result<promql::Vector> eval_recording_rule(const Rule& rule, const EvalSettings& settings, int64_t ts,
                                           const QueryFn& query) {
  auto res = query(*rule.parsed, ts - settings.query_offset);
  if (!res) return res;
  for (auto& s : *res) {
    LabelsBuilder b(s.labels);
    b.set("__name__", rule.name);
    for (const auto& l : settings.group_labels) b.set(l.name, l.value);
    for (const auto& l : rule.labels) b.set(l.name, l.value);
    s.labels = b.build();
    s.t = ts;
  }
  if (has_duplicates(*res)) return fail("vector contains metrics with the same labelset after applying rule labels");
  if (settings.limit > 0 && static_cast<int64_t>(res->size()) > settings.limit) {
    return fail(fmt::format("exceeded limit of {} with {} series", settings.limit, res->size()));
  }
  return res;
}

AlertingRule::AlertingRule(const Rule& rule) : rule_(&rule) {
  auto texts = [&](const std::vector<Label>& items, std::vector<Text>& out) {
    for (const auto& l : items) {
      Text t{l.name, l.value, std::nullopt};
      if (l.value.find("{{") != std::string::npos) {
        t.tmpl.emplace(rule.name, l.value);
        has_templates_ = true;
      }
      out.push_back(std::move(t));
    }
  };
  texts(rule.labels, labels_);
  texts(rule.annotations, annotations_);
}

std::string AlertingRule::expand(const Text& t, const templates::AlertTemplateData& data) const {
  if (!t.tmpl) return t.plain;
  auto r = t.tmpl->expand(data);
  return r ? std::move(*r) : fmt::format("<error expanding template: {}>", r.error().message);
}

Result<promql::Vector> AlertingRule::eval(int64_t ts, const EvalSettings& settings, const QueryFn& query) {
  const Rule& rule = *rule_;
  auto res = query(*rule.parsed, ts - settings.query_offset);
  if (!res) return std::unexpected(res.error());

  // One candidate alert per output sample, with expanded labels and annotations.
  std::map<uint64_t, Alert> current;
  // What templates see; filled only when the rule has templates.
  templates::AlertTemplateData data;
  if (has_templates_) {
    data.external_labels = settings.external_labels;
    data.external_url = settings.external_url;
    data.eval_time = ts;
    data.query = template_query(query);
  }
  for (const auto& smpl : *res) {
    if (has_templates_) {
      data.labels = smpl.labels;
      data.value = smpl.value;
    }
    LabelsBuilder lb(smpl.labels);
    lb.del("__name__");
    for (const auto& l : settings.group_labels) lb.set(l.name, l.value);
    for (const auto& l : labels_) lb.set(l.name, expand(l, data));
    lb.set("alertname", rule.name);
    std::vector<Label> annotations;
    for (const auto& a : annotations_) annotations.push_back({a.name, expand(a, data)});
    Labels labels = lb.build();
    uint64_t h = labels.hash();
    if (current.contains(h)) {
      return fail("vector contains metrics with the same labelset after applying alert labels");
    }
    Alert a;
    a.labels = std::move(labels);
    a.annotations = Labels(annotations);
    a.state = AlertState::kPending;
    a.value = smpl.value;
    a.active_at = ts;
    current.emplace(h, std::move(a));
  }
  for (auto& [h, a] : current) {
    auto it = active_.find(h);
    if (it != active_.end() && it->second.state != AlertState::kInactive) {
      it->second.value = a.value;
      it->second.annotations = std::move(a.annotations);
      continue;
    }
    active_[h] = std::move(a);
  }

  promql::Vector out;
  int64_t active_or_pending = 0;
  for (auto it = active_.begin(); it != active_.end();) {
    Alert& a = it->second;
    bool firing_now = current.contains(it->first);
    bool keep_firing = false;
    if (!firing_now) {
      if (a.state == AlertState::kFiring && rule.keep_firing_for > 0) {
        if (a.keep_firing_since == 0) a.keep_firing_since = ts;
        keep_firing = ts - a.keep_firing_since < rule.keep_firing_for;
      }
      bool drop = a.state == AlertState::kPending ||
                  (a.resolved_at != 0 && ts - a.resolved_at > kResolvedRetention);
      if (a.state != AlertState::kInactive && !keep_firing) {
        a.state = AlertState::kInactive;
        a.resolved_at = ts;
      }
      if (drop) {
        it = active_.erase(it);
        continue;
      }
      if (!keep_firing) {
        ++it;
        continue;
      }
    } else {
      a.keep_firing_since = 0;
    }
    ++active_or_pending;
    if (a.state == AlertState::kPending && ts - a.active_at >= rule.for_duration) {
      a.state = AlertState::kFiring;
      a.fired_at = ts;
    }
    Labels alerts_labels = LabelsBuilder(a.labels)
                               .set("__name__", "ALERTS")
                               .set("alertstate", alert_state_name(a.state))
                               .build();
    out.push_back(promql::Sample{std::move(alerts_labels), 1, ts});
    out.push_back(promql::Sample{LabelsBuilder(a.labels).set("__name__", "ALERTS_FOR_STATE").build(),
                                 static_cast<double>(a.active_at / 1000), ts});
    ++it;
  }
  if (settings.limit > 0 && active_or_pending > settings.limit) {
    active_.clear();
    return fail(fmt::format("exceeded limit of {} with {} alerts", settings.limit, active_or_pending));
  }
  return out;
}

std::vector<const Alert*> AlertingRule::alerts() const {
  std::vector<const Alert*> out;
  for (const auto& [h, a] : active_) out.push_back(&a);
  std::sort(out.begin(), out.end(), [](const Alert* x, const Alert* y) { return x->labels < y->labels; });
  return out;
}

std::vector<OutgoingAlert> AlertingRule::alerts_to_send(int64_t ts, Millis resend_delay, Millis interval) {
  std::vector<OutgoingAlert> out;
  const Millis valid_for = 4 * std::max(resend_delay, interval);
  for (auto& [h, a] : active_) {
    if (a.state == AlertState::kPending) continue;
    bool resolved_since_sent = a.resolved_at != 0 && a.resolved_at > a.last_sent_at;
    if (a.sent && !resolved_since_sent && a.last_sent_at + resend_delay >= ts) continue;
    a.sent = true;
    a.last_sent_at = ts;
    a.valid_until = ts + valid_for;
    out.push_back({a.labels, a.annotations, a.fired_at, a.resolved_at != 0 ? a.resolved_at : a.valid_until,
                   a.resolved_at != 0});
  }
  std::sort(out.begin(), out.end(), [](const OutgoingAlert& x, const OutgoingAlert& y) { return x.labels < y.labels; });
  return out;
}

std::vector<Alert> AlertingRule::state() const {
  std::vector<Alert> out;
  out.reserve(active_.size());
  for (const auto& [h, a] : active_) out.push_back(a);
  return out;
}

void AlertingRule::restore(const std::vector<Alert>& alerts) {
  active_.clear();
  for (const auto& a : alerts) active_[a.labels.hash()] = a;
}

std::vector<OutgoingAlert> GroupEvaluator::alerts_to_send(int64_t ts, Millis resend_delay, Millis interval) {
  std::vector<OutgoingAlert> out;
  for (auto& r : alerting_) {
    if (!r) continue;
    auto a = r->alerts_to_send(ts, resend_delay, interval);
    out.insert(out.end(), std::make_move_iterator(a.begin()), std::make_move_iterator(a.end()));
  }
  return out;
}

GroupEvaluator::GroupEvaluator(const RuleGroup& group, EvalSettings settings)
    : group_(group), settings_(std::move(settings)) {
  settings_.group_labels = Labels(group.labels);
  settings_.limit = group.limit;
  if (group.query_offset) settings_.query_offset = *group.query_offset;
  for (const auto& r : group.rules) {
    if (r.is_alert()) {
      alerting_.emplace_back(AlertingRule(r));
    } else {
      alerting_.emplace_back(std::nullopt);
    }
  }
  health_.resize(group.rules.size());
  previous_.resize(group.rules.size());
}

AlertingRule* GroupEvaluator::alerting(size_t i) {
  return alerting_[i] ? &*alerting_[i] : nullptr;
}

const AlertingRule* GroupEvaluator::alerting(size_t i) const {
  return alerting_[i] ? &*alerting_[i] : nullptr;
}

void GroupEvaluator::eval(int64_t ts, storage::MemoryStore& store, const QueryFn& query, promql::Vector* appended) {
  // Outputs are stamped with the instant the rules read, as Prometheus
  // stamps them: a later rule of the group reading there sees them.
  const int64_t at = ts - settings_.query_offset;
  for (size_t i = 0; i < group_.rules.size(); ++i) {
    const Rule& rule = group_.rules[i];
    auto start = std::chrono::steady_clock::now();
    Result<promql::Vector> out = alerting_[i] ? alerting_[i]->eval(ts, settings_, query)
                                              : eval_recording_rule(rule, settings_, ts, query);
    RuleHealth& h = health_[i];
    h.last_eval = ts;
    h.last_duration_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!out) {
      h.ok = false;
      h.samples = 0;
      h.last_error = out.error().message;
      continue;
    }
    h.ok = true;
    h.last_error.clear();
    h.samples = out->size();
    std::vector<Labels> written;
    written.reserve(out->size());
    for (const auto& s : *out) {
      // Samples at or before the series' last timestamp are dropped, as
      // Prometheus drops out-of-order and duplicate samples of rule output.
      // A series the store's limit refuses is counted there.
      auto ref = store.add_series(s.labels);
      if (!ref) continue;
      const bool added =
          s.h ? store.append_histogram(*ref, at, s.h).has_value() : store.append(*ref, at, s.value).has_value();
      if (added && appended) appended->push_back(promql::Sample{store.get(*ref).labels, s.value, at, s.h});
      // The store's copy of the labels: next time, finding this series
      // among those written compares shared label sets, not their strings.
      written.push_back(store.get(*ref).labels);
    }
    // Series this rule wrote last time but not now go stale. Ordered by
    // hash first, so that lookups mostly compare integers.
    auto by_hash = [](const Labels& a, const Labels& b) {
      return a.hash() != b.hash() ? a.hash() < b.hash() : a < b;
    };
    std::sort(written.begin(), written.end(), by_hash);
    for (const auto& old : previous_[i]) {
      if (!std::binary_search(written.begin(), written.end(), old, by_hash)) {
        if (store.append(old, at, storage::stale_nan()) && appended)
          appended->push_back(promql::Sample{old, storage::stale_nan(), at});
      }
    }
    previous_[i] = std::move(written);
  }
}

}  // namespace vigil::rules
