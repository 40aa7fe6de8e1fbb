#include <doctest/doctest.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "server/log.h"

using namespace vigil;
using namespace vigil::server;

TEST_CASE("logger: logfmt lines quote what needs quoting") {
  ManualClock clock(1'700'000'000'000);
  std::ostringstream out;
  Logger log(Logger::Format::kLogfmt, LogLevel::kInfo, out, clock);
  log.debug("hidden");
  log.info("rule group evaluated", {{"component", "rules"}, {"group", "a b"}, {"err", "say \"x\""}});
  CHECK(out.str() ==
        "ts=2023-11-14T22:13:20Z level=info component=rules msg=\"rule group evaluated\" group=\"a b\" "
        "err=\"say \\\"x\\\"\"\n");
}

TEST_CASE("logger: json lines, and logfmt lines from delivery re-encoded") {
  ManualClock clock(1'700'000'000'000);
  std::ostringstream out;
  Logger log(Logger::Format::kJson, LogLevel::kInfo, out, clock);
  log.fn()(LogLevel::kWarn, "level=warn component=dispatcher receiver=team msg=\"Notify attempt failed\" attempts=2");
  auto j = nlohmann::json::parse(out.str());
  CHECK(j["level"] == "warn");
  CHECK(j["component"] == "dispatcher");
  CHECK(j["msg"] == "Notify attempt failed");
  CHECK(j["attempts"] == "2");
  CHECK(j["ts"] == "2023-11-14T22:13:20Z");
  CHECK_FALSE(Logger::parse_format("xml").has_value());
  CHECK(Logger::parse_level("warn").value() == LogLevel::kWarn);
}
