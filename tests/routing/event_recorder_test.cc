// The event recorder: its bounded queue, and the file, stdout and webhook
// outputs, driven by a ManualClock.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "model/metrics_writer.h"
#include "routing/config.h"
#include "routing/event_recorder.h"
#include "tests/notifiers/test_server.h"
#include "tests/routing/router_harness.h"
#include "tests/temp_dir.h"

using namespace vigil;
using namespace vigil::routing;
using routing::testing::kT0;
using vigil::notifiers::testing::Captured;
using vigil::notifiers::testing::TestServer;

namespace {

// The event_recorder block of an alertmanager.yml.
config::ConfigValue block_of(const std::string& yaml) {
  auto cfg = routing::testing::config_of("route: {receiver: ops}\nreceivers: [{name: ops}]\nevent_recorder:\n" + yaml);
  return cfg->event_recorder;
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::string metrics_of(const EventRecorder& r) {
  std::string out;
  MetricsWriter w(out);
  r.write_metrics(w);
  return out;
}

EventRecorderOptions options(const Clock& clock, bool threaded = false) {
  EventRecorderOptions o;
  o.instance = "am-1";
  o.clock = &clock;
  o.threaded = threaded;
  return o;
}

}  // namespace

TEST_CASE("event recorder: nothing is recorded without outputs") {
  ManualClock clock(kT0);
  EventRecorder r(options(clock));
  CHECK_FALSE(r.enabled());
  r.record(shutdown_event());
  CHECK(r.queue_length() == 0);
  REQUIRE(r.apply(config::ConfigValue()));
  CHECK_FALSE(r.enabled());
}

TEST_CASE("event recorder: file output appends JSON lines and reopens a rotated file") {
  vigil::testing::TempDir dir{"vigil-events"};
  const std::string path = (dir.path() / "events.jsonl").string();
  ManualClock clock(kT0);
  EventRecorder r(options(clock));
  REQUIRE(r.apply(block_of("  file_outputs:\n  - path: " + path + "\n")));
  CHECK(r.enabled());
  r.record(startup_event("0.1.0", "x"));
  clock.advance(1500);
  r.record(shutdown_event());
  r.process();
  auto lines = lines_of(path);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] ==
        R"({"@timestamp":"2023-11-14T22:13:20Z","instance":"am-1","data":{"alertmanagerStartupEvent":{"version":"0.1.0","buildContext":"x"}}})");
  CHECK(lines[1] == R"({"@timestamp":"2023-11-14T22:13:21.500Z","instance":"am-1","data":{"alertmanagerShutdownEvent":{}}})");

  // Rotated away: the next event goes to a new file at the path.
  std::filesystem::rename(path, path + ".1");
  r.record(shutdown_event());
  r.process();
  CHECK(lines_of(path + ".1").size() == 2);
  CHECK(lines_of(path).size() == 1);
  // Removed: the same.
  std::filesystem::remove(path);
  r.record(shutdown_event());
  r.record(shutdown_event());
  r.process();
  CHECK(lines_of(path).size() == 2);

  const std::string m = metrics_of(r);
  CHECK(m.find("alertmanager_events_recorded_total{event_type=\"alertmanager_shutdown_event\",output=\"file:" + path +
               "\",result=\"success\"} 4") != std::string::npos);
  CHECK(m.find("alertmanager_event_recorder_bytes_written_total{event_type=\"alertmanager_startup_event\",output=\"file:" +
               path + "\"} " + std::to_string(lines[0].size() + 1)) != std::string::npos);
}

TEST_CASE("event recorder: a relative file path is read against the configuration's directory") {
  vigil::testing::TempDir dir{"vigil-events"};
  const std::string am = dir.write("am.yml",
                                   "route: {receiver: ops}\nreceivers: [{name: ops}]\n"
                                   "event_recorder:\n  file_outputs:\n  - path: events.jsonl\n");
  auto loaded = load_config(am);
  REQUIRE(loaded.ok());
  CHECK(loaded.config.event_recorder.find("file_outputs")->items()[0].str("path") == dir.path().string() + "/events.jsonl");
}

