#include "rules/schedule.h"

#include <doctest/doctest.h>

#include <string>

#include "model/xxhash.h"

namespace vigil::rules {
namespace {

TEST_CASE("group schedule: the hash is XXH64 over the length-prefixed labels file, name") {
  // {file="f", name="g"}: 4 "file" 1 "f" 4 "name" 1 "g".
  const std::string enc = std::string("\x04" "file" "\x01" "f" "\x04" "name" "\x01" "g", 14);
  CHECK(group_hash("f", "g") == xxhash64(enc));
  // Swapping file and name gives another hash: the label names take part.
  CHECK(group_hash("g", "f") != group_hash("f", "g"));
  // A string of 255 bytes or more is preceded by 0xff and three length bytes.
  const std::string long_name(300, 'n');
  std::string enc_long = std::string("\x04" "file" "\x01" "f" "\x04" "name", 12);
  enc_long += std::string("\xff\x2c\x01\x00", 4);
  enc_long += long_name;
  CHECK(group_hash("f", long_name) == xxhash64(enc_long));
}

TEST_CASE("group schedule: offsets equal those of a Prometheus 3.5.3 run") {
  // The activeAt of a `vector(1)` alert in each group, taken modulo the
  // group's interval, as Prometheus 3.5.3 (Debian 3.5.3+ds1) reported them
  // for the rule file /tmp/sc_prom/rules.yml: alert activeAt is the group's
  // evaluation instant, to the nanosecond.
  const std::string file = "/tmp/sc_prom/rules.yml";
  CHECK(group_offset_nanos(file, "alpha", 10 * kSecond) == 6723476651);
  CHECK(group_offset_nanos(file, "a-much-longer-group-name-for-testing", kMinute) == 25416494921);
  CHECK(group_offset_nanos(file, "third", 7 * kSecond) == 3426989710);
  // vigil's clock is in milliseconds: the offset truncated.
  CHECK(group_offset(file, "alpha", 10 * kSecond) == 6723);
  CHECK(group_offset(file, "third", 7 * kSecond) == 3426);
}

TEST_CASE("group schedule: the offset is below the interval, and ticks land on it") {
  for (Millis interval : {Millis{1000}, 15 * kSecond, kMinute, 5 * kMinute, kHour}) {
    const Millis off = group_offset("rules/x.yml", "group", interval);
    CHECK(off >= 0);
    CHECK(off < interval);
    for (Millis t : {Millis{0}, Millis{1}, Millis{1'765'000'000'123}, off, off + interval - 1}) {
      const Millis tick = tick_at_or_before(t, off, interval);
      CHECK(tick <= t);
      CHECK(t - tick < interval);
      CHECK(((tick - off) % interval + interval) % interval == 0);
    }
  }
  CHECK(group_offset("f", "g", 0) == 0);
}

}  // namespace
}  // namespace vigil::rules
