#include "storage/limits.h"

#include <algorithm>

#include <fmt/format.h>

#include "storage/memory_store.h"

namespace vigil::storage {

namespace {

Result<Millis> bound(std::string_view text, std::string_view which) {
  auto d = parse_duration(text);
  if (!d || *d <= 0)
    return fail(fmt::format("--storage.retention: {} \"{}\" is not a positive duration (expected e.g. 2h, 15d)", which,
                            text));
  return *d;
}

}  // namespace

Result<RetentionBounds> RetentionBounds::parse(std::string_view text) {
  RetentionBounds b;
  if (text.empty()) return b;
  const size_t dots = text.find("..");
  if (dots == std::string_view::npos) {
    auto d = bound(text, "retention");
    if (!d) return std::unexpected(d.error());
    b.floor = b.ceiling = *d;
    return b;
  }
  const std::string_view lo = text.substr(0, dots), hi = text.substr(dots + 2);
  if (lo.empty() && hi.empty())
    return fail("--storage.retention: \"..\" needs a bound on at least one side (expected D, MIN.., ..MAX or MIN..MAX)");
  if (!lo.empty()) {
    auto d = bound(lo, "minimum");
    if (!d) return std::unexpected(d.error());
    b.floor = *d;
  }
  if (!hi.empty()) {
    auto d = bound(hi, "maximum");
    if (!d) return std::unexpected(d.error());
    b.ceiling = *d;
  }
  if (b.ceiling > 0 && b.floor > b.ceiling)
    return fail(fmt::format("--storage.retention: minimum {} is above maximum {}", format_duration(b.floor),
                            format_duration(b.ceiling)));
  return b;
}

Millis RetentionBounds::clamp(Millis need) const {
  Millis keep = std::max(need, floor);
  if (ceiling > 0) keep = std::min(keep, ceiling);
  return keep;
}

std::optional<std::string> RetentionBounds::shortfall(Millis need) const {
  if (ceiling == 0 || need <= ceiling) return std::nullopt;
  return fmt::format("--storage.retention keeps {} but the rules' ranges need {}: queries over longer ranges see "
                     "only the last {}",
                     format_duration(ceiling), format_duration(need), format_duration(ceiling));
}

std::optional<std::string> RefusedSeriesReport::due(const MemoryStore& store, Millis now) {
  const uint64_t refused = store.series_refused();
  if (refused == reported_) return std::nullopt;
  if (last_ && now - *last_ < every_) return std::nullopt;
  std::string msg = fmt::format(
      "series limit reached: {} new series refused since {} (the store holds at most {} series, "
      "--storage.max-series); the last one: {}",
      refused - reported_, last_ ? "the last report" : "the start", store.max_series(),
      store.last_refused().to_string());
  reported_ = refused;
  last_ = now;
  return msg;
}

}  // namespace vigil::storage
