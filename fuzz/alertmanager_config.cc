// alertmanager.yml: any input loads or gives errors, never a crash. A loaded
// configuration also builds its route tree, routes an alert through it and
// is redacted as the status API shows it.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "routing/config.h"
#include "routing/config_redact.h"
#include "routing/route.h"

using namespace vigil;
using namespace vigil::routing;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the matcher syntax (--enable-feature).
  LoadOptions opts;
  switch (data[0] % 3) {
    case 0: opts.matcher_syntax = MatcherSyntax::kFallback; break;
    case 1: opts.matcher_syntax = MatcherSyntax::kClassic; break;
    default: opts.matcher_syntax = MatcherSyntax::kUtf8; break;
  }
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  LoadResult r = parse_config(text, opts);
  for (const Error& e : r.errors) (void)format_error("fuzz.yml", e);
  if (!r.ok()) return 0;
  auto root = Route::build(r.config.route);
  (void)root->match(Labels{{"alertname", "Fuzz"}, {"severity", "critical"}});
  // "a configuration that loaded never fails" (config_redact.h).
  auto redacted = redacted_config_yaml(text);
  if (!redacted) {
    std::fprintf(stderr, "a loaded configuration failed redaction: %s\n", redacted.error().message.c_str());
    std::abort();
  }
  return 0;
}
