#include "routing/alert_store.h"

namespace vigil::routing {

void AlertStore::set_resolve_timeout(Millis t) {
  std::lock_guard lock(mu_);
  resolve_timeout_ = t;
}

std::shared_ptr<const Alert> AlertStore::put(Alert a, Millis now) {
  std::lock_guard lock(mu_);
  return put_locked(std::move(a), now);
}

std::vector<std::shared_ptr<const Alert>> AlertStore::put_all(std::vector<Alert> alerts, Millis now,
                                                           std::vector<bool>* created) {
  std::vector<std::shared_ptr<const Alert>> out;
  out.reserve(alerts.size());
  std::lock_guard lock(mu_);
  for (Alert& a : alerts) {
    if (created != nullptr) {
      const auto* held = alerts_.find(a.fingerprint());
      created->push_back(held == nullptr || *held == nullptr);
    }
    out.push_back(put_locked(std::move(a), now));
  }
  return out;
}

std::shared_ptr<const Alert> AlertStore::put_locked(Alert a, Millis now) {
  a.updated_at = now;
  if (a.starts_at == 0) a.starts_at = a.ends_at != 0 ? a.ends_at : now;
  if (a.ends_at == 0) {
    a.timeout = true;
    a.ends_at = now + resolve_timeout_;
  }
  auto& slot = alerts_.slot(a.fingerprint());
  if (slot && overlaps(*slot, a)) a = merge_alerts(*slot, a, now);
  slot = std::make_shared<const Alert>(std::move(a));
  return slot;
}

std::shared_ptr<const Alert> AlertStore::get(uint64_t fp) const {
  std::lock_guard lock(mu_);
  const auto* a = alerts_.find(fp);
  return a ? *a : nullptr;
}

std::vector<std::shared_ptr<const Alert>> AlertStore::list() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<const Alert>> out;
  out.reserve(alerts_.size());
  alerts_.for_each([&](uint64_t, const std::shared_ptr<const Alert>& a) { out.push_back(a); });
  return out;
}

size_t AlertStore::size() const {
  std::lock_guard lock(mu_);
  return alerts_.size();
}

std::vector<std::shared_ptr<const Alert>> AlertStore::gc(Millis now) {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<const Alert>> out;
  alerts_.for_each([&](uint64_t, const std::shared_ptr<const Alert>& a) {
    if (a->resolved_at(now)) out.push_back(a);
  });
  for (const auto& a : out) alerts_.erase(a->fingerprint());
  return out;
}

std::vector<std::shared_ptr<const Alert>> AlertStore::restore(std::vector<Alert> alerts) {
  FingerprintMap<std::shared_ptr<const Alert>> loaded;
  std::vector<std::shared_ptr<const Alert>> out;
  out.reserve(alerts.size());
  for (Alert& a : alerts) {
    const uint64_t fp = a.fingerprint();
    auto p = std::make_shared<const Alert>(std::move(a));
    loaded.slot(fp) = p;
    out.push_back(std::move(p));
  }
  std::lock_guard lock(mu_);
  alerts_ = std::move(loaded);
  return out;
}

}  // namespace vigil::routing
