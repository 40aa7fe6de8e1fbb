// Scrape bodies: any input parses to samples or an error, never a crash.
#include <cstdint>
#include <string_view>

#include "storage/exposition.h"

using namespace vigil::storage;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the format.
  auto format = data[0] & 1 ? ExpositionFormat::kOpenMetrics : ExpositionFormat::kPrometheusText;
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  (void)parse_exposition(body, format);
  return 0;
}
