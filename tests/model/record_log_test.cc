// The record log under alerts and silences: records come back in order,
// damage costs only the records it hits (and says which bytes), a damaged
// or foreign file is kept aside and never stops a load, folding keeps the
// state, and syncs are shared.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "model/file.h"
#include "model/record_log.h"
#include "tests/temp_dir.h"

using namespace vigil;
using vigil::testing::TempDir;

namespace {

constexpr Millis kT0 = 1'700'000'000'000;  // 2023-11-14T22:13:20Z

RecordLog::Options options(const TempDir& dir) {
  RecordLog::Options o;
  o.dir = dir.path().string();
  o.name = "things";
  o.magic = "VGTEST01";
  o.legacy_magic = "VGTEST00";
  return o;
}

std::string batch_of(std::initializer_list<std::string> payloads) {
  RecordBatch b;
  for (const auto& p : payloads) {
    b.begin() += p;
    b.end();
  }
  return std::string(b.bytes());
}

// Loads a log's records as strings.
struct Read {
  std::vector<std::string> records;
  RecordLog::Loaded loaded;
};
Read read(const TempDir& dir, std::function<bool(std::string_view)> accept = nullptr) {
  Read r;
  RecordLog log(options(dir));
  r.loaded = log.load(
      [&](std::string_view p) {
        if (accept && !accept(p)) return false;
        r.records.emplace_back(p);
        return true;
      },
      kT0);
  return r;
}

std::string contents(const std::filesystem::path& p) { return read_file(p.string()).value(); }

void overwrite(const std::filesystem::path& p, size_t at, std::string_view bytes) {
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(at));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::vector<std::string> aside_copies(const TempDir& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir.path()))
    if (e.path().filename().string().find(".damaged-") != std::string::npos) out.push_back(e.path().filename());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> strings(std::initializer_list<const char*> l) { return {l.begin(), l.end()}; }

// A producer of `records` for a fold.
RecordLog::Capture state_of(std::vector<std::string> records) {
  return [records = std::move(records)]() -> RecordLog::Producer {
    return [records](RecordBatch& b) {
      for (const auto& r : records) {
        b.begin() += r;
        b.end();
      }
      return false;
    };
  };
}

}  // namespace

TEST_CASE("record log: records come back in the order written, across restarts") {
  TempDir dir("vigil-rlog");
  {
    RecordLog log(options(dir));
    CHECK(log.load([](std::string_view) { return true; }, kT0).records == 0);
    REQUIRE(log.append(batch_of({"one", "two"})));
    REQUIRE(log.append(batch_of({"", std::string(100000, 'x')})));
  }
  {
    RecordLog log(options(dir));  // a restart: appends go on after what is there
    auto r = read(dir);
    REQUIRE(log.append(batch_of({"three"})));
  }
  auto r = read(dir);
  CHECK(r.loaded.damage.empty());
  CHECK_FALSE(r.loaded.needs_fold);
  REQUIRE(r.records.size() == 5);
  CHECK(r.records[0] == "one");
  CHECK(r.records[2].empty());
  CHECK(r.records[3].size() == 100000);
  CHECK(r.records[4] == "three");
}

TEST_CASE("record log: damaged bytes in the middle cost only the records they hit") {
  TempDir dir("vigil-rlog");
  {
    RecordLog log(options(dir));
    for (int i = 0; i < 10; ++i) REQUIRE(log.append(batch_of({"record number " + std::to_string(i)})));
  }
  const auto path = dir.path() / "things.log";
  const std::string before = contents(path);
  // Record i starts at 8 + 12 * i + (bytes of the payloads before it); each
  // payload here is 15 bytes, so records are 27 bytes long.
  const size_t at = 8 + 27 * 4 + 5;  // inside record 4
  overwrite(path, at, std::string(16, '\x5a'));
  auto r = read(dir);
  CHECK(r.records.size() == 9);
  CHECK(std::find(r.records.begin(), r.records.end(), "record number 4") == r.records.end());
  CHECK(r.records.back() == "record number 9");
  REQUIRE(r.loaded.damage.size() == 1);
  const StateDamage& d = r.loaded.damage[0];
  CHECK(d.file == path.string());
  CHECK(d.begin == 8 + 27 * 4);  // the whole record, from its start...
  CHECK(d.end == 8 + 27 * 5);    // ...to the next intact one
  CHECK(d.what.find("27 damaged bytes at offset 116") != std::string::npos);
  CHECK(r.loaded.needs_fold);
  // The damaged log is kept aside for a post-mortem, byte for byte.
  REQUIRE(aside_copies(dir).size() == 1);
  CHECK(d.moved_to == (dir.path() / aside_copies(dir)[0]).string());
  CHECK(aside_copies(dir)[0].starts_with("things.log.damaged-20231114T221320Z"));
  CHECK(contents(d.moved_to) == contents(path));
  CHECK(contents(path) != before);
}

