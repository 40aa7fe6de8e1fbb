#include <doctest/doctest.h>

#include <unistd.h>

#include "model/clock.h"
#include "routing/silence.h"

using namespace vigil;
using namespace vigil::routing;

namespace {

constexpr Millis kT0 = 1'700'000'000'000;

Matcher m(MatchType t, std::string name, std::string value) {
  auto r = make_matcher(t, std::move(name), std::move(value));
  REQUIRE(r);
  return *r;
}

Silence silence(std::vector<Matcher> ms, Millis starts, Millis ends) {
  Silence s;
  s.matchers = std::move(ms);
  s.starts_at = starts;
  s.ends_at = ends;
  s.created_by = "me";
  s.comment = "maintenance";
  return s;
}

}  // namespace

TEST_CASE("silences: states follow the clock") {
  ManualClock clock(kT0);
  Silences sils(clock);
  auto id = sils.set(silence({m(MatchType::kEqual, "job", "api")}, kT0 + kMinute, kT0 + kHour));
  REQUIRE(id);
  CHECK(id->size() == 36);
  CHECK(sils.get(*id)->state_at(clock.now()) == SilenceState::kPending);
  CHECK(sils.mutes(Labels{{"job", "api"}}).empty());
  clock.advance(kMinute);
  CHECK(sils.mutes(Labels{{"job", "api"}}) == std::vector<std::string>{*id});
  CHECK(sils.mutes(Labels{{"job", "web"}}).empty());
  CHECK(sils.count(SilenceState::kActive) == 1);
  clock.set(kT0 + kHour + 1);
  CHECK(sils.mutes(Labels{{"job", "api"}}).empty());
  CHECK(sils.count(SilenceState::kExpired) == 1);
}

TEST_CASE("silences: invalid silences are rejected as upstream rejects them") {
  ManualClock clock(kT0);
  Silences sils(clock);
  auto err = [&](Silence s) { return sils.set(std::move(s)).error().message; };
  CHECK(err(silence({}, kT0, kT0 + kHour)) == "invalid silence: at least one matcher required");
  CHECK(err(silence({m(MatchType::kEqual, "job", "")}, kT0, kT0 + kHour)) ==
        "invalid silence: at least one matcher must not match the empty string");
  CHECK(err(silence({m(MatchType::kRegex, "job", ".*")}, kT0, kT0 + kHour)) ==
        "invalid silence: at least one matcher must not match the empty string");
  CHECK(err(silence({m(MatchType::kEqual, "job", "x")}, kT0, kT0 - 1)) ==
        "invalid silence: end time must not be before start time");
  CHECK(err(silence({m(MatchType::kEqual, "job", "x")}, kT0, 0)) == "invalid silence: invalid zero end timestamp");
  CHECK(err(silence({m(MatchType::kEqual, "", "x")}, kT0, kT0 + kHour)) ==
        "invalid silence: invalid label matcher 0: invalid label name \"\"");
  Silence unknown = silence({m(MatchType::kEqual, "job", "x")}, kT0, kT0 + kHour);
  unknown.id = "nope";
  CHECK(err(unknown) == "silence not found");
  // A matcher that cannot match empty makes the set acceptable.
  CHECK(sils.set(silence({m(MatchType::kRegex, "job", ".*"), m(MatchType::kNotEqual, "x", "y"),
                          m(MatchType::kEqual, "team", "a")}, kT0, kT0 + kHour)));
}

TEST_CASE("silences: update in place or replace, as upstream") {
  ManualClock clock(kT0);
  Silences sils(clock);
  auto id = sils.set(silence({m(MatchType::kEqual, "job", "api")}, kT0, kT0 + kHour));
  REQUIRE(id);
  // Extending an active silence keeps its id.
  Silence s = *sils.get(*id);
  s.ends_at = kT0 + 2 * kHour;
  s.comment = "longer";
  clock.advance(kMinute);
  auto same = sils.set(s);
  REQUIRE(same);
  CHECK(*same == *id);
  CHECK(sils.get(*id)->ends_at == kT0 + 2 * kHour);
  CHECK(sils.get(*id)->updated_at == kT0 + kMinute);
  // Changing the matchers expires it and creates another.
  s.matchers = {m(MatchType::kEqual, "job", "web")};
  auto other = sils.set(s);
  REQUIRE(other);
  CHECK(*other != *id);
  CHECK(sils.get(*id)->state_at(clock.now()) == SilenceState::kActive);  // ends now: still active at now
  clock.advance(1);
  CHECK(sils.get(*id)->state_at(clock.now()) == SilenceState::kExpired);
  CHECK(sils.mutes(Labels{{"job", "web"}}) == std::vector<std::string>{*other});
  CHECK(sils.list().size() == 2);
  CHECK(sils.version() == 2);
}

TEST_CASE("silences: expire, then forget after the retention") {
  ManualClock clock(kT0);
  Silences sils(clock, 10 * kMinute);
  auto pending = sils.set(silence({m(MatchType::kEqual, "a", "1")}, kT0 + kHour, kT0 + 2 * kHour));
  auto active = sils.set(silence({m(MatchType::kEqual, "a", "2")}, kT0, kT0 + 2 * kHour));
  REQUIRE(pending);
  REQUIRE(active);
  REQUIRE(sils.expire(*pending));
  REQUIRE(sils.expire(*active));
  CHECK(sils.get(*pending)->starts_at == kT0);  // a pending silence never starts
  CHECK(sils.get(*active)->ends_at == kT0);
  CHECK(sils.expire(*active));  // again: fine
  CHECK(sils.expire("nope").error().message == "silence not found");
  clock.advance(10 * kMinute - 1);
  CHECK(sils.gc() == 0);
  clock.advance(1);
  CHECK(sils.gc() == 2);
  CHECK(sils.list().empty());
}

