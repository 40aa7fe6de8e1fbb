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
