#include "routing/metrics.h"

namespace vigil::routing {

void write_metrics(MetricsWriter& w, Router& router, Millis now) {
  size_t active = 0, suppressed = 0;
  for (const auto& a : router.alerts().list()) {
    if (a->resolved_at(now)) continue;
    auto st = router.status(a->labels);
    if (!st.silenced_by.empty() || st.inhibited_by) {
      ++suppressed;
    } else {
      ++active;
    }
  }
  w.family("alertmanager_alerts", "gauge", "How many alerts by state.");
  w.sample("alertmanager_alerts", {{"state", "active"}}, static_cast<double>(active));
  w.sample("alertmanager_alerts", {{"state", "suppressed"}}, static_cast<double>(suppressed));
  const Silences& sil = router.silences();
  w.family("alertmanager_silences", "gauge", "How many silences by state.");
  w.sample("alertmanager_silences", {{"state", "active"}}, static_cast<double>(sil.count(SilenceState::kActive)));
  w.sample("alertmanager_silences", {{"state", "pending"}}, static_cast<double>(sil.count(SilenceState::kPending)));
  w.sample("alertmanager_silences", {{"state", "expired"}}, static_cast<double>(sil.count(SilenceState::kExpired)));
  w.single("alertmanager_aggregation_groups", "gauge", "Number of active aggregation groups.",
           static_cast<double>(router.group_count()));
  auto syncs = router.log_syncs();
  w.family("vigil_state_log_syncs_total", "counter",
           "fdatasync calls of the state logs (changes waiting together share one).");
  w.sample("vigil_state_log_syncs_total", {{"log", "alerts"}}, static_cast<double>(syncs.alerts));
  w.sample("vigil_state_log_syncs_total", {{"log", "silences"}}, static_cast<double>(syncs.silences));
}

}  // namespace vigil::routing
