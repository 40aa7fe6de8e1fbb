#include "routing/mute_marker.h"

namespace vigil::routing {

void MuteMarker::set(const std::string& group_key, std::vector<std::string> by) {
  std::lock_guard lock(mu_);
  if (by.empty()) {
    muted_.erase(group_key);
  } else {
    muted_[group_key] = std::move(by);
  }
}

std::vector<std::string> MuteMarker::muted_by(std::string_view group_key) const {
  std::lock_guard lock(mu_);
  auto it = muted_.find(group_key);
  return it == muted_.end() ? std::vector<std::string>{} : it->second;
}

void MuteMarker::retain(const std::unordered_set<std::string>& group_keys) {
  std::lock_guard lock(mu_);
  std::erase_if(muted_, [&](const auto& e) { return !group_keys.contains(e.first); });
}

}  // namespace vigil::routing
