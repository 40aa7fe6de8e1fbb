#include <doctest/doctest.h>

#include "model/names.h"

using namespace vigil;

TEST_CASE("classic metric and label names") {
  CHECK(is_legacy_metric_name("http_requests_total"));
  CHECK(is_legacy_metric_name("job:rate5m:sum"));
  CHECK(is_legacy_metric_name("_x"));
  CHECK_FALSE(is_legacy_metric_name("5xx"));
  CHECK_FALSE(is_legacy_metric_name(""));
  CHECK_FALSE(is_legacy_metric_name("a-b"));
  CHECK(is_legacy_label_name("instance"));
  CHECK_FALSE(is_legacy_label_name("a:b"));
  CHECK_FALSE(is_legacy_label_name("0a"));
}

TEST_CASE("UTF-8 names are valid in Prometheus 3") {
  CHECK(is_valid_metric_name("http.requests.total"));
  CHECK(is_valid_label_name("ünïcödé"));
  CHECK_FALSE(is_valid_label_name(""));
  CHECK_FALSE(is_valid_metric_name("\xff\xfe"));
  CHECK_FALSE(is_valid_utf8("\xc0\x80"));       // overlong encoding
  CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));   // surrogate
  CHECK(is_valid_utf8("日本"));
}

TEST_CASE("go_quote matches Go's strconv.Quote") {
  CHECK(go_quote("abc") == "\"abc\"");
  CHECK(go_quote("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(go_quote("line\nnext\ttab") == "\"line\\nnext\\ttab\"");
  CHECK(go_quote(std::string("\x01", 1)) == "\"\\x01\"");
  CHECK(go_quote("\x7f") == "\"\\x7f\"");
  CHECK(go_quote("日本") == "\"日本\"");
  CHECK(go_quote("\xff") == "\"\\xff\"");
  CHECK(go_quote("\xc2\x85") == "\"\\u0085\"");
}
