#include "routing/alert.h"

namespace vigil::routing {

Alert merge_alerts(const Alert& a, const Alert& o, Millis now) {
  if (o.updated_at < a.updated_at) return merge_alerts(o, a, now);
  Alert res = o;
  if (a.starts_at < o.starts_at) res.starts_at = a.starts_at;
  if (o.resolved_at(now)) {
    if (a.resolved_at(now) && a.ends_at > o.ends_at) res.ends_at = a.ends_at;
  } else if (a.ends_at > o.ends_at && !a.timeout) {
    res.ends_at = a.ends_at;
  }
  return res;
}

bool overlaps(const Alert& old, const Alert& a) {
  return (a.ends_at > old.starts_at && a.ends_at < old.ends_at) ||
         (a.starts_at > old.starts_at && a.starts_at < old.ends_at);
}

}  // namespace vigil::routing
