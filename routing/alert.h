#pragma once

// An alert as the router holds it (upstream types.Alert): labels identify it
// (its fingerprint), startsAt/endsAt bound it, and updatedAt orders updates.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "model/duration.h"
#include "model/error.h"
#include "model/labels.h"

namespace vigil::routing {

struct Alert {
  Labels labels;
  Labels annotations;  // sorted by name, no empty values (as labels)
  Millis starts_at = 0;
  Millis ends_at = 0;  // 0: unknown (still firing)
  Millis updated_at = 0;
  // ends_at was not sent but set to arrival + resolve_timeout: a later update
  // may move it earlier.
  bool timeout = false;
  std::string generator_url;

  uint64_t fingerprint() const { return labels.hash(); }  // the fingerprint, computed once
  std::string_view name() const { return labels.get("alertname"); }
  // Resolved at t: it has an end and the end is not after t.
  bool resolved_at(Millis t) const { return ends_at != 0 && ends_at <= t; }
};

// An alert as a flush saw it: resolved or still firing at the flush's time
// (a firing alert's end is not shown to receivers: ends_at() is 0).
struct FlushedAlert {
  std::shared_ptr<const Alert> alert;
  bool resolved = false;

  const Alert& operator*() const { return *alert; }
  const Alert* operator->() const { return alert.get(); }
  Millis ends_at() const { return resolved ? alert->ends_at : 0; }
};

// Upstream's Alert.Merge of an existing alert and an update to it (same
// labels): the newer update wins, the earliest start is kept, and an end is
// only moved later by the older one when that end was sent, not timed out.
Alert merge_alerts(const Alert& existing, const Alert& update, Millis now);

// Whether upstream merges `update` into `existing` rather than replacing it:
// when the update starts or ends within the existing alert's span.
bool overlaps(const Alert& existing, const Alert& update);

// Upstream's checks of a received alert: a start, an end not before it, at
// least one label, valid label names and values.
Result<void> validate_alert(const Alert& a);

// Bounds on one alert received from outside (the API, the webhook intake),
// so no client can make one alert cost unbounded routing and rendering
// work. Far beyond what real alerts carry; 0 turns a bound off.
struct AlertLimits {
  size_t max_labels = 1000;               // --alerts.max-labels
  size_t max_label_name_length = 1024;    // --alerts.max-label-name-length, bytes
  size_t max_label_value_length = 65536;  // --alerts.max-label-value-length, bytes
  // Labels, annotations and generatorURL together, in bytes of text.
  size_t max_size_bytes = size_t{1} << 20;  // --alerts.max-size-bytes
};

// The first bound `a` exceeds, named by its flag; the message never quotes
// the oversized text.
Result<void> check_alert_limits(const Alert& a, const AlertLimits& limits);

// The order notifications list alerts in (upstream AlertSlice): by `job`,
// then `instance` (alerts that have them first), then by labels.
bool alert_before(const Alert& a, const Alert& b);
void sort_for_notification(std::vector<FlushedAlert>& alerts);

// Go's model.LabelSet.Before: fewer labels first, then by sorted names and values.
bool labels_before(const Labels& a, const Labels& b);

}  // namespace vigil::routing
