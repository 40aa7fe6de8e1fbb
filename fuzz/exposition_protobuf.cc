// Protobuf scrape bodies: any input parses to samples or an error, never a
// crash; every sample's series text reads back with parse_series (the
// scraper's cache relies on it) and every native histogram is well formed.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "storage/exposition_proto.h"

using namespace vigil::storage;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the histogram options.
  HistogramOptions opts{(data[0] & 1) != 0, (data[0] & 2) != 0, (data[0] & 4) != 0};
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  ParsedBody out;
  if (!parse_protobuf_exposition(body, opts, out)) {
    if (!out.samples.empty()) std::abort();
    return 0;
  }
  for (const RawSample& s : out.samples) {
    if (!parse_series(s.series, 0)) std::abort();
    if (s.histogram != 0 && (s.histogram > out.histograms.size() || !out.histograms[s.histogram - 1]->validate().empty()))
      std::abort();
  }
  return 0;
}
