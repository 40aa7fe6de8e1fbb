// Hostile templates end with a clear error, in bounded time and memory.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "templates/template.h"

using namespace vigil::templates;

namespace {

std::string repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

vigil::Result<std::string> run(std::string_view text, const Value& dot = Value(), Limits limits = {}) {
  TemplateSet set;
  set.set_limits(limits);
  return set.execute_text(text, dot);
}

}  // namespace

TEST_CASE("infinite recursion through template stops at the depth limit") {
  auto r = run("{{ define \"loop\" }}{{ template \"loop\" . }}{{ end }}{{ template \"loop\" . }}");
  REQUIRE(!r);
  CHECK(r.error().message ==
        "template: :1:31: executing \"loop\" at <{{template \"loop\" .}}>: exceeded maximum template "
        "depth (2000)");
}

TEST_CASE("recursion with a base case runs to its end") {
  // Counts down from 200 by slicing a list (sanitizer builds spend their
  // stack budget sooner, so this stays well below the limits).
  std::vector<std::string> items(200, "x");
  auto r = run("{{ define \"count\" }}{{ if . }}.{{ template \"count\" (slice . 1) }}{{ end }}{{ end }}"
               "{{ template \"count\" . }}",
               Value::strings(items));
  REQUIRE(r);
  CHECK(r->size() == 200);
}

TEST_CASE("exponential recursion runs out of steps, not time") {
  auto start = std::chrono::steady_clock::now();
  auto r = run("{{ define \"t\" }}{{ if lt (len .) 40 }}{{ template \"t\" (printf \"%sx\" .) }}"
               "{{ template \"t\" (printf \"%sy\" .) }}{{ end }}{{ end }}{{ template \"t\" \"\" }}",
               Value(), Limits{.max_depth = 2000, .max_steps = 100'000, .max_output = 1 << 20});
  REQUIRE(!r);
  CHECK(r.error().message.ends_with("template execution took more than 100000 steps"));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("output is bounded") {
  std::vector<std::string> items(10000, "0123456789");
  auto r = run("{{ range . }}{{ . }}{{ . }}{{ end }}", Value::strings(items),
               Limits{.max_depth = 2000, .max_steps = 10'000'000, .max_output = 100'000});
  REQUIRE(!r);
  CHECK(r.error().message.ends_with("template output exceeds 100000 bytes"));
}

TEST_CASE("a range over a million items completes with the default limits") {
  std::vector<Value> items(1'000'000, Value::integer(7));
  Value big = Value::slice(std::move(items), slice_of(int_type()));
  auto r = run("{{ $n := 0 }}{{ range $i, $e := . }}{{ $n = $i }}{{ end }}{{ $n }} {{ len . }}", big);
  REQUIRE(r);
  CHECK(*r == "999999 1000000");
  // The same range with a tight step budget fails instead of running on.
  auto tight = run("{{ range . }}{{ . }}{{ end }}", big, Limits{.max_depth = 2000, .max_steps = 1000});
  REQUIRE(!tight);
  CHECK(tight.error().message.ends_with("template execution took more than 1000 steps"));
}

TEST_CASE("strings cannot double without bound") {
  auto r = run("{{ $s := \"x\" }}{{ range 64 }}{{ $s = printf \"%s%s\" $s $s }}{{ end }}{{ len $s }}");
  REQUIRE(!r);
  CHECK(r.error().message.ends_with("result of printf exceeds 16777216 bytes"));
}

TEST_CASE("nesting is bounded when parsing") {
  auto parens = run("{{ " + repeat("(", 1001) + "1" + repeat(")", 1001) + " }}");
  REQUIRE(!parens);
  CHECK(parens.error().message == "template: :1: max expression depth exceeded");
  auto ifs = run(repeat("{{ if true }}", 1001) + "x" + repeat("{{ end }}", 1001));
  REQUIRE(!ifs);
  CHECK(ifs.error().message == "template: :1: max expression depth exceeded");
  auto ok = run(repeat("{{ if true }}", 100) + "x" + repeat("{{ end }}", 100));
  CHECK(ok.value() == "x");
}

TEST_CASE("huge widths are refused as Go refuses them") {
  // Go stops reading a width once it passes 10^6, so at most about 10^7 wide.
  CHECK(run("{{ printf \"%1000001d\" 1 }}").value().size() == 1000001);
  CHECK(run("{{ printf \"%100000000d\" 1 }}").value() == "%!(NOVERB)%!(EXTRA int=1)");
  CHECK(run("{{ printf \"%*d\" 10000000 1 }}").value() == "%!(BADWIDTH)1");
  CHECK(run("{{ printf \"%.*f\" 10000000 1.0 }}").value() == "%!(BADPREC)1.000000");
}

TEST_CASE("bad input never crashes the parser") {
  // Every prefix of a template with every construct either parses or fails
  // with a message; none may crash.
  std::string full =
      "{{- define \"x\" -}}{{ range $i, $e := .a }}{{ if eq $i 1 }}{{ break }}{{ else if . }}"
      "{{ continue }}{{ end }}{{ printf \"%d\" (len $e) | print }}{{ end }}{{ end -}}"
      "{{ with .b }}{{ template \"x\" . }}{{ else }}{{ block \"y\" . }}{{/* c */}}{{ end }}{{ end }}"
      "{{ $v := 'a' }}{{ $v = 0x1F }}{{ `raw` }}{{ nil }}";
  for (size_t n = 0; n <= full.size(); ++n) {
    TemplateSet set;
    auto r = set.parse("t", full.substr(0, n));
    if (!r) CHECK(r.error().message.starts_with("template: t:"));
  }
}
