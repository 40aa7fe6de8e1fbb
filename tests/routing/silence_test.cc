#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "model/clock.h"
#include "routing/silence.h"
#include "tests/temp_dir.h"

using namespace vigil;
using namespace vigil::routing;
using vigil::testing::TempDir;

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

TEST_CASE("silences: a record round-trips every field") {
  Silence s = silence({m(MatchType::kNotRegex, "env", "dev|test"), m(MatchType::kEqual, "team", "a"),
                       m(MatchType::kNotEqual, "x", ""), m(MatchType::kRegex, "y", ".+")},
                      kT0, kT0 + kHour);
  s.id = "4b1c7d8e-0000-4000-8000-000000000001";
  s.updated_at = kT0 + 5;
  std::string payload;
  encode_silence(payload, s);
  auto back = decode_silence(payload);
  REQUIRE(back);
  CHECK(back->id == s.id);
  CHECK(back->matchers == s.matchers);
  CHECK(back->starts_at == s.starts_at);
  CHECK(back->ends_at == s.ends_at);
  CHECK(back->updated_at == s.updated_at);
  CHECK(back->created_by == "me");
  CHECK(back->comment == "maintenance");
  CHECK_FALSE(decode_silence(std::string_view(payload).substr(0, payload.size() - 1)));
}

TEST_CASE("silences: annotations round-trip; a silence without any is written as before they existed") {
  Silence s = silence({m(MatchType::kEqual, "team", "a")}, kT0, kT0 + kHour);
  s.id = "4b1c7d8e-0000-4000-8000-000000000002";
  std::string plain;
  encode_silence(plain, s);
  CHECK(plain[0] == 1);  // the format earlier vigils read
  s.annotations = {{"ticket", "JIRA-123"}, {"", ""}, {"note", std::string(300, 'x')}};
  std::string annotated;
  encode_silence(annotated, s);
  CHECK(annotated[0] == 2);
  auto back = decode_silence(annotated);
  REQUIRE(back);
  CHECK(back->annotations == s.annotations);
  CHECK(back->comment == "maintenance");
  CHECK_FALSE(decode_silence(std::string_view(annotated).substr(0, annotated.size() - 1)));
  auto old = decode_silence(plain);
  REQUIRE(old);
  CHECK(old->annotations.empty());
}

TEST_CASE("silences: annotations are kept in the data directory") {
  TempDir dir("vigil-sil");
  ManualClock clock(kT0);
  std::string id;
  {
    Silences sils(clock);
    sils.open(dir.path().string());
    Silence s = silence({m(MatchType::kEqual, "team", "a")}, kT0, kT0 + kHour);
    s.annotations = {{"ticket", "JIRA-123"}};
    id = *sils.set(s);
  }
  Silences sils(clock);
  CHECK(sils.open(dir.path().string()).damage.empty());
  REQUIRE(sils.get(id));
  CHECK(sils.get(id)->annotations == std::map<std::string, std::string, std::less<>>{{"ticket", "JIRA-123"}});
}

TEST_CASE("silences: every change is in the data directory when it returns, without a save") {
  TempDir dir("vigil-sil");
  ManualClock clock(kT0);
  std::string kept, expired, replaced, replacement;
  {
    Silences sils(clock);
    CHECK(sils.open(dir.path().string()).damage.empty());
    kept = *sils.set(silence({m(MatchType::kNotRegex, "env", "dev|test"), m(MatchType::kEqual, "team", "a")}, kT0,
                             kT0 + kHour));
    expired = *sils.set(silence({m(MatchType::kEqual, "team", "b")}, kT0, kT0 + kHour));
    replaced = *sils.set(silence({m(MatchType::kEqual, "team", "c")}, kT0, kT0 + kHour));
    clock.advance(kMinute);
    REQUIRE(sils.expire(expired));
    Silence changed = *sils.get(replaced);
    changed.matchers = {m(MatchType::kEqual, "team", "d")};
    replacement = *sils.set(changed);
    CHECK(replacement != replaced);
  }  // dropped as by kill -9: nothing saved at the end
  clock.advance(kSecond);
  Silences sils(clock);
  auto opened = sils.open(dir.path().string());
  CHECK(opened.damage.empty());
  CHECK(opened.errors.empty());
  CHECK(sils.list().size() == 4);
  REQUIRE(sils.get(kept));
  CHECK(sils.get(kept)->comment == "maintenance");
  CHECK(sils.mutes(Labels{{"team", "a"}, {"env", "prod"}}) == std::vector<std::string>{kept});
  CHECK(sils.mutes(Labels{{"team", "a"}, {"env", "dev"}}).empty());
  // What was expired stays expired: it mutes nothing after the restart.
  CHECK(sils.get(expired)->state_at(clock.now()) == SilenceState::kExpired);
  CHECK(sils.mutes(Labels{{"team", "b"}}).empty());
  CHECK(sils.get(replaced)->state_at(clock.now()) == SilenceState::kExpired);
  CHECK(sils.mutes(Labels{{"team", "d"}}) == std::vector<std::string>{replacement});
}

