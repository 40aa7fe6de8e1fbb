// The alert journal: records round-trip, the newest record of an alert wins,
// damage costs only the alerts it hit, the earlier format is upgraded, and
// compaction folds the log into the snapshot without losing what arrives
// meanwhile.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "model/file.h"
#include "routing/alert_journal.h"
#include "tests/temp_dir.h"

using namespace vigil;
using namespace vigil::routing;
using vigil::testing::TempDir;

namespace {

std::shared_ptr<const Alert> alert(std::string name, Millis updated, Millis ends = 0) {
  Alert a;
  a.labels = Labels{{"alertname", name}, {"instance", "h1:9100"}};
  a.annotations = {{"description", "line one\nline \"two\""}, {"summary", ""}};
  a.starts_at = 1000;
  a.ends_at = ends ? ends : updated + 300000;
  a.updated_at = updated;
  a.timeout = ends == 0;
  a.generator_url = "http://prom:9090/graph?g0.expr=up%3D%3D0";
  return std::make_shared<const Alert>(std::move(a));
}

constexpr Millis kNow = 1'700'000'000'000;

const Alert* find(const std::vector<Alert>& as, std::string_view name) {
  for (const Alert& a : as)
    if (a.name() == name) return &a;
  return nullptr;
}

}  // namespace

TEST_CASE("alert journal: a record round-trips every field") {
  auto a = alert("Down", 5000);
  std::string payload;
  encode_alert(payload, *a);
  auto back = decode_alert(payload);
  REQUIRE(back);
  CHECK(back->labels == a->labels);
  CHECK(back->annotations == a->annotations);
  CHECK(back->starts_at == 1000);
  CHECK(back->ends_at == a->ends_at);
  CHECK(back->updated_at == 5000);
  CHECK(back->timeout);
  CHECK(back->generator_url == a->generator_url);
  std::string other;
  encode_alert(other, *alert("Other", 6000, 7000));
  CHECK_FALSE(decode_alert(other)->timeout);
  // A payload cut short, or with bytes after the alert, is not an alert.
  CHECK_FALSE(decode_alert(std::string_view(payload).substr(0, payload.size() - 3)));
  CHECK_FALSE(decode_alert(payload + "x"));
}

TEST_CASE("alert journal: the log keeps every stored alert, the newest record of each") {
  TempDir dir("vigil-journal");
  {
    AlertJournal j(dir.path().string());
    std::vector<std::shared_ptr<const Alert>> batch{alert("A", 100), alert("B", 100)};
    REQUIRE(j.append(batch));
    std::vector<std::shared_ptr<const Alert>> later{alert("A", 200, 2500)};
    REQUIRE(j.append(later));
  }  // no snapshot: as after kill -9
  AlertJournal j(dir.path().string());
  auto loaded = j.load(kNow);
  CHECK(loaded.damage.empty());
  CHECK_FALSE(loaded.needs_fold);
  REQUIRE(loaded.alerts.size() == 2);
  REQUIRE(find(loaded.alerts, "A"));
  CHECK(find(loaded.alerts, "A")->updated_at == 200);
  CHECK(find(loaded.alerts, "A")->ends_at == 2500);
}

TEST_CASE("alert journal: 16 garbled bytes in the log cost the alert they hit, not those after it") {
  TempDir dir("vigil-journal");
  std::vector<size_t> ends;  // where each alert's record ends
  {
    AlertJournal j(dir.path().string());
    for (int i = 0; i < 20; ++i) {
      std::vector<std::shared_ptr<const Alert>> one{alert("A" + std::to_string(i), 100)};
      REQUIRE(j.append(one));
      ends.push_back(j.log_bytes());
    }
  }
  const auto log = dir.path() / "alerts.log";
  {
    std::fstream f(log, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(ends[9] + 40));  // inside alert A10's record
    f.write("0123456789abcdef", 16);
  }
  AlertJournal j(dir.path().string());
  auto loaded = j.load(kNow);
  CHECK(loaded.alerts.size() == 19);
  CHECK_FALSE(find(loaded.alerts, "A10"));
  CHECK(find(loaded.alerts, "A9"));
  CHECK(find(loaded.alerts, "A19"));
  REQUIRE(loaded.damage.size() == 1);
  CHECK(loaded.damage[0].file == log.string());
  CHECK(loaded.damage[0].begin == ends[9]);
  CHECK(loaded.damage[0].end == ends[10]);
  CHECK(loaded.needs_fold);
}

TEST_CASE("alert journal: a torn tail is dropped and reported, the rest is kept") {
  TempDir dir("vigil-journal");
  {
    AlertJournal j(dir.path().string());
    std::vector<std::shared_ptr<const Alert>> batch{alert("A", 100), alert("B", 100)};
    REQUIRE(j.append(batch));
  }
  const auto log = dir.path() / "alerts.log";
  std::filesystem::resize_file(log, std::filesystem::file_size(log) - 5);
  AlertJournal j(dir.path().string());
  auto loaded = j.load(kNow);
  REQUIRE(loaded.alerts.size() == 1);
  CHECK(loaded.alerts[0].name() == "A");
  REQUIRE(loaded.damage.size() == 1);
  CHECK(loaded.damage[0].what.find("not a whole record") != std::string::npos);
}

