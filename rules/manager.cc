#include "rules/manager.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <string>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "rules/schedule.h"

namespace vigil::rules {

struct RuleManager::Group {
  // Constant after load().
  std::shared_ptr<const RuleFile> file;
  const RuleGroup* group = nullptr;
  Millis interval = 0;
  Millis offset = 0;
  Millis query_offset = 0;

  // Guarded by RuleManager::mu_ (the schedule).
  Millis next = 0;  // the next scheduled instant
  uint64_t missed = 0;

  // Held while evaluating and while read for status; guards the fields
  // below and the evaluator's state (alerts, health).
  std::mutex mu;
  std::unique_ptr<GroupEvaluator> eval;  // the pointer is constant after load()
  bool restore_pending = false;          // `for` state still to be read from the backend
  std::string restore_error;             // why reading it failed, for a rule
  int64_t last_eval = 0;
  double last_duration_seconds = 0;
  uint64_t evaluations = 0, failures = 0;
};

namespace {

// An alerting rule's identity across loads: its name and expression, and
// which occurrence of that pair in its group it is.
using RuleId = std::pair<std::string, size_t>;

// The alerting rules of a group (by index) with their identities.
std::vector<std::pair<size_t, RuleId>> alerting_rule_ids(const GroupEvaluator& g) {
  std::vector<std::pair<size_t, RuleId>> out;
  std::map<std::string, size_t> seen;
  const auto& rules = g.group().rules;
  for (size_t i = 0; i < rules.size(); ++i) {
    if (!g.alerting(i)) continue;
    std::string key = rules[i].name + '\x1f' + rules[i].expr;
    size_t n = seen[key]++;
    out.emplace_back(i, RuleId{std::move(key), n});
  }
  return out;
}

// Copies alert state from one evaluator to another with the same group.
void copy_state(const GroupEvaluator& from, GroupEvaluator& to) {
  std::map<RuleId, size_t> from_index;
  for (auto& [i, id] : alerting_rule_ids(from)) from_index[std::move(id)] = i;
  for (const auto& [i, id] : alerting_rule_ids(to)) {
    auto it = from_index.find(id);
    if (it != from_index.end()) to.alerting(i)->restore(from.alerting(it->second)->state());
  }
}

nlohmann::json labels_json(const Labels& ls) {
  nlohmann::json o = nlohmann::json::object();
  for (const auto& l : ls) o[std::string(l.name)] = std::string(l.value);
  return o;
}

Labels labels_from(const nlohmann::json& o) {
  std::vector<Label> v;
  for (const auto& [k, val] : o.items()) v.push_back(Label{k, val.get<std::string>()});
  return Labels(v);
}

nlohmann::json alert_json(const Alert& a) {
  return {{"labels", labels_json(a.labels)},
          {"annotations", labels_json(a.annotations)},
          {"state", std::string(alert_state_name(a.state))},
          {"value", fmt::format("{}", a.value)},
          {"active_at", a.active_at},
          {"fired_at", a.fired_at},
          {"resolved_at", a.resolved_at},
          {"keep_firing_since", a.keep_firing_since},
          {"sent", a.sent},
          {"last_sent_at", a.last_sent_at},
          {"valid_until", a.valid_until}};
}

Alert alert_from(const nlohmann::json& j) {
  Alert a;
  a.labels = labels_from(j.at("labels"));
  a.annotations = labels_from(j.at("annotations"));
  std::string st = j.at("state").get<std::string>();
  a.state = st == "firing" ? AlertState::kFiring : st == "pending" ? AlertState::kPending : AlertState::kInactive;
  a.value = std::strtod(j.at("value").get<std::string>().c_str(), nullptr);
  a.active_at = j.at("active_at").get<int64_t>();
  a.fired_at = j.at("fired_at").get<int64_t>();
  a.resolved_at = j.at("resolved_at").get<int64_t>();
  a.keep_firing_since = j.at("keep_firing_since").get<int64_t>();
  a.sent = j.at("sent").get<bool>();
  a.last_sent_at = j.at("last_sent_at").get<int64_t>();
  a.valid_until = j.at("valid_until").get<int64_t>();
  return a;
}

}  // namespace

Millis RuleManager::offset_of(const std::string& file, const std::string& group, Millis interval) {
  return group_offset(file, group, interval);
}

RuleManager::RuleManager(const Clock& clock, ManagerOptions opts, EvalBackend backend, AlertSink sink)
    : clock_(clock),
      sink_(std::move(sink)),
      opts_(std::move(opts)),
      backend_(std::move(backend)),
      recorded_(std::make_shared<std::set<std::string, std::less<>>>()) {
  query_ = rule_query();
}

RuleManager::~RuleManager() = default;

void RuleManager::set_on_appended(AppendedFn fn) {
  std::lock_guard eval_lock(eval_mu_);
  std::lock_guard lock(mu_);
  on_appended_ = std::move(fn);
}

void RuleManager::set_backend(EvalBackend backend) {
  std::lock_guard eval_lock(eval_mu_);
  std::lock_guard lock(mu_);
  backend_ = std::move(backend);
  query_ = rule_query();
}

QueryFn RuleManager::rule_query() const {
  if (!backend_.series || !backend_.store || recorded_->empty()) return backend_.query;
  return overlay_query(backend_.query, backend_.series, *backend_.store,
                       [names = recorded_](std::string_view n) { return names->contains(n); });
}

std::vector<std::string> RuleManager::load(const std::vector<std::string>& paths, ManagerOptions opts,
                                           const LoadOptions& load_opts) {
  std::vector<std::string> errors;
  std::vector<std::shared_ptr<const RuleFile>> files;
  for (const auto& path : paths) {
    LoadResult r = load_rule_file(path, load_opts);
    if (!r.ok()) {
      for (const auto& e : format_errors(r.errors)) errors.push_back(path + ": " + e);
      continue;
    }
    r.file.path = path;
    files.push_back(std::make_shared<const RuleFile>(std::move(r.file)));
  }
  if (!errors.empty()) return errors;

  const Millis now = clock_.now();
  std::vector<std::unique_ptr<Group>> groups;
  for (const auto& f : files) {
    for (const auto& rg : f->groups) {
      auto g = std::make_unique<Group>();
      g->file = f;
      g->group = &rg;
      g->interval = rg.interval.value_or(opts.evaluation_interval);
      if (g->interval <= 0) g->interval = kMinute;
      g->offset = offset_of(f->path, rg.name, g->interval);
      g->query_offset = rg.query_offset.value_or(opts.query_offset);
      EvalSettings settings;
      settings.query_offset = g->query_offset;
      settings.limit = rg.limit;
      settings.external_labels = opts.external_labels;
      settings.external_url = opts.external_url;
      settings.group_labels = Labels(rg.labels);
      g->eval = std::make_unique<GroupEvaluator>(rg, settings);
      // The first evaluation is at the group's next instant.
      g->next = tick_at_or_before(now, g->offset, g->interval) + g->interval;
      groups.push_back(std::move(g));
    }
  }

  std::lock_guard eval_lock(eval_mu_);  // no evaluation runs on the old groups now
  std::lock_guard lock(mu_);
  std::map<std::pair<std::string, std::string>, Group*> old;
  for (auto& g : groups_) old[{g->file->path, g->group->name}] = g.get();
  for (auto& g : groups) {
    auto it = old.find({g->file->path, g->group->name});
    if (it == old.end()) continue;
    Group& o = *it->second;
    copy_state(*o.eval, *g->eval);
    if (o.interval == g->interval) {
      g->next = o.next;
      g->last_eval = o.last_eval;
      g->last_duration_seconds = o.last_duration_seconds;
      g->evaluations = o.evaluations;
      g->missed = o.missed;
      g->failures = o.failures;
    }
  }
  if (!loaded_) {
    for (auto& g : groups) g->restore_pending = true;
    loaded_ = true;
  }
  auto recorded = std::make_shared<std::set<std::string, std::less<>>>();
  for (const auto& f : files) {
    for (const auto& rg : f->groups) {
      for (const auto& r : rg.rules) {
        if (!r.is_alert()) recorded->insert(r.name);
      }
    }
  }
  recorded_ = std::move(recorded);
  opts_ = std::move(opts);
  files_ = std::move(files);
  groups_ = std::move(groups);
  query_ = rule_query();
  ++version_;
  return {};
}

std::optional<Millis> RuleManager::next_due() const {
  std::lock_guard lock(mu_);
  std::optional<Millis> due;
  for (const auto& g : groups_) {
    if (!due || g->next < *due) due = g->next;
  }
  return due;
}

size_t RuleManager::run_due() {
  std::vector<GroupAlerts> outputs;
  size_t ran = 0;
  {
    std::lock_guard eval_lock(eval_mu_);
    const Millis now = clock_.now();
    std::vector<std::pair<Group*, Millis>> due;
    {
      std::lock_guard lock(mu_);
      for (auto& g : groups_) {
        if (g->next > now) continue;
        Millis ts = tick_at_or_before(now, g->offset, g->interval);
        if (ts > g->next) g->missed += static_cast<uint64_t>((ts - g->next) / g->interval);
        g->next = ts + g->interval;
        due.emplace_back(g.get(), ts);
      }
    }
    for (auto& [g, ts] : due) {
      GroupAlerts out = eval_group(*g, ts);
      if (!out.alerts.empty()) outputs.push_back(std::move(out));
    }
    if (!due.empty()) {
      std::lock_guard lock(mu_);
      ++version_;
    }
    ran = due.size();
  }
  // The sink takes the daemon's locks (the configuration's, the router's),
  // and a reload holds the configuration's while it calls load(): handing
  // alerts on with eval_mu_ held would be a lock-order cycle.
  if (sink_) {
    for (auto& out : outputs) sink_(std::move(out));
  }
  return ran;
}

GroupAlerts RuleManager::eval_group(Group& g, int64_t ts) {
  GroupAlerts out;
  out.file = g.file->path;
  out.group = g.group->name;
  {
    std::lock_guard glock(g.mu);
    auto start = std::chrono::steady_clock::now();
    promql::Vector appended;
    {
      std::unique_lock store_lock(*backend_.store_mu);
      g.eval->eval(ts, *backend_.store, query_, on_appended_ ? &appended : nullptr);
    }
    if (on_appended_ && !appended.empty()) on_appended_(appended);
    g.last_duration_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    g.last_eval = ts;
    ++g.evaluations;
    // As Prometheus: after the second evaluation, so that recording rules
    // the alerts read have caught up.
    if (g.restore_pending && g.evaluations >= 2) {
      g.restore_pending = false;
      if (backend_.series) restore_for_state(g, clock_.now());
    }
    for (const auto& h : g.eval->health()) {
      if (!h.ok) {
        ++g.failures;
        break;
      }
    }
    const auto& rules = g.group->rules;
    for (size_t i = 0; i < rules.size(); ++i) {
      AlertingRule* r = g.eval->alerting(i);
      if (!r) continue;
      auto alerts = r->alerts_to_send(ts, opts_.resend_delay, g.interval);
      for (auto& a : alerts) {
        out.alerts.push_back(std::move(a));
        out.exprs.push_back(rules[i].expr);
      }
    }
  }
  return out;
}

int64_t restored_active_at(Millis hold, Millis grace, int64_t now, int64_t down_at, double active_at_seconds) {
  const int64_t down = down_at / 1000 * 1000;
  const int64_t active = static_cast<int64_t>(active_at_seconds) * 1000;
  const Millis remaining = hold - (down - active);
  if (remaining <= 0) return active;  // it was firing
  if (remaining < grace) return now + grace - hold;
  return active + (now - down);
}

void RuleManager::restore_for_state(Group& g, int64_t now) {
  const auto& rules = g.group->rules;
  size_t restored = 0;
  for (size_t i = 0; i < rules.size(); ++i) {
    AlertingRule* r = g.eval->alerting(i);
    if (!r || rules[i].for_duration < opts_.for_grace_period) continue;
    std::vector<Alert> alerts = r->state();
    if (alerts.empty()) continue;
    // The series of this rule: its name and its static labels (the group's,
    // overridden by the rule's), as Prometheus selects them.
    std::map<std::string, std::string> want;
    for (const auto& l : g.group->labels) want[l.name] = l.value;
    for (const auto& l : rules[i].labels) want[l.name] = l.value;
    want["alertname"] = rules[i].name;
    want["__name__"] = "ALERTS_FOR_STATE";
    std::vector<Matcher> matchers;
    for (const auto& [name, value] : want) {
      if (auto m = Matcher::make(MatchType::kEqual, name, value)) matchers.push_back(std::move(*m));
    }
    auto series = backend_.series(matchers, now - opts_.outage_tolerance, now);
    if (!series) {
      g.restore_error = rules[i].name + ": " + series.error().message;
      if (opts_.on_restore) opts_.on_restore(g.group->name, false, g.restore_error);
      continue;
    }
    std::map<uint64_t, const RemoteSeries*> by_labels;
    for (const auto& s : *series) {
      if (!s.t.empty()) by_labels[LabelsBuilder(s.labels).del("__name__").build().hash()] = &s;
    }
    bool changed = false;
    for (Alert& a : alerts) {
      auto it = by_labels.find(a.labels.hash());
      // ALERTS_FOR_STATE is a float series; a histogram there is not a timer.
      if (it == by_labels.end() || std::isnan(it->second->v.back()) ||
          (!it->second->h.empty() && it->second->h.back()))
        continue;
      a.active_at = restored_active_at(rules[i].for_duration, opts_.for_grace_period, now, it->second->t.back(),
                                       it->second->v.back());
      changed = true;
      ++restored;
    }
    if (changed) r->restore(alerts);
  }
  if (opts_.on_restore) opts_.on_restore(g.group->name, true, fmt::format("{} alerts restored", restored));
}

std::vector<GroupStatus> RuleManager::status() const {
  std::lock_guard lock(mu_);
  std::vector<GroupStatus> out;
  out.reserve(groups_.size());
  for (const auto& g : groups_) {
    std::lock_guard glock(g->mu);
    GroupStatus s;
    s.file = g->file;
    s.group = g->group;
    s.interval = g->interval;
    s.query_offset = g->query_offset;
    s.last_eval = g->last_eval;
    s.last_duration_seconds = g->last_duration_seconds;
    s.evaluations = g->evaluations;
    s.missed = g->missed;
    s.failures = g->failures;
    s.restore_error = g->restore_error;
    const auto& health = g->eval->health();
    for (size_t i = 0; i < g->group->rules.size(); ++i) {
      RuleStatus r;
      r.rule = &g->group->rules[i];
      r.health = health[i];
      if (const AlertingRule* a = g->eval->alerting(i)) {
        for (const Alert* al : a->alerts()) r.alerts.push_back(*al);
      }
      s.rules.push_back(std::move(r));
    }
    out.push_back(std::move(s));
  }
  return out;
}

size_t RuleManager::group_count() const {
  std::lock_guard lock(mu_);
  return groups_.size();
}

size_t RuleManager::rule_count() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& g : groups_) n += g->group->rules.size();
  return n;
}

