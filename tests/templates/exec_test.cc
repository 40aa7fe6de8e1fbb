#include <doctest/doctest.h>

#include "templates/template.h"

using namespace vigil::templates;

namespace {

std::string render(std::string_view text, const Value& data = Value()) {
  TemplateSet set;
  auto r = set.execute_text(text, data);
  if (!r) return "ERROR: " + r.error().message;
  return *r;
}

}  // namespace

TEST_CASE("smoke") {
  CHECK(render("hello {{ 1 }} {{ 1.5 }} {{ \"x\" }}") == "hello 1 1.5 x");
}
