// GET /api/v1/notifications: the JSON the web UI and scripts code against,
// the query parameters, and 400s that name the bad parameter.
#include <doctest/doctest.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "notifiers/history.h"
#include "server/notifications_api.h"

using namespace vigil;
using namespace vigil::server;
using nlohmann::json;

namespace {

constexpr Millis kT0 = 1'796'612'400'123;  // 2026-12-07T03:00:00.123Z

notifiers::HistoryEntry entry(std::string receiver, std::string alertname, bool success) {
  notifiers::HistoryEntry e;
  e.receiver = std::move(receiver);
  e.integration = "webhook";
  e.group_key = "{}:{alertname=\"" + alertname + "\"}";
  e.group_labels = Labels({{"alertname", alertname}});
  e.firing = true;
  e.alerts.push_back(notifiers::HistoryAlert{Labels({{"alertname", alertname}, {"job", "node"}}), false, kT0 - kMinute});
  e.success = success;
  e.attempts = success ? 1 : 4;
  e.error = success ? "" : "unexpected status code 503";
  e.duration = 12;
  return e;
}

struct Api {
  ManualClock clock{kT0};
  notifiers::NotificationHistory history{{}, clock};
  Routes routes;
  Api() {
    add_notifications_api(routes, NotificationsApiContext{&history});
    history.record(entry("team-x", "X", true));
    clock.advance(kSecond);
    history.record(entry("team-y", "Y", false));
  }
  Response get(std::vector<std::pair<std::string, std::string>> params = {}) {
    Request r;
    r.method = "GET";
    r.path = "/api/v1/notifications";
    for (auto& [k, v] : params) r.params.emplace(k, v);
    return routes.handle(std::move(r));
  }
  json ok(std::vector<std::pair<std::string, std::string>> params = {}) {
    Response r = get(std::move(params));
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return json::parse(r.body);
  }
  std::string bad(std::vector<std::pair<std::string, std::string>> params) {
    Response r = get(std::move(params));
    REQUIRE_MESSAGE(r.status == 400, r.body);
    json body = json::parse(r.body);
    CHECK(body["status"] == "error");
    CHECK(body["errorType"] == "bad_data");
    return body["error"].get<std::string>();
  }
};

}  // namespace

TEST_CASE("notifications API: the entries as the contract writes them, newest first") {
  Api api;
  json body = api.ok();
  CHECK(body["status"] == "success");
  CHECK(body["data"]["total"] == 2);
  REQUIRE(body["data"]["entries"].size() == 2);
  json failed = body["data"]["entries"][0];
  json sent = body["data"]["entries"][1];
  CHECK(sent == json::parse(R"({
    "time":"2026-12-07T03:00:00.123Z","receiver":"team-x","integration":"webhook","integrationIndex":0,
    "groupKey":"{}:{alertname=\"X\"}","groupLabels":{"alertname":"X"},"status":"firing",
    "alerts":[{"labels":{"alertname":"X","job":"node"},"fingerprint":")" +
                             fmt::format("{:016x}", Labels({{"alertname", "X"}, {"job", "node"}}).fingerprint()) +
                             R"(","status":"firing","startsAt":"2026-12-07T02:59:00.123Z"}],
    "outcome":"success","attempts":1,"error":"","durationSeconds":0.012})"));
  CHECK(failed["time"] == "2026-12-07T03:00:01.123Z");
  CHECK(failed["outcome"] == "failure");
  CHECK(failed["attempts"] == 4);
  CHECK(failed["error"] == "unexpected status code 503");
}

TEST_CASE("notifications API: parameters select entries") {
  Api api;
  CHECK(api.ok({{"receiver", "team-y"}})["data"]["total"] == 1);
  CHECK(api.ok({{"outcome", "failure"}})["data"]["entries"][0]["receiver"] == "team-y");
  CHECK(api.ok({{"outcome", "success"}})["data"]["entries"][0]["receiver"] == "team-x");
  CHECK(api.ok({{"status", "resolved"}})["data"]["total"] == 0);
  CHECK(api.ok({{"filter", "alertname=\"X\""}})["data"]["entries"][0]["receiver"] == "team-x");
  CHECK(api.ok({{"filter", "alertname=~\"X|Y\""}, {"filter", "job=\"node\""}})["data"]["total"] == 2);
  CHECK(api.ok({{"filter", "alertname=~\"X|Y\""}, {"filter", "job=\"db\""}})["data"]["total"] == 0);
  CHECK(api.ok({{"since", "2026-12-07T03:00:01Z"}})["data"]["total"] == 1);
  CHECK(api.ok({{"until", "1796612400.6"}})["data"]["entries"][0]["receiver"] == "team-x");
  CHECK(api.ok({{"integration", "webhook[0]"}})["data"]["total"] == 2);
  json limited = api.ok({{"limit", "1"}});
  CHECK(limited["data"]["total"] == 2);
  REQUIRE(limited["data"]["entries"].size() == 1);
  CHECK(limited["data"]["entries"][0]["receiver"] == "team-y");
}

TEST_CASE("notifications API: a bad parameter is a 400 naming it") {
  Api api;
  CHECK(api.bad({{"status", "pending"}}).find("\"status\"") != std::string::npos);
  CHECK(api.bad({{"outcome", "ok"}}).find("\"outcome\"") != std::string::npos);
  CHECK(api.bad({{"since", "yesterday"}}).find("\"since\"") != std::string::npos);
  CHECK(api.bad({{"until", "12:00"}}).find("\"until\"") != std::string::npos);
  CHECK(api.bad({{"limit", "-1"}}).find("\"limit\"") != std::string::npos);
  CHECK(api.bad({{"limit", "ten"}}).find("\"limit\"") != std::string::npos);
  CHECK(api.bad({{"filter", "alertname=~\"(\""}}).find("\"filter\"") != std::string::npos);
}
