// The alert journal: records round-trip, the newest record of an alert wins,
// a torn tail is dropped with a warning, and compaction folds the log into
// the snapshot without losing what arrives meanwhile.
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

const Alert* find(const std::vector<Alert>& as, std::string_view name) {
  for (const Alert& a : as)
    if (a.name() == name) return &a;
  return nullptr;
}

}  // namespace

TEST_CASE("alert journal: a record round-trips every field") {
  auto a = alert("Down", 5000);
  std::string buf;
  encode_alert_record(buf, *a);
  encode_alert_record(buf, *alert("Other", 6000, 7000));
  std::string_view in = buf;
  auto back = decode_alert_record(in);
  REQUIRE(back);
  CHECK(back->labels == a->labels);
  CHECK(back->annotations == a->annotations);
  CHECK(back->starts_at == 1000);
  CHECK(back->ends_at == a->ends_at);
  CHECK(back->updated_at == 5000);
  CHECK(back->timeout);
  CHECK(back->generator_url == a->generator_url);
  auto second = decode_alert_record(in);
  REQUIRE(second);
  CHECK_FALSE(second->timeout);
  CHECK(in.empty());
  // A record cut short, or with a flipped byte, is not read.
  std::string_view cut = std::string_view(buf).substr(0, buf.size() / 2 - 3);
  CHECK_FALSE(decode_alert_record(cut));
  CHECK(cut.size() == buf.size() / 2 - 3);
  std::string flipped = buf;
  flipped[20] ^= 0x40;
  std::string_view f = flipped;
  CHECK_FALSE(decode_alert_record(f));
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
  auto loaded = j.load();
  REQUIRE(loaded);
  CHECK(loaded->warnings.empty());
  REQUIRE(loaded->alerts.size() == 2);
  REQUIRE(find(loaded->alerts, "A"));
  CHECK(find(loaded->alerts, "A")->updated_at == 200);
  CHECK(find(loaded->alerts, "A")->ends_at == 2500);
}

TEST_CASE("alert journal: a torn tail is dropped with a warning, the rest is kept") {
  TempDir dir("vigil-journal");
  {
    AlertJournal j(dir.path().string());
    std::vector<std::shared_ptr<const Alert>> batch{alert("A", 100), alert("B", 100)};
    REQUIRE(j.append(batch));
  }
  const auto log = dir.path() / "alerts.log";
  std::filesystem::resize_file(log, std::filesystem::file_size(log) - 5);
  AlertJournal j(dir.path().string());
  auto loaded = j.load();
  REQUIRE(loaded);
  REQUIRE(loaded->alerts.size() == 1);
  CHECK(loaded->alerts[0].name() == "A");
  REQUIRE(loaded->warnings.size() == 1);
  CHECK(loaded->warnings[0].find("not a whole record") != std::string::npos);
}

TEST_CASE("alert journal: an unreadable snapshot is an error, not an empty start") {
  TempDir dir("vigil-journal");
  dir.write("alerts.snapshot", "{\"version\":1}");
  AlertJournal j(dir.path().string());
  auto loaded = j.load();
  REQUIRE_FALSE(loaded);
  CHECK(loaded.error().message.find("not an alert snapshot") != std::string::npos);
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
  // Alerts stored while the snapshot is written land in the fresh log.
  REQUIRE(j.compact([&] {
    auto list = store;
    return list;
  }));
  CHECK(j.log_bytes() < before);
  CHECK_FALSE(std::filesystem::exists(dir.path() / "alerts.log.1"));
  std::vector<std::shared_ptr<const Alert>> after{alert("C", 300)};
  REQUIRE(j.append(after));

  AlertJournal again(dir.path().string());
  auto loaded = again.load();
  REQUIRE(loaded);
  CHECK(loaded->alerts.size() == 3);
  REQUIRE(find(loaded->alerts, "B"));
  CHECK(find(loaded->alerts, "B")->updated_at == 102);
  CHECK(find(loaded->alerts, "C"));
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
  auto loaded = j.load();
  REQUIRE(loaded);
  CHECK(loaded->alerts.size() == 2);
}