uint64_t RuleManager::version() const {
  std::lock_guard lock(mu_);
  return version_;
}

std::string RuleManager::snapshot() const {
  nlohmann::json out = {{"version", 1}, {"groups", nlohmann::json::array()}};
  std::lock_guard lock(mu_);
  for (const auto& g : groups_) {
    std::lock_guard glock(g->mu);
    nlohmann::json rules = nlohmann::json::array();
    for (const auto& [i, id] : alerting_rule_ids(*g->eval)) {
      const GroupEvaluator& eval = *g->eval;
      nlohmann::json alerts = nlohmann::json::array();
      for (const Alert& al : eval.alerting(i)->state()) alerts.push_back(alert_json(al));
      if (alerts.empty()) continue;
      rules.push_back({{"occurrence", id.second},
                       {"name", g->group->rules[i].name},
                       {"expr", g->group->rules[i].expr},
                       {"alerts", std::move(alerts)}});
    }
    if (rules.empty()) continue;
    out["groups"].push_back({{"file", g->file->path}, {"group", g->group->name}, {"rules", std::move(rules)}});
  }
  return out.dump();
}

Result<void> RuleManager::restore(std::string_view text) {
  // Parsed completely before anything changes.
  // (file, group) -> rule -> alerts
  using Saved = std::map<RuleId, std::vector<Alert>>;
  std::map<std::pair<std::string, std::string>, Saved> by_group;
  try {
    nlohmann::json in = nlohmann::json::parse(text);
    if (in.at("version").get<int>() != 1) return fail("unknown rule state snapshot version");
    for (const auto& g : in.at("groups")) {
      auto& rules = by_group[{g.at("file").get<std::string>(), g.at("group").get<std::string>()}];
      for (const auto& r : g.at("rules")) {
        std::string key = r.at("name").get<std::string>() + '\x1f' + r.at("expr").get<std::string>();
        auto& alerts = rules[{key, r.at("occurrence").get<size_t>()}];
        for (const auto& a : r.at("alerts")) alerts.push_back(alert_from(a));
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return fail(fmt::format("invalid rule state snapshot: {}", e.what()));
  }
  std::lock_guard eval_lock(eval_mu_);
  std::lock_guard lock(mu_);
  for (auto& g : groups_) {
    auto it = by_group.find({g->file->path, g->group->name});
    if (it == by_group.end()) continue;
    std::lock_guard glock(g->mu);
    g->restore_pending = false;  // it has local state
    for (const auto& [i, id] : alerting_rule_ids(*g->eval)) {
      auto s = it->second.find(id);
      if (s != it->second.end()) g->eval->alerting(i)->restore(s->second);
    }
  }
  return {};
}

}  // namespace vigil::rules