TEST_CASE("record log: damage that spans records, and damage across the markers") {
  TempDir dir("vigil-rlog");
  {
    RecordLog log(options(dir));
    REQUIRE(log.append(batch_of({"aaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbb", "ccccccccccccccc", "ddddddddddddddd"})));
  }
  const auto path = dir.path() / "things.log";
  overwrite(path, 8 + 27 + 20, std::string(30, '\0'));  // the end of b and the start of c
  auto r = read(dir);
  CHECK(r.records == strings({"aaaaaaaaaaaaaaa", "ddddddddddddddd"}));
  REQUIRE(r.loaded.damage.size() == 1);
  CHECK(r.loaded.damage[0].begin == 8 + 27);
  CHECK(r.loaded.damage[0].end == 8 + 27 * 3);
}

TEST_CASE("record log: a record cut short at the end is dropped and reported, not kept aside") {
  TempDir dir("vigil-rlog");
  {
    RecordLog log(options(dir));
    REQUIRE(log.append(batch_of({"first", "second"})));
  }
  const auto path = dir.path() / "things.log";
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 3);
  auto r = read(dir);
  CHECK(r.records == strings({"first"}));
  REQUIRE(r.loaded.damage.size() == 1);
  CHECK(r.loaded.damage[0].what.find("not a whole record") != std::string::npos);
  CHECK(r.loaded.damage[0].end == std::filesystem::file_size(path));
  CHECK(aside_copies(dir).empty());
  CHECK(r.loaded.needs_fold);
}

TEST_CASE("record log: a record the owner cannot read is skipped, the rest is read") {
  TempDir dir("vigil-rlog");
  {
    RecordLog log(options(dir));
    REQUIRE(log.append(batch_of({"good", "bad", "good again"})));
  }
  auto r = read(dir, [](std::string_view p) { return p != "bad"; });
  CHECK(r.records == strings({"good", "good again"}));
  REQUIRE(r.loaded.damage.size() == 1);
  CHECK(r.loaded.damage[0].begin == 8 + 16);
  CHECK(r.loaded.damage[0].end == 8 + 16 + 15);
}

TEST_CASE("record log: a damaged snapshot is read as far as it can be, kept aside and replaced by a fold") {
  TempDir dir("vigil-rlog");
  {
    RecordLog log(options(dir));
    log.load([](std::string_view) { return true; }, kT0);
    REQUIRE(log.fold(state_of({"s1-padding-pad", "s2-padding-pad", "s3-padding-pad"})));
    REQUIRE(log.append(batch_of({"after"})));
  }
  overwrite(dir.path() / "things.snapshot", 8 + 26 + 14, "XXXX");  // record s2's payload
  {
    RecordLog log(options(dir));
    std::vector<std::string> got;
    auto loaded = log.load(
        [&](std::string_view p) {
          got.emplace_back(p);
          return true;
        },
        kT0);
    CHECK(got == strings({"s1-padding-pad", "s3-padding-pad", "after"}));
    REQUIRE(loaded.damage.size() == 1);
    CHECK(loaded.damage[0].file == (dir.path() / "things.snapshot").string());
    CHECK_FALSE(loaded.damage[0].moved_to.empty());
    REQUIRE(loaded.needs_fold);
    REQUIRE(log.fold(state_of(got)));
  }
  auto r = read(dir);
  CHECK(r.loaded.damage.empty());
  CHECK(r.records == strings({"s1-padding-pad", "s3-padding-pad", "after"}));
  CHECK(aside_copies(dir).size() == 1);
}

TEST_CASE("record log: files that are not ours, or empty snapshots, are kept aside and skipped") {
  TempDir dir("vigil-rlog");
  std::string what;
  SUBCASE("json") {
    dir.write("things.snapshot", "{\"version\":1}");
    what = "does not start with VGTEST01";
  }
  SUBCASE("empty") {
    dir.write("things.snapshot", "");
    what = "empty";
  }
  dir.write("things.log", "VGTEST01" + batch_of({"logged"}));
  auto r = read(dir);
  CHECK(r.records == strings({"logged"}));
  REQUIRE(r.loaded.damage.size() == 1);
  CHECK(r.loaded.damage[0].what.find(what) != std::string::npos);
  CHECK(r.loaded.needs_fold);
  CHECK(aside_copies(dir).size() == 1);
}