TEST_CASE("silences: folding keeps every silence and forgets those past their retention") {
  TempDir dir("vigil-sil");
  ManualClock clock(kT0);
  Silences sils(clock, 10 * kMinute);
  sils.open(dir.path().string());
  auto old = sils.set(silence({m(MatchType::kEqual, "a", "old")}, kT0, kT0 + kMinute));
  REQUIRE(old);
  clock.advance(30 * kMinute);  // `old` ended 29 minutes ago: past its retention
  std::vector<std::string> ids;
  for (int i = 0; i < 120; ++i) {
    Silence s = silence({m(MatchType::kEqual, "instance", "host-" + std::to_string(i))}, clock.now(),
                        clock.now() + kHour);
    s.comment = std::string(10000, 'c');  // 1.2 MB in all: past the fold threshold
    ids.push_back(*sils.set(s));
  }
  const auto log = dir.path() / "silences.log";
  CHECK(sils.wants_fold());
  REQUIRE(sils.fold());
  CHECK(std::filesystem::file_size(log) == 8);  // the magic alone: everything is in the snapshot
  CHECK_FALSE(sils.wants_fold());
  Silences again(clock, 10 * kMinute);
  CHECK(again.open(dir.path().string()).damage.empty());
  CHECK(again.list().size() == 120);
  CHECK_FALSE(again.get(*old));
  CHECK(again.mutes(Labels{{"instance", "host-119"}}) == std::vector<std::string>{ids.back()});
}

TEST_CASE("silences: the silences.json of earlier versions is read and replaced by the record files") {
  TempDir dir("vigil-sil");
  ManualClock clock(kT0);
  dir.write("silences.json", R"({"version":1,"silences":[{"id":"a1b2c3d4-0000-4000-8000-000000000001",
    "matchers":[{"name":"job","value":"api|web","type":"=~"},{"name":"env","value":"prod","type":"="}],
    "starts_at":1700000000000,"ends_at":1700003600000,"updated_at":1700000000000,"created_by":"me",
    "comment":"upgrade","expires_at":1700435600000}]})");
  {
    Silences sils(clock);
    auto opened = sils.open(dir.path().string());
    CHECK(opened.damage.empty());
    CHECK(opened.errors.empty());
    REQUIRE(sils.get("a1b2c3d4-0000-4000-8000-000000000001"));
    CHECK(sils.mutes(Labels{{"job", "web"}, {"env", "prod"}}).size() == 1);
  }
  CHECK_FALSE(std::filesystem::exists(dir.path() / "silences.json"));
  CHECK(std::filesystem::exists(dir.path() / "silences.snapshot"));
  Silences sils(clock);
  sils.open(dir.path().string());
  REQUIRE(sils.get("a1b2c3d4-0000-4000-8000-000000000001"));
  CHECK(sils.get("a1b2c3d4-0000-4000-8000-000000000001")->comment == "upgrade");
}

TEST_CASE("silences: a damaged silences.json is set aside and the rest still loads") {
  TempDir dir("vigil-sil");
  ManualClock clock(kT0);
  std::string id;
  {
    Silences sils(clock);
    sils.open(dir.path().string());
    id = *sils.set(silence({m(MatchType::kEqual, "team", "a")}, kT0, kT0 + kHour));
  }
  std::string broken;
  SUBCASE("empty") { broken = ""; }
  SUBCASE("garbled") { broken = "{\"version\":1,\"silences\":[{\"id\":"; }
  SUBCASE("wrong shape") { broken = "[1, 2, 3]"; }
  dir.write("silences.json", broken);
  Silences sils(clock);
  auto opened = sils.open(dir.path().string());
  REQUIRE(opened.damage.size() == 1);
  CHECK(opened.damage[0].file == (dir.path() / "silences.json").string());
  CHECK(opened.damage[0].moved_to.find("silences.json.damaged-20231114T221320Z") != std::string::npos);
  CHECK(std::filesystem::exists(opened.damage[0].moved_to));
  CHECK_FALSE(std::filesystem::exists(dir.path() / "silences.json"));
  CHECK(sils.get(id));
}

TEST_CASE("silences: damaged bytes in the log cost the silence they hit, and the log is rewritten") {
  TempDir dir("vigil-sil");
  ManualClock clock(kT0);
  std::vector<std::string> ids;
  std::vector<size_t> ends;
  {
    Silences sils(clock);
    sils.open(dir.path().string());
    for (int i = 0; i < 5; ++i) {
      ids.push_back(*sils.set(silence({m(MatchType::kEqual, "n", std::to_string(i))}, kT0, kT0 + kHour)));
      ends.push_back(std::filesystem::file_size(dir.path() / "silences.log"));
    }
  }
  {
    std::fstream f(dir.path() / "silences.log", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(ends[1] + 30));  // inside silence 2's record
    f.write("garbled!garbled!", 16);
  }
  Silences sils(clock);
  auto opened = sils.open(dir.path().string());
  REQUIRE(opened.damage.size() == 1);
  CHECK(opened.damage[0].begin == ends[1]);
  CHECK(opened.damage[0].end == ends[2]);
  CHECK(sils.list().size() == 4);
  CHECK_FALSE(sils.get(ids[2]));
  CHECK(sils.get(ids[4]));
  // Folded at once: the next start reads clean files.
  Silences again(clock);
  CHECK(again.open(dir.path().string()).damage.empty());
  CHECK(again.list().size() == 4);
}

