// The streaming JSON writer: structure, commas, and strings escaped as the
// JSON library the rest of vigil uses escapes them.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "model/json_writer.h"

using namespace vigil;

namespace {
std::string written(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}
std::string reference(std::string_view s) {
  return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
}  // namespace

TEST_CASE("json writer: strings are escaped as the JSON library escapes them") {
  for (std::string_view s : {std::string_view(""), std::string_view("plain"), std::string_view("quote \" and \\ back"),
                             std::string_view("tab\tnew\nline\rform\fback\b"), std::string_view("\x01\x1f\x7f", 3),
                             std::string_view("nul \0 inside", 12), std::string_view("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x94\xa5"),
                             std::string_view("<script>&amp;</script>")}) {
    CAPTURE(s);
    CHECK(written(s) == reference(s));
  }
}

TEST_CASE("json writer: bytes that are not UTF-8 become U+FFFD") {
  CHECK(written("a\xff" "b") == "\"a\xEF\xBF\xBD" "b\"");
  CHECK(written("\xc3") == "\"\xEF\xBF\xBD\"");              // cut short
  CHECK(written("\xed\xa0\x80") == "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // a surrogate
  CHECK(written("\xc0\xaf") == "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");  // overlong
  // Whatever comes out is valid JSON.
  CHECK(nlohmann::json::accept(written("\xf5\x80\x80\x80 x \xe0\x80")));
}

TEST_CASE("json writer: nested structures get their commas") {
  std::string out;
  JsonWriter w(out);
  w.begin_array();
  w.begin_object().member("a", "x").member("n", int64_t{-3}).member("b", true).key("z").null().end_object();
  w.begin_array().end_array();
  w.begin_object().end_object();
  w.string("s").raw("{\"r\":1}").number(7);
  w.end_array();
  CHECK(out == R"([{"a":"x","n":-3,"b":true,"z":null},[],{},"s",{"r":1},7])");
  CHECK(nlohmann::json::accept(out));
}
