// The remaining-stack measure the recursive readers stop on, and those
// readers on thread stacks much smaller than the 8 MiB their level limits
// were chosen for: each ends with its "nested too deeply" error.
#include <doctest/doctest.h>

#include <string>

#include "model/stack.h"
#include "promql/engine.h"
#include "promql/parser.h"
#include "templates/template.h"
#include "tests/small_stack.h"

using namespace vigil;
using vigil::testing::run_on_stack;

namespace {

std::string repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

[[gnu::noinline]] size_t remaining_below(int levels) {
  volatile char pad[256];
  pad[0] = 0;
  size_t r = levels == 0 ? stack_remaining() : remaining_below(levels - 1);
  return r + pad[0];
}

}  // namespace

TEST_CASE("stack: the remaining stack is within the thread's and shrinks as calls nest") {
  size_t here = 0, deeper = 0;
  run_on_stack(1 << 20, [&] {
    here = stack_remaining();
    deeper = remaining_below(100);
  });
  CHECK(here > 0);
  CHECK(here <= (1u << 20) + testing::kStackExtra);
  CHECK(deeper < here - 100 * 256);
}

TEST_CASE("stack: the PromQL parser stops before a small stack overflows") {
  // 2000 levels are within the parser's level limit (2048); on a 512 KiB
  // stack they do not fit, whatever the build.
  for (const std::string& q : {repeat("(", 2000) + "1" + repeat(")", 2000), repeat("-", 2000) + "1",
                               repeat("abs(", 2000) + "x" + repeat(")", 2000), repeat("2 ^ ", 2000) + "2",
                               repeat("sum by (a) (", 2000) + "x" + repeat(")", 2000)}) {
    Result<promql::ExprPtr> r = fail("not run");
    run_on_stack(512 << 10, [&] { r = promql::parse_expr(q); });
    REQUIRE_FALSE(r);
    CHECK_MESSAGE(r.error().message.starts_with("expression nested too deeply"), r.error().message);
  }
}

TEST_CASE("stack: the template parser and executor stop before a small stack overflows") {
  Result<std::string> parsed = fail("not run"), executed = fail("not run");
  run_on_stack(512 << 10, [&] {
    templates::TemplateSet set;
    parsed = set.execute_text(repeat("{{ if true }}", 999) + "x" + repeat("{{ end }}", 999), templates::Value());
    executed = set.execute_text("{{ define \"f\" }}{{ template \"f\" . }}{{ end }}{{ template \"f\" . }}",
                                templates::Value());
  });
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().message == "template: :1: max expression depth exceeded");
  REQUIRE_FALSE(executed);
  CHECK(executed.error().message.find("exceeded maximum template depth") != std::string::npos);
}

TEST_CASE("stack: the PromQL engine stops before a small stack overflows") {
  // A tree the parser accepts on a large stack, evaluated on a small one.
  Result<promql::ExprPtr> expr = fail("not run");
  run_on_stack(64 << 20, [&] { expr = promql::parse_expr(repeat("abs(", 1000) + "vector(1)" + repeat(")", 1000)); });
  REQUIRE_MESSAGE(expr, expr.error().message);
  storage::MemoryStore store;
  Result<promql::QueryResult> r = fail("not run");
  run_on_stack(512 << 10, [&] { r = promql::Engine().instant(store, **expr, 0); });
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "expression nested too deeply to evaluate");
}