TEST_CASE("record log: the earlier format (no markers) is read up to its first damage, then folded away") {
  TempDir dir("vigil-rlog");
  // Earlier records: length, checksum, payload (the current ones without their marker).
  auto legacy = [](std::string framed) {
    std::string out = "VGTEST00";
    for (size_t at = 0; at < framed.size();) {
      uint32_t len;
      std::memcpy(&len, framed.data() + at + 4, 4);
      out += framed.substr(at + 4, 8 + len);
      at += 12 + len;
    }
    return out;
  };
  dir.write("things.snapshot", legacy(batch_of({"old-1", "old-2"})));
  dir.write("things.log", legacy(batch_of({"old-3"})) + "torn");
  RecordLog log(options(dir));
  std::vector<std::string> got;
  auto loaded = log.load(
      [&](std::string_view p) {
        got.emplace_back(p);
        return true;
      },
      kT0);
  CHECK(got == strings({"old-1", "old-2", "old-3"}));
  REQUIRE(loaded.damage.size() == 1);  // the torn tail
  REQUIRE(loaded.needs_fold);
  REQUIRE(log.fold(state_of(got)));
  REQUIRE(log.append(batch_of({"new"})));
  CHECK(contents(dir.path() / "things.snapshot").starts_with("VGTEST01"));
  CHECK(contents(dir.path() / "things.log").starts_with("VGTEST01"));
  auto again = read(dir);
  CHECK(again.loaded.damage.empty());
  CHECK(again.records == strings({"old-1", "old-2", "old-3", "new"}));
}

TEST_CASE("record log: a fold keeps the state, and records written meanwhile land in the fresh log") {
  TempDir dir("vigil-rlog");
  RecordLog log(options(dir));
  log.load([](std::string_view) { return true; }, kT0);
  for (int i = 0; i < 100; ++i) REQUIRE(log.append(batch_of({"change " + std::to_string(i)})));
  const size_t grown = log.log_bytes();
  REQUIRE(log.fold([&]() -> RecordLog::Producer {
    REQUIRE(log.append(batch_of({"during"})));  // after the rotation: into the fresh log
    return state_of({"state"})();
  }));
  CHECK(log.log_bytes() < grown);
  CHECK_FALSE(std::filesystem::exists(dir.path() / "things.log.1"));
  auto r = read(dir);
  CHECK(r.records == strings({"state", "during"}));
}

TEST_CASE("record log: a fold cut short is finished by the next one, losing nothing") {
  TempDir dir("vigil-rlog");
  {
    RecordLog log(options(dir));
    REQUIRE(log.append(batch_of({"a", "b"})));
  }
  // A crash after the rotation, before the snapshot was written.
  std::filesystem::rename(dir.path() / "things.log", dir.path() / "things.log.1");
  dir.write("things.log", "VGTEST01" + batch_of({"c"}));
  RecordLog log(options(dir));
  std::vector<std::string> got;
  auto loaded = log.load(
      [&](std::string_view p) {
        got.emplace_back(p);
        return true;
      },
      kT0);
  CHECK(got == strings({"a", "b", "c"}));
  CHECK(loaded.damage.empty());
  REQUIRE(loaded.needs_fold);
  REQUIRE(log.fold(state_of(got)));
  CHECK_FALSE(std::filesystem::exists(dir.path() / "things.log.1"));
  CHECK(read(dir).records == strings({"a", "b", "c"}));
}

TEST_CASE("record log: one sync covers every record written before it") {
  TempDir dir("vigil-rlog");
  RecordLog log(options(dir));
  auto a = log.write(batch_of({"a"}));
  auto b = log.write(batch_of({"b"}));
  REQUIRE(a);
  REQUIRE(b);
  CHECK(*b > *a);
  REQUIRE(log.sync(*b));
  CHECK(log.syncs() == 1);
  REQUIRE(log.sync(*a));  // already on disk: no second sync
  CHECK(log.syncs() == 1);
  // Concurrent appenders never sync more often than they append.
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) CHECK(log.append(batch_of({"x"})));
    });
  for (auto& t : threads) t.join();
  CHECK(log.syncs() <= 1 + 8 * 20);
  CHECK(read(dir).records.size() == 2 + 8 * 20);
}

TEST_CASE("record log: a log that cannot be written refuses records until a fold rewrites it") {
  TempDir dir("vigil-rlog");
  RecordLog log(options(dir));
  log.load([](std::string_view) { return true; }, kT0);
  // Every write to /dev/full fails with "no space left on device".
  std::filesystem::create_symlink("/dev/full", dir.path() / "things.log");
  auto r = log.append(batch_of({"lost"}));
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("no space left") != std::string::npos);
  REQUIRE(log.fold(state_of({"from memory"})));
  REQUIRE(log.append(batch_of({"after"})));
  std::filesystem::remove(dir.path() / "things.log.1");
  CHECK(read(dir).records == strings({"from memory", "after"}));
}