TEST_CASE("silences: a change that cannot be written is a storage error, and holds in memory") {
  TempDir dir("vigil-sil");
  ManualClock clock(kT0);
  Silences sils(clock);
  sils.open(dir.path().string());
  std::filesystem::create_symlink("/dev/full", dir.path() / "silences.log");
  auto id = sils.set(silence({m(MatchType::kEqual, "team", "a")}, kT0, kT0 + kHour));
  REQUIRE_FALSE(id);
  CHECK(id.error().kind == SilenceError::Kind::kStorage);
  CHECK(sils.list().size() == 1);
  CHECK(sils.expire("nope").error().kind == SilenceError::Kind::kNotFound);
  CHECK(sils.set(silence({}, kT0, kT0 + kHour)).error().kind == SilenceError::Kind::kInvalid);
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

  // Annotations are a protobuf map: an entry message each (1+2+306 for
  // "k" and 300 x's; the silence's own length then takes a byte more),
  // whose key and value are written even when empty:
  // Alertmanager 0.33 measured an ("", "") entry at 6 bytes more and a
  // ("b", "") entry at 7 more.
  const size_t without = silence_wire_size(s, 120 * kHour);
  s.annotations = {{"k", std::string(300, 'x')}};
  const size_t with_k = silence_wire_size(s, 120 * kHour);
  CHECK(with_k == without + 310);
  s.annotations[""] = "";
  CHECK(silence_wire_size(s, 120 * kHour) == with_k + 6);
  s.annotations.erase("");
  s.annotations["b"] = "";
  CHECK(silence_wire_size(s, 120 * kHour) == with_k + 7);
}

TEST_CASE("silences: changes are told to the observer; another replica's are merged, newest change first") {
  ManualClock clock(kT0);
  Silences here(clock), there(clock);
  std::vector<Silence> told;
  here.set_observer([&](const Silence& s) { told.push_back(s); });
  auto id = here.set(silence({m(MatchType::kEqual, "job", "api")}, kT0, kT0 + kHour));
  REQUIRE(id);
  REQUIRE(told.size() == 1);
  CHECK(told[0].id == *id);

  // The other replica takes it, and then mutes as this one does.
  auto taken = there.merge(told[0]);
  REQUIRE(taken);
  CHECK(*taken);
  CHECK(there.mutes(Labels{{"job", "api"}}) == std::vector<std::string>{*id});
  CHECK_FALSE(*there.merge(told[0]));  // the same change again: nothing to take

  // Expired there later: the expiry wins here; the older change does not
  // come back.
  clock.advance(kMinute);
  std::vector<Silence> told_there;
  there.set_observer([&](const Silence& s) { told_there.push_back(s); });
  REQUIRE(there.expire(*id));
  REQUIRE(told_there.size() == 1);
  size_t before = told.size();
  CHECK(*here.merge(told_there[0]));
  CHECK(told.size() == before);  // merges are not told again
  clock.advance(kSecond);         // past the end the expiry set
  CHECK(here.mutes(Labels{{"job", "api"}}).empty());
  CHECK_FALSE(*here.merge(told[0]));
  CHECK(here.get(*id)->state_at(clock.now()) == SilenceState::kExpired);

  // Past its retention: not taken. Invalid: refused.
  Silence ancient = told[0];
  ancient.id = "00000000-0000-0000-0000-000000000001";
  ancient.ends_at = kT0 - 200 * kHour;
  ancient.starts_at = kT0 - 201 * kHour;
  ancient.updated_at = kT0 - 201 * kHour;
  CHECK_FALSE(*here.merge(ancient));
  Silence bad = told[0];
  bad.id = "00000000-0000-0000-0000-000000000002";
  bad.matchers.clear();
  CHECK_FALSE(here.merge(bad));
}

TEST_CASE("silences: merged silences are kept on disk like any change") {
  TempDir dir;
  ManualClock clock(kT0);
  Silence s = silence({m(MatchType::kEqual, "job", "api")}, kT0, kT0 + kHour);
  s.id = "5b1c6a3e-1111-4222-8333-444455556666";
  s.updated_at = kT0;
  {
    Silences sils(clock);
    sils.open(dir.path());
    REQUIRE(*sils.merge(s));
  }
  Silences again(clock);
  again.open(dir.path());
  CHECK(again.mutes(Labels{{"job", "api"}}) == std::vector<std::string>{s.id});
}
