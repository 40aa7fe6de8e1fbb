// The daemon's configuration reading: both files checked before anything is
// applied, what is only worth a warning logged with its file and line.
#include <doctest/doctest.h>

#include <sstream>

#include "server/configs.h"
#include "tests/temp_dir.h"

using namespace vigil;
using namespace vigil::server;

TEST_CASE("configs: a setting vigil does not act on yet is logged when the file is read, with its line") {
  testing::TempDir dir{"vigil-configs"};
  const std::string am = dir.write("am.yml",
                                   "route:\n  receiver: ops\nreceivers:\n- name: ops\n  webhook_configs:\n"
                                   "  - url: http://127.0.0.1/\nevent_recorder:\n  file_outputs:\n  - path: /tmp/e\n"
                                   "  kafka_outputs:\n  - brokers: [k:9092]\n    topic: t\n");
  ManualClock clock{0};
  std::ostringstream out;
  Logger log(Logger::Format::kLogfmt, LogLevel::kInfo, out, clock);
  auto read = read_configs("", am, log, true);
  REQUIRE(read);
  REQUIRE(read->alertmanager);
  const std::string logged = out.str();
  CHECK(logged.find("level=warn") != std::string::npos);
  // File outputs are acted on; Kafka outputs are not.
  CHECK(logged.find("event_recorder kafka_outputs are not honoured") != std::string::npos);
  CHECK(logged.find("file=" + am) != std::string::npos);
  CHECK(logged.find("line=11") != std::string::npos);
  CHECK(logged.find("line=8") == std::string::npos);
}

TEST_CASE("configs: an invalid file is an error naming it, and nothing is read") {
  testing::TempDir dir{"vigil-configs"};
  const std::string am = dir.write("am.yml", "route:\n  receiver: nowhere\nreceivers:\n- name: ops\n");
  ManualClock clock{0};
  std::ostringstream out;
  Logger log(Logger::Format::kLogfmt, LogLevel::kInfo, out, clock);
  auto read = read_configs("", am, log, false);
  REQUIRE_FALSE(read);
  CHECK(read.error().message.starts_with(am + ":"));
  CHECK(read.error().message.find("undefined receiver \"nowhere\"") != std::string::npos);
}
