#include "routing/route.h"

#include <algorithm>

namespace vigil::routing {

std::unique_ptr<Route> Route::build(const RouteConfig& root) {
  int counter = 0;
  return make(root, nullptr, &counter);
}

std::unique_ptr<Route> Route::make(const RouteConfig& cfg, const Route* parent, int* counter) {
  std::unique_ptr<Route> r(new Route);
  r->parent_ = parent;
  if (parent != nullptr) r->opts_ = parent->opts_;
  RouteOptions& o = r->opts_;
  for (const Label& l : cfg.labels) {
    auto it = std::find_if(o.labels.begin(), o.labels.end(), [&](const Label& x) { return x.name == l.name; });
    if (it != o.labels.end()) it->value = l.value;
    else o.labels.push_back(l);
  }
  std::sort(o.labels.begin(), o.labels.end(), [](const Label& a, const Label& b) { return a.name < b.name; });
  if (!cfg.receiver.empty()) o.receiver = cfg.receiver;
  if (cfg.group_by) {
    o.group_by = *cfg.group_by;
    std::sort(o.group_by.begin(), o.group_by.end());
    o.group_by_all = false;
  } else if (cfg.group_by_all) {
    o.group_by_all = true;
  }
  if (cfg.group_wait) o.group_wait = *cfg.group_wait;
  if (cfg.group_interval) o.group_interval = *cfg.group_interval;
  if (cfg.repeat_interval) o.repeat_interval = *cfg.repeat_interval;
  o.mute_time_intervals = cfg.mute_time_intervals;
  o.active_time_intervals = cfg.active_time_intervals;
  r->matchers_ = cfg.matchers;
  r->continue_ = cfg.continue_matching;
  r->key_ = parent != nullptr ? parent->key_ + "/" + r->matchers_.to_string() : r->matchers_.to_string();
  for (const RouteConfig& c : cfg.routes) r->routes_.push_back(make(c, r.get(), counter));
  r->index_ = (*counter)++;
  return r;
}

int Route::route_count() const {
  const Route* root = this;
  while (root->parent_ != nullptr) root = root->parent_;
  return root->index_ + 1;
}

void Route::match(const Labels& ls, std::vector<const Route*>& out) const {
  if (!matchers_.matches(ls)) return;
  const size_t before = out.size();
  for (const auto& child : routes_) {
    const size_t n = out.size();
    child->match(ls, out);
    if (out.size() > n && !child->continue_) break;
  }
  if (out.size() == before) out.push_back(this);
}

std::vector<const Route*> Route::match(const Labels& ls) const {
  std::vector<const Route*> out;
  match(ls, out);
  return out;
}

std::string Route::id() const {
  if (parent_ == nullptr) return matchers_.to_string();
  std::string out = parent_->id() + "/" + matchers_.to_string();
  const auto& siblings = parent_->routes_;
  for (size_t i = 0; i < siblings.size(); ++i)
    if (siblings[i].get() == this) return out + "/" + std::to_string(i);
  return out;
}

Labels Route::group_labels(const Labels& alert) const {
  if (opts_.group_by_all) return alert;
  std::vector<LabelView> out;
  out.reserve(opts_.group_by.size());
  for (const std::string& name : opts_.group_by) out.emplace_back(name, alert.get(name));
  return Labels(out);  // drops the names the alert does not have (empty values)
}

uint64_t Route::group_fingerprint(const Labels& alert) const {
  if (opts_.group_by_all) return alert.hash();
  // Labels::fingerprint over the group labels: FNV-1a of name, 0xff, value, 0xff.
  uint64_t h = 14695981039346656037ULL;
  auto add = [&](std::string_view s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
  };
  for (const std::string& name : opts_.group_by) {
    std::string_view v = alert.get(name);
    if (v.empty()) continue;
    add(name);
    add(v);
  }
  return h;
}

void Route::walk(const std::function<void(const Route&)>& visit) const {
  visit(*this);
  for (const auto& c : routes_) c->walk(visit);
}

}  // namespace vigil::routing