TEST_CASE("event recorder: apply replaces the outputs, and a bad output keeps the old ones") {
  vigil::testing::TempDir dir{"vigil-events"};
  const std::string a = (dir.path() / "a.jsonl").string(), b = (dir.path() / "b.jsonl").string();
  ManualClock clock(kT0);
  EventRecorder r(options(clock));
  REQUIRE(r.apply(block_of("  file_outputs:\n  - path: " + a + "\n")));
  r.record(shutdown_event());
  r.process();
  REQUIRE(r.apply(block_of("  file_outputs:\n  - path: " + b + "\n")));
  r.record(shutdown_event());
  r.process();
  CHECK(lines_of(a).size() == 1);
  CHECK(lines_of(b).size() == 1);
  CHECK_FALSE(r.apply(block_of("  file_outputs:\n  - path: " + (dir.path() / "missing/dir/c.jsonl").string() + "\n")));
  r.record(shutdown_event());
  r.process();
  CHECK(lines_of(b).size() == 2);
  // Outputs removed: recording stops.
  REQUIRE(r.apply(block_of("  file_outputs: []\n")));
  CHECK_FALSE(r.enabled());
}

TEST_CASE("event recorder: stdout output writes JSON lines to standard output") {
  vigil::testing::TempDir dir{"vigil-events"};
  const std::string out = (dir.path() / "stdout").string();
  const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(fd >= 0);
  ManualClock clock(kT0);
  EventRecorderOptions o = options(clock);
  o.stdout_fd = fd;
  {
    EventRecorder r(o);
    REQUIRE(r.apply(block_of("  stdout_outputs:\n  - {}\n")));
    r.record(shutdown_event());
    r.process();
  }
  ::close(fd);
  auto lines = lines_of(out);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == R"({"@timestamp":"2023-11-14T22:13:20Z","instance":"am-1","data":{"alertmanagerShutdownEvent":{}}})");
}

TEST_CASE("event recorder: a full queue drops events and counts them by type") {
  vigil::testing::TempDir dir{"vigil-events"};
  const std::string path = (dir.path() / "events.jsonl").string();
  ManualClock clock(kT0);
  EventRecorderOptions o = options(clock);
  o.queue_size = 2;
  EventRecorder r(o);
  REQUIRE(r.apply(block_of("  file_outputs:\n  - path: " + path + "\n")));
  r.record(shutdown_event());
  r.record(shutdown_event());
  r.record(startup_event("v", ""));  // never waits: dropped
  CHECK(r.queue_length() == 2);
  CHECK(r.dropped(EventType::kStartup) == 1);
  CHECK(metrics_of(r).find("alertmanager_event_recorder_queue_length 2") != std::string::npos);
  r.process();
  CHECK(lines_of(path).size() == 2);
  const std::string m = metrics_of(r);
  CHECK(m.find("alertmanager_events_dropped_total{event_type=\"alertmanager_startup_event\"} 1") != std::string::npos);
  CHECK(m.find("alertmanager_events_dropped_total{event_type=\"alert_created\"} 0") != std::string::npos);
  CHECK(m.find("alertmanager_event_recorder_queue_length 0") != std::string::npos);
}

TEST_CASE("event recorder: an event that is not valid UTF-8 is counted, not written") {
  vigil::testing::TempDir dir{"vigil-events"};
  const std::string path = (dir.path() / "events.jsonl").string();
  ManualClock clock(kT0);
  EventRecorder r(options(clock));
  REQUIRE(r.apply(block_of("  file_outputs:\n  - path: " + path + "\n")));
  r.record(startup_event("v\xff", ""));
  r.process();
  CHECK(lines_of(path).empty());
  CHECK(metrics_of(r).find("alertmanager_event_serialize_errors_total{event_type=\"alertmanager_startup_event\"} 1") !=
        std::string::npos);
}

TEST_CASE("event recorder: webhook output POSTs each event from the writer thread") {
  TestServer server;
  ManualClock clock(kT0);
  EventRecorder r(options(clock, true));
  REQUIRE(r.apply(block_of("  webhook_outputs:\n  - url: " + server.url("/events?token=s3cret") + "\n")));
  r.record(startup_event("0.1.0", ""));
  r.record(shutdown_event());
  r.wait_idle();
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 2);
  std::sort(reqs.begin(), reqs.end(), [](const Captured& a, const Captured& b) { return a.body < b.body; });
  CHECK(reqs[0].method == "POST");
  CHECK(reqs[0].path == "/events");
  CHECK(reqs[0].param("token") == "s3cret");
  CHECK(reqs[0].header("Content-Type") == "application/json");
  CHECK(reqs[0].body ==
        R"({"@timestamp":"2023-11-14T22:13:20Z","instance":"am-1","data":{"alertmanagerShutdownEvent":{}}})");
  CHECK(reqs[1].body.find("alertmanagerStartupEvent") != std::string::npos);
  // The output's name (a metric label) has no query string.
  const std::string m = metrics_of(r);
  CHECK(m.find("output=\"webhook:" + server.url("/events") + "\",result=\"success\"") != std::string::npos);
  CHECK(m.find("s3cret") == std::string::npos);
  r.close();
}