TEST_CASE("alert journal: an unreadable snapshot is set aside; the log is still read") {
  TempDir dir("vigil-journal");
  {
    AlertJournal j(dir.path().string());
    std::vector<std::shared_ptr<const Alert>> batch{alert("A", 100)};
    REQUIRE(j.append(batch));
  }
  dir.write("alerts.snapshot", "{\"version\":1}");
  AlertJournal j(dir.path().string());
  auto loaded = j.load(kNow);
  REQUIRE(loaded.alerts.size() == 1);
  REQUIRE(loaded.damage.size() == 1);
  CHECK(loaded.damage[0].what.find("does not start with VGALRT02") != std::string::npos);
  CHECK(loaded.damage[0].moved_to.find("alerts.snapshot.damaged-") != std::string::npos);
  CHECK(std::filesystem::exists(loaded.damage[0].moved_to));
  REQUIRE(loaded.needs_fold);
  REQUIRE(j.compact([] { return std::vector<std::shared_ptr<const Alert>>{alert("A", 100)}; }));
  AlertJournal again(dir.path().string());
  auto reloaded = again.load(kNow);
  CHECK(reloaded.damage.empty());
  CHECK(reloaded.alerts.size() == 1);
}

TEST_CASE("alert journal: files of the earlier format (VGALRT01) are read and rewritten") {
  TempDir dir("vigil-journal");
  // VGALRT01: the magic, then per alert its length, checksum and payload.
  auto legacy = [](std::vector<std::shared_ptr<const Alert>> alerts) {
    RecordBatch b;
    for (const auto& a : alerts) {
      encode_alert(b.begin(), *a);
      b.end();
    }
    std::string framed(b.bytes()), out = "VGALRT01";
    for (size_t at = 0; at < framed.size();) {
      uint32_t len;
      std::memcpy(&len, framed.data() + at + 4, 4);
      out += framed.substr(at + 4, 8 + len);
      at += 12 + len;
    }
    return out;
  };
  dir.write("alerts.snapshot", legacy({alert("A", 100), alert("B", 100)}));
  dir.write("alerts.log", legacy({alert("A", 200, 2500), alert("C", 200)}));
  AlertJournal j(dir.path().string());
  auto loaded = j.load(kNow);
  CHECK(loaded.damage.empty());
  REQUIRE(loaded.alerts.size() == 3);
  CHECK(find(loaded.alerts, "A")->ends_at == 2500);
  REQUIRE(loaded.needs_fold);
  std::vector<std::shared_ptr<const Alert>> all;
  for (const Alert& a : loaded.alerts) all.push_back(std::make_shared<const Alert>(a));
  REQUIRE(j.compact([&] { return all; }));
  CHECK(read_file((dir.path() / "alerts.snapshot").string())->starts_with("VGALRT02"));
  CHECK(read_file((dir.path() / "alerts.log").string())->starts_with("VGALRT02"));
  AlertJournal again(dir.path().string());
  auto reloaded = again.load(kNow);
  CHECK_FALSE(reloaded.needs_fold);
  CHECK(reloaded.alerts.size() == 3);
}

TEST_CASE("alert journal: compaction folds the log into the snapshot") {
  TempDir dir("vigil-journal");
  AlertJournal j(dir.path().string());
  std::vector<std::shared_ptr<const Alert>> store;
  for (int i = 0; i < 3; ++i) {
    store = {alert("A", 100 + i), alert("B", 100 + i)};
    REQUIRE(j.append(store));
  }
  const size_t before = j.log_bytes();
  CHECK_FALSE(j.wants_compaction());  // small logs are left alone
  REQUIRE(j.compact([&] { return store; }));
  CHECK(j.log_bytes() < before);
  CHECK_FALSE(std::filesystem::exists(dir.path() / "alerts.log.1"));
  std::vector<std::shared_ptr<const Alert>> after{alert("C", 300)};
  REQUIRE(j.append(after));

  AlertJournal again(dir.path().string());
  auto loaded = again.load(kNow);
  CHECK(loaded.alerts.size() == 3);
  REQUIRE(find(loaded.alerts, "B"));
  CHECK(find(loaded.alerts, "B")->updated_at == 102);
  CHECK(find(loaded.alerts, "C"));
}

TEST_CASE("alert journal: a compaction cut short leaves alerts.log.1, which is still read") {
  TempDir dir("vigil-journal");
  {
    AlertJournal j(dir.path().string());
    std::vector<std::shared_ptr<const Alert>> batch{alert("A", 100)};
    REQUIRE(j.append(batch));
  }
  std::filesystem::rename(dir.path() / "alerts.log", dir.path() / "alerts.log.1");
  {
    AlertJournal j(dir.path().string());
    std::vector<std::shared_ptr<const Alert>> batch{alert("B", 100)};
    REQUIRE(j.append(batch));
  }
  AlertJournal j(dir.path().string());
  auto loaded = j.load(kNow);
  CHECK(loaded.alerts.size() == 2);
  CHECK(loaded.needs_fold);
}
