// Scrape bodies: any input parses to samples or an error, never a crash; and
// the scraper's way of reading (split_exposition, then parse_series for each
// line) accepts exactly the bodies parse_exposition accepts, with the same
// samples.
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "storage/exposition.h"

using namespace vigil::storage;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the format.
  auto format = data[0] & 1 ? ExpositionFormat::kOpenMetrics : ExpositionFormat::kPrometheusText;
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  auto full = parse_exposition(body, format);
  std::vector<RawSample> lines;
  bool ok = split_exposition(body, format, lines).has_value();
  for (size_t i = 0; ok && i < lines.size(); ++i) {
    auto ls = parse_series(lines[i].series, lines[i].line, lines[i].type);
    ok = ls.has_value();
    if (ok && full &&
        (i >= full->samples.size() || !(*ls == full->samples[i].labels) ||
         std::bit_cast<uint64_t>(lines[i].value) != std::bit_cast<uint64_t>(full->samples[i].value) ||
         lines[i].timestamp_ms != full->samples[i].timestamp_ms))
      std::abort();
  }
  if (ok != full.has_value() || (ok && lines.size() != full->samples.size())) std::abort();
  return 0;
}
