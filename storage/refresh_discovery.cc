#include "storage/refresh_discovery.h"

namespace vigil::storage {

bool RefreshDiscovery::refresh(Millis now, bool force) {
  if (!force && now < next_) return false;
  begin(now);
  return finish(ask());
}

bool RefreshDiscovery::finish(Answer a) {
  asking_ = false;
  error_ = std::move(a.error);
  if (!a.groups || *a.groups == groups_) return false;
  groups_ = std::move(*a.groups);
  return true;
}

}  // namespace vigil::storage
