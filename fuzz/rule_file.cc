// Prometheus rule files: any input loads or gives errors, never a crash; the
// errors format as promtool prints them.
#include <cstdint>
#include <string_view>

#include "rules/rule_file.h"

using namespace vigil::rules;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks promtool's --ignore-unknown-fields.
  LoadOptions opts;
  opts.ignore_unknown_fields = data[0] & 1;
  std::string_view content(reinterpret_cast<const char*>(data + 1), size - 1);
  LoadResult r = parse_rule_file(content, opts);
  (void)format_errors(r.errors);
  if (r.ok()) (void)r.file.rule_count();
  return 0;
}
