#include <doctest/doctest.h>

#include <unistd.h>

#include "model/clock.h"
#include "model/duration.h"
#include "model/file.h"
#include "model/timestamp.h"

using namespace vigil;

TEST_CASE("timestamp: RFC 3339 both ways") {
  CHECK(parse_rfc3339("1970-01-01T00:00:00Z").value_or(-1) == 0);
  CHECK(parse_rfc3339("2024-05-01T12:00:00.5+02:00").value_or(-1) ==
        parse_rfc3339("2024-05-01T10:00:00.500Z").value_or(-2));
  CHECK(parse_rfc3339("2024-02-29T00:00:00Z").has_value());
  CHECK_FALSE(parse_rfc3339("2023-02-29T00:00:00Z").has_value());
  CHECK_FALSE(parse_rfc3339("2024-05-01 10:00:00Z").has_value());
  CHECK_FALSE(parse_rfc3339("2024-05-01T10:00:00").has_value());
  CHECK(format_rfc3339(*parse_rfc3339("2024-05-01T10:00:00Z")) == "2024-05-01T10:00:00Z");
  CHECK(format_rfc3339(*parse_rfc3339("2024-05-01T10:00:00.120Z")) == "2024-05-01T10:00:00.12Z");
  CHECK(format_rfc3339(-1) == "1969-12-31T23:59:59.999Z");
}

TEST_CASE("duration: Go durations") {
  CHECK(parse_go_duration("1h30m").value_or(-1) == 90 * kMinute);
  CHECK(parse_go_duration("1.5s").value_or(-1) == 1500);
  CHECK(parse_go_duration("-2m").value_or(-1) == -2 * kMinute);
  CHECK(parse_go_duration("0").value_or(-1) == 0);
  CHECK(parse_go_duration("1d").error().message == "time: unknown unit \"d\" in duration \"1d\"");
  CHECK(parse_go_duration("10").error().message == "time: missing unit in duration \"10\"");
  CHECK_FALSE(parse_go_duration(""));
}

TEST_CASE("clock: a manual clock moves only when told") {
  ManualClock c(1000);
  c.advance(500);
  CHECK(c.now() == 1500);
  c.set(10);
  CHECK(c.now() == 10);
}

TEST_CASE("file: atomic replace and read back") {
  char dir[] = "/tmp/vigil-file-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  std::string path = std::string(dir) + "/state";
  REQUIRE(write_file_atomic(path, "one"));
  REQUIRE(write_file_atomic(path, "two"));
  CHECK(read_file(path).value_or("") == "two");
  CHECK(read_file(path + ".missing").error().message ==
        "open " + path + ".missing: no such file or directory");
  CHECK_FALSE(write_file_atomic(std::string(dir) + "/no/such/dir/f", "x"));
  ::unlink(path.c_str());
  ::rmdir(dir);
}
