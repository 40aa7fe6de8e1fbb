#pragma once

// What bounds the embedded store: how long it keeps samples (what the rules
// need, clamped by --storage.retention) and how many series it holds
// (--storage.max-series, enforced by MemoryStore::add_series).

#include <optional>
#include <string>
#include <string_view>

#include "model/duration.h"
#include "model/error.h"

namespace vigil::storage {

class MemoryStore;

// --storage.retention: "D" keeps exactly D (as Prometheus'
// --storage.tsdb.retention.time); "MIN..MAX" keeps what the rules need but
// at least MIN and at most MAX, either side may be left out ("7d..",
// "..2h"). Unset, the retention is what the rules need.
struct RetentionBounds {
  Millis floor = 0;
  Millis ceiling = 0;  // 0: none

  static Result<RetentionBounds> parse(std::string_view text);
  // `need` (what the loaded rules' ranges look back) within the bounds.
  Millis clamp(Millis need) const;
  // A warning when the ceiling cuts below `need`: queries over the longer
  // ranges then see less than their range.
  std::optional<std::string> shortfall(Millis need) const;
};

// Says at most once per `every` how many new series the store refused for
// its limit since it last said so, naming the last one refused.
class RefusedSeriesReport {
 public:
  explicit RefusedSeriesReport(Millis every = kMinute) : every_(every) {}
  // The message to log now, if one is due (the caller holds the store's lock).
  std::optional<std::string> due(const MemoryStore& store, Millis now);

 private:
  Millis every_;
  uint64_t reported_ = 0;  // refusals already reported
  std::optional<Millis> last_;
};

}  // namespace vigil::storage