TEST_CASE("silences: a thousand silences, matched through the index") {
  ManualClock clock(kT0);
  Silences sils(clock);
  for (int i = 0; i < 1000; ++i)
    REQUIRE(sils.set(silence({m(MatchType::kEqual, "instance", "host-" + std::to_string(i)),
                              m(MatchType::kRegex, "job", "api|web")}, kT0, kT0 + kHour)));
  auto regex_only = sils.set(silence({m(MatchType::kRegex, "severity", "debug")}, kT0, kT0 + kHour));
  REQUIRE(regex_only);
  CHECK(sils.mutes(Labels{{"instance", "host-7"}, {"job", "api"}}).size() == 1);
  CHECK(sils.mutes(Labels{{"instance", "host-7"}, {"job", "db"}}).empty());
  CHECK(sils.mutes(Labels{{"instance", "host-7000"}, {"job", "api"}}).empty());
  CHECK(sils.mutes(Labels{{"severity", "debug"}}) == std::vector<std::string>{*regex_only});
}

TEST_CASE("silences: snapshot and restore") {
  ManualClock clock(kT0);
  Silences sils(clock);
  auto id = sils.set(silence({m(MatchType::kNotRegex, "env", "dev|test"), m(MatchType::kEqual, "team", "a")},
                             kT0, kT0 + kHour));
  REQUIRE(id);
  char dir[] = "/tmp/vigil-sil-XXXXXX";
  REQUIRE(mkdtemp(dir));
  const std::string path = std::string(dir) + "/silences.json";
  REQUIRE(sils.save(path));
  Silences restored(clock);
  REQUIRE(restored.load(path));
  REQUIRE(restored.get(*id));
  CHECK(restored.get(*id)->comment == "maintenance");
  CHECK(restored.get(*id)->matchers == sils.get(*id)->matchers);
  CHECK(restored.mutes(Labels{{"team", "a"}, {"env", "prod"}}) == std::vector<std::string>{*id});
  CHECK(restored.mutes(Labels{{"team", "a"}, {"env", "dev"}}).empty());
  CHECK(Silences(clock).load(std::string(dir) + "/missing.json"));
  CHECK_FALSE(restored.restore("{not json"));
  ::unlink(path.c_str());
  ::rmdir(dir);
}

TEST_CASE("silences: limits on how many are held and how large one is") {
  ManualClock clock(kT0);
  Silences sils(clock);
  sils.set_limits(SilenceLimits{2, 0});
  auto make = [&](std::string value) {
    Silence s;
    s.matchers = {*make_matcher(MatchType::kEqual, "alertname", std::move(value))};
    s.ends_at = kT0 + kHour;
    return s;
  };
  auto a = sils.set(make("A"));
  REQUIRE(a);
  REQUIRE(sils.set(make("B")));
  auto third = sils.set(make("C"));
  REQUIRE_FALSE(third);
  CHECK(third.error().message == "exceeded maximum number of silences: 2 (limit: 2)");
  // Expiring does not free room (expired silences are held until retention),
  // but an in-place update needs none.
  Silence longer = *sils.get(*a);
  longer.ends_at = kT0 + 2 * kHour;
  CHECK(sils.set(longer));
  REQUIRE(sils.expire(*a));
  CHECK_FALSE(sils.set(make("C")));

  Silences sized(clock, 120 * kHour);
  Silence big = make(std::string(200, 'x'));
  const size_t n = silence_wire_size(big, 120 * kHour);
  sized.set_limits(SilenceLimits{0, n + 60});  // room for the id (38 bytes) and times set on creation
  auto id = sized.set(big);
  REQUIRE(id);
  // The limit is inclusive: a silence exactly as large is taken.
  const size_t stored = silence_wire_size(*sized.get(*id), 120 * kHour);
  Silences exact(clock, 120 * kHour);
  exact.set_limits(SilenceLimits{0, stored});
  CHECK(exact.set(big));
  exact.set_limits(SilenceLimits{0, stored - 1});
  CHECK_FALSE(exact.set(big));
  sized.set_limits(SilenceLimits{0, 100});
  auto refused = sized.set(make(std::string(200, 'y')));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.starts_with("silence exceeded maximum size: "));
  CHECK(refused.error().message.ends_with(" bytes (limit: 100 bytes)"));
}

TEST_CASE("silences: the size is upstream's protobuf encoding of the silence and its expiry") {
  // Worked by hand from the wire format: id 1+1+36, one EQUAL matcher
  // (1+1+(1+1+9 + 1+1+3)), three timestamps of whole seconds around 1.7e9
  // (1+1+(1+5) each), created_by 1+1+2, comment 1+1+4; the silence message
  // 1+1+90, the expiry timestamp 1+1+6.
  Silence s;
  s.id = std::string(36, '0');
  s.matchers = {*make_matcher(MatchType::kEqual, "alertname", "Foo")};
  s.starts_at = s.updated_at = 1700000000000;
  s.ends_at = 1700003600000;
  s.created_by = "me";
  s.comment = "test";
  CHECK(silence_wire_size(s, 120 * kHour) == 100);
  s.starts_at += 5;  // 5 ms: nanos 5000000, one more field of 1+4 bytes
  CHECK(silence_wire_size(s, 120 * kHour) == 105);
}