TEST_CASE("event recorder: webhook retries with a doubling backoff, up to max_retries attempts") {
  std::atomic<int> failures{2};
  TestServer server([&](const Captured&, httplib::Response& res) {
    if (failures.fetch_sub(1) > 0) res.status = 503;
    else res.set_content("ok", "text/plain");
  });
  ManualClock clock(kT0);
  EventRecorder r(options(clock, true));
  REQUIRE(r.apply(block_of("  webhook_outputs:\n  - url: " + server.url() + "\n    retry_backoff: 2s\n")));
  r.record(shutdown_event());
  r.wait_idle();
  CHECK(server.count() == 1);
  clock.advance(1999);
  r.wake();
  r.wait_idle();
  CHECK(server.count() == 1);  // not before the backoff
  clock.advance(1);
  r.wake();
  r.wait_idle();
  CHECK(server.count() == 2);
  clock.advance(3999);  // the second wait is twice the first
  r.wake();
  r.wait_idle();
  CHECK(server.count() == 2);
  clock.advance(1);
  r.wake();
  r.wait_idle();
  REQUIRE(server.count() == 3);
  auto reqs = server.requests();
  CHECK(reqs[0].body == reqs[2].body);
  // Succeeded: nothing more.
  clock.advance(kMinute);
  r.wake();
  r.wait_idle();
  CHECK(server.count() == 3);

  // Always failing: max_retries attempts in all, then given up.
  failures = 1000;
  REQUIRE(r.apply(block_of("  webhook_outputs:\n  - url: " + server.url() + "\n    max_retries: 2\n")));
  r.record(shutdown_event());
  r.wait_idle();
  CHECK(server.count() == 4);
  clock.advance(500);  // the default base backoff
  r.wake();
  r.wait_idle();
  CHECK(server.count() == 5);
  clock.advance(kMinute);
  r.wake();
  r.wait_idle();
  CHECK(server.count() == 5);
}

TEST_CASE("event recorder: webhook batches events into JSON arrays by count and by time") {
  TestServer server;
  ManualClock clock(kT0);
  EventRecorder r(options(clock, true));
  REQUIRE(r.apply(block_of("  webhook_outputs:\n  - url: " + server.url() +
                           "\n    batch: true\n    batch_max_events: 3\n    batch_flush_interval: 1s\n")));
  for (int i = 0; i < 4; ++i) r.record(shutdown_event());
  r.wait_idle();
  REQUIRE(server.count() == 1);  // three events: a full batch
  std::string one = R"({"@timestamp":"2023-11-14T22:13:20Z","instance":"am-1","data":{"alertmanagerShutdownEvent":{}}})";
  CHECK(server.requests()[0].body == "[" + one + "," + one + "," + one + "]");
  clock.advance(999);
  r.wake();
  r.wait_idle();
  CHECK(server.count() == 1);
  clock.advance(1);  // the fourth waited its flush interval
  r.wake();
  r.wait_idle();
  REQUIRE(server.count() == 2);
  CHECK(server.requests()[1].body == "[" + one + "]");

  // batch_max_bytes: a batch is sent once it reaches the size.
  one.replace(one.find("20Z"), 3, "21Z");
  REQUIRE(r.apply(block_of("  webhook_outputs:\n  - url: " + server.url() + "\n    batch: true\n    batch_max_bytes: " +
                           std::to_string(2 * one.size() + 3) + "\n")));
  for (int i = 0; i < 3; ++i) r.record(shutdown_event());
  r.wait_idle();
  REQUIRE(server.count() == 3);
  CHECK(server.requests()[2].body == "[" + one + "," + one + "]");
  // Closing sends what waits.
  r.close();
  REQUIRE(server.count() == 4);
  CHECK(server.requests()[3].body == "[" + one + "]");
}
