#include "routing/alert_store.h"

namespace vigil::routing {

void AlertStore::set_resolve_timeout(Millis t) {
  std::lock_guard lock(mu_);
  resolve_timeout_ = t;
}

std::shared_ptr<const Alert> AlertStore::put(Alert a, Millis now) {
  std::lock_guard lock(mu_);
  a.updated_at = now;
  if (a.starts_at == 0) a.starts_at = a.ends_at != 0 ? a.ends_at : now;
  if (a.ends_at == 0) {
    a.timeout = true;
    a.ends_at = now + resolve_timeout_;
  }
  auto& slot = alerts_[a.fingerprint()];
  if (slot && overlaps(*slot, a)) a = merge_alerts(*slot, a, now);
  slot = std::make_shared<const Alert>(std::move(a));
  return slot;
}

std::shared_ptr<const Alert> AlertStore::get(uint64_t fp) const {
  std::lock_guard lock(mu_);
  auto it = alerts_.find(fp);
  return it == alerts_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const Alert>> AlertStore::list() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<const Alert>> out;
  out.reserve(alerts_.size());
  for (const auto& [fp, a] : alerts_) out.push_back(a);
  return out;
}

size_t AlertStore::size() const {
  std::lock_guard lock(mu_);
  return alerts_.size();
}

std::vector<std::shared_ptr<const Alert>> AlertStore::gc(Millis now) {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<const Alert>> out;
  for (auto it = alerts_.begin(); it != alerts_.end();) {
    if (it->second->resolved_at(now)) {
      out.push_back(std::move(it->second));
      it = alerts_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

}  // namespace vigil::routing
