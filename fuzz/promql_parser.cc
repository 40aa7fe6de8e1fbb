// PromQL expressions: any input parses to a tree or an error, never a crash,
// and a tree printed and parsed again is the same tree (printer.h's contract).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "promql/parser.h"
#include "promql/printer.h"

using namespace vigil::promql;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto expr = parse_expr(input);
  if (!expr) {
    (void)format_parse_error(expr.error());
    return 0;
  }
  const std::string printed = to_string(**expr);
  auto again = parse_expr(printed);
  if (!again) {
    // Printing may add parentheses: a tree at the depth limit can print as
    // one past it.
    if (again.error().message.find("nested too deeply") != std::string::npos) return 0;
    std::fprintf(stderr, "printed form does not parse: %s\nprinted: %s\n", format_parse_error(again.error()).c_str(),
                 printed.c_str());
    std::abort();
  }
  if (!equal(**expr, **again)) {
    std::fprintf(stderr, "printed form parses to another tree\nprinted: %s\nreprinted: %s\n", printed.c_str(),
                 to_string(**again).c_str());
    std::abort();
  }
  return 0;
}
