#include "routing/dispatch.h"

#include <algorithm>

#include "model/names.h"

namespace vigil::routing {

std::string group_key(const Route& route, const Labels& labels) {
  // Go's LabelSet.String sorts the name="value" strings themselves.
  std::vector<std::string> parts;
  parts.reserve(labels.size());
  for (const LabelView l : labels) parts.push_back(std::string(l.name) + "=" + go_quote(l.value));
  std::sort(parts.begin(), parts.end());
  std::string out = route.key();
  out += ":{";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += ", ";
    out += parts[i];
  }
  out += '}';
  return out;
}

Dispatcher::Dispatcher(std::shared_ptr<const Route> root, const Clock& clock, FlushFn flush,
                       size_t max_groups, EventSink* events)
    : root_(std::move(root)), clock_(clock), flush_(std::move(flush)), max_groups_(max_groups), events_(events) {
  by_route_.resize(static_cast<size_t>(root_->route_count()));
}

void Dispatcher::arm(Group& g, Millis due) {
  g.due = due;
  timers_.push({due, g.id});
}

void Dispatcher::record(std::vector<EventData>& events) {
  for (EventData& e : events) events_->record(std::move(e));
}

void Dispatcher::put(const std::shared_ptr<const Alert>& alert) {
  std::vector<EventData> events;
  {
    std::lock_guard lock(mu_);
    put_locked(alert, clock_.now(), recording() ? &events : nullptr);
  }
  record(events);
}

void Dispatcher::put_all(std::span<const std::shared_ptr<const Alert>> alerts) {
  std::vector<EventData> events;
  {
    std::lock_guard lock(mu_);
    const Millis now = clock_.now();
    std::vector<EventData>* ev = recording() ? &events : nullptr;
    for (const auto& a : alerts) put_locked(a, now, ev);
  }
  record(events);
}

void Dispatcher::put_locked(const std::shared_ptr<const Alert>& alert, Millis now, std::vector<EventData>* events) {
  auto grouped = [&](const Group& g) {
    if (events != nullptr)
      events->push_back(alert_grouped_event(*alert, EventGroup{g.key, &g.labels, g.route->options().receiver, nullptr, {}}, now));
  };
  match_scratch_.clear();
  root_->match(alert->labels, match_scratch_);
  for (const Route* r : match_scratch_) {
    const uint64_t fp = r->group_fingerprint(alert->labels);
    auto& groups = by_route_[static_cast<size_t>(r->index())];
    auto it = groups.find(fp);
    if (it != groups.end()) {
      it->second->alerts.slot(alert->fingerprint()) = alert;
      grouped(*it->second);
      continue;
    }
    if (max_groups_ > 0 && by_id_.size() >= max_groups_) {
      ++refused_;
      continue;
    }
    auto g = std::make_unique<Group>();
    g->id = next_id_++;
    g->route = r;
    g->labels = r->group_labels(alert->labels);
    g->key = group_key(*r, g->labels);
    g->uuid = random_uuid();
    g->labels_fp = fp;
    g->alerts.slot(alert->fingerprint()) = alert;
    // An alert that started long enough ago has waited already.
    const Millis wait = r->options().group_wait;
    arm(*g, alert->starts_at + wait < now ? now : now + wait);
    by_id_[g->id] = g.get();
    grouped(*g);
    groups.emplace(fp, std::move(g));
  }
}

std::optional<Millis> Dispatcher::next_due() const {
  std::lock_guard lock(mu_);
  // Timers of deleted or re-armed groups are dropped lazily.
  while (!timers_.empty()) {
    const Timer t = timers_.top();
    auto it = by_id_.find(t.group);
    if (it != by_id_.end() && it->second->due == t.due) return t.due;
    timers_.pop();
  }
  return std::nullopt;
}

size_t Dispatcher::run_due() {
  std::vector<GroupFlush> flushes;
  std::vector<uint64_t> ids;
  {
    std::lock_guard lock(mu_);
    const Millis now = clock_.now();
    while (!timers_.empty() && timers_.top().due <= now) {
      const Timer t = timers_.top();
      timers_.pop();
      auto it = by_id_.find(t.group);
      if (it == by_id_.end() || it->second->due != t.due) continue;  // stale
      Group& g = *it->second;
      if (g.in_flight) {
        // Upstream's group loop would flush again right after this one.
        g.due_during_flight = true;
        continue;
      }
      arm(g, now + g.route->options().group_interval);
      if (g.alerts.empty()) continue;
      GroupFlush f{g.key, g.labels, g.route, ++g.flushes, now, {}, g.uuid};
      f.alerts.reserve(g.alerts.size());
      g.alerts.for_each([&](uint64_t, const std::shared_ptr<const Alert>& a) { f.alerts.push_back({a, a->resolved_at(now)}); });
      sort_for_notification(f.alerts);
      g.in_flight = true;
      flushes.push_back(std::move(f));
      ids.push_back(g.id);
    }
  }
  for (size_t i = 0; i < flushes.size(); ++i) {
    std::vector<std::shared_ptr<const Alert>> resolved;
    for (const FlushedAlert& a : flushes[i].alerts)
      if (a.resolved) resolved.push_back(a.alert);
    const uint64_t id = ids[i];
    flush_(flushes[i], [this, id, resolved = std::move(resolved)](bool ok) { flushed(id, ok, resolved); });
  }
  return flushes.size();
}

void Dispatcher::flushed(uint64_t group_id, bool ok, const std::vector<std::shared_ptr<const Alert>>& resolved) {
  std::vector<EventData> events;
  {
    std::lock_guard lock(mu_);
    auto it = by_id_.find(group_id);
    if (it == by_id_.end()) return;
    Group& g = *it->second;
    g.in_flight = false;
    if (ok) {
      if (recording()) {
        const Millis now = clock_.now();
        const EventGroup info{g.key, &g.labels, g.route->options().receiver, nullptr, {}};
        for (const auto& r : resolved) events.push_back(alert_resolved_event(*r, info, now));
      }
      // Drop the resolved alerts just notified, unless they fired again since.
      for (const auto& r : resolved) {
        const uint64_t fp = r->fingerprint();
        auto* a = g.alerts.find(fp);
        if (a && (*a)->updated_at == r->updated_at) g.alerts.erase(fp);
      }
    }
    if (ok && g.alerts.empty()) {
      destroy(g);
    } else if (g.due_during_flight) {
      g.due_during_flight = false;
      arm(g, clock_.now());
    }
  }
  record(events);
}

void Dispatcher::destroy(Group& g) {
  const uint64_t id = g.id;
  auto& groups = by_route_[static_cast<size_t>(g.route->index())];
  by_id_.erase(id);
  groups.erase(g.labels_fp);
}

std::vector<Dispatcher::GroupInfo> Dispatcher::groups() const {
  std::lock_guard lock(mu_);
  std::vector<GroupInfo> out;
  out.reserve(by_id_.size());
  for (const auto& [id, g] : by_id_) {
    GroupInfo info{g->key, g->labels, g->route, {}};
    g->alerts.for_each([&](uint64_t, const std::shared_ptr<const Alert>& a) { info.alerts.push_back(a); });
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(), [](const GroupInfo& a, const GroupInfo& b) { return a.group_key < b.group_key; });
  return out;
}

size_t Dispatcher::group_count() const {
  std::lock_guard lock(mu_);
  return by_id_.size();
}

size_t Dispatcher::alert_count() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [id, g] : by_id_) n += g->alerts.size();
  return n;
}

size_t Dispatcher::refused_groups() const {
  std::lock_guard lock(mu_);
  return refused_;
}

}  // namespace vigil::routing
