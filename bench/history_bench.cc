// Notification history benchmark: /api/v1/notifications answering over HTTP
// (vigil's own server on 127.0.0.1, libcurl client) from a history of
// N entries (default 100 000), each a notification of three alerts to one of
// 20 receivers, a tenth of them failed.
//
//   ninja -C build vigil_history_bench && build/bench/vigil_history_bench [entries] [runs]
//
// Reports, for each query, the median and worst wall time of `runs` requests
// (request sent to body received), the body size and the entries returned;
// also the time to record the entries and the resident memory they take.
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "model/clock.h"
#include "net/http_client.h"
#include "notifiers/history.h"
#include "server/http.h"
#include "server/notifications_api.h"

using namespace vigil;

namespace {

constexpr Millis kT0 = 1'796'612'400'000;

notifiers::HistoryEntry make_entry(size_t i) {
  notifiers::HistoryEntry e;
  const std::string alertname = fmt::format("Alert{}", i % 50);
  e.receiver = fmt::format("team-{}", i % 20);
  e.integration = i % 3 == 0 ? "slack" : "webhook";
  e.group_key = fmt::format("{{}}/{{team=\"{}\"}}:{{alertname=\"{}\"}}", e.receiver, alertname);
  e.group_labels = Labels({{"alertname", alertname}});
  e.firing = i % 4 != 0;
  for (int a = 0; a < 3; ++a) {
    e.alerts.push_back(notifiers::HistoryAlert{
        Labels({{"alertname", alertname}, {"instance", fmt::format("host-{}:9100", (i + a) % 500)},
                {"job", "node"}, {"severity", a == 0 ? "critical" : "warning"}, {"team", e.receiver}}),
        !e.firing, kT0 - 60'000});
  }
  e.success = i % 10 != 0;
  e.attempts = e.success ? 1 : 5;
  if (!e.success) e.error = "notify retry canceled after 5 attempts: unexpected status code 503: upstream down";
  e.duration = 12;
  return e;
}

size_t rss_kib() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  size_t kib = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "VmRSS: %zu kB", &kib) == 1) break;
  std::fclose(f);
  return kib;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::stoul(argv[1]) : 100'000;
  const int runs = argc > 2 ? std::stoi(argv[2]) : 20;
  ManualClock clock(kT0);
  notifiers::NotificationHistory::Options opts;
  opts.max_entries = n;
  notifiers::NotificationHistory history(opts, clock);
  const size_t rss_before = rss_kib();
  auto t0 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < n; ++i) {
    clock.advance(100);
    history.record(make_entry(i));
  }
  const double record_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ::malloc_trim(0);
  std::printf("recorded %zu entries in %.0f ms; resident memory +%.1f MiB\n", history.size(), record_ms,
              static_cast<double>(rss_kib() - rss_before) / 1024);

  server::Routes routes;
  server::add_notifications_api(routes, server::NotificationsApiContext{&history});
  {
    // The handler alone (query, matching, JSON), without the HTTP exchange.
    std::vector<double> ms;
    for (int r = 0; r < runs; ++r) {
      server::Request req;
      req.method = "GET";
      req.path = "/api/v1/notifications";
      req.params.emplace("limit", "10000");
      auto start = std::chrono::steady_clock::now();
      server::Response resp = routes.handle(std::move(req));
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    std::ranges::sort(ms);
    std::printf("handler alone, limit=10000: median %.1f ms, max %.1f ms\n", ms[ms.size() / 2], ms.back());
  }
  server::HttpServer http(routes, {});
  if (auto r = http.start("127.0.0.1:0"); !r) {
    std::fprintf(stderr, "%s\n", r.error().message.c_str());
    return 1;
  }
  auto client = net::HttpClient::create(nullptr).value();

  struct Case {
    const char* name;
    std::string query;
  };
  const std::vector<Case> cases = {
      {"limit=10000, no filter", "limit=10000"},
      {"limit=100 (default), no filter", ""},
      {"filter alertname=\"Alert7\", limit=10000", "filter=alertname%3D%22Alert7%22&limit=10000"},
      {"filter instance=~\"host-1.*\" + outcome=failure", "filter=instance%3D~%22host-1.*%22&outcome=failure"},
      {"receiver=team-3 + since, limit=10000",
       fmt::format("receiver=team-3&since={}&limit=10000", (kT0 + static_cast<Millis>(n) * 50) / 1000)},
  };
  std::printf("%-48s %10s %10s %10s %9s %9s\n", "query", "median ms", "max ms", "body KiB", "entries", "total");
  for (const Case& c : cases) {
    std::vector<double> ms;
    size_t body = 0, entries = 0, total = 0;
    for (int r = 0; r < runs; ++r) {
      net::HttpRequest req;
      req.method = "GET";
      req.url = fmt::format("http://127.0.0.1:{}/api/v1/notifications?{}", http.port(), c.query);
      req.max_body = size_t{1} << 30;
      req.redact_body = false;
      auto start = std::chrono::steady_clock::now();
      auto resp = client->send(req);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
      if (!resp || resp->status != 200) {
        std::fprintf(stderr, "%s: %s\n", c.name, resp ? resp->body.c_str() : resp.error().message.c_str());
        return 1;
      }
      body = resp->body.size();
      entries = 0;
      for (size_t p = 0; (p = resp->body.find("\"groupKey\"", p)) != std::string::npos; ++p) ++entries;
      const size_t t = resp->body.rfind("\"total\":");
      total = t == std::string::npos ? 0 : std::stoul(resp->body.substr(t + 8));
    }
    std::ranges::sort(ms);
    std::printf("%-48s %10.1f %10.1f %10zu %9zu %9zu\n", c.name, ms[ms.size() / 2], ms.back(), body / 1024, entries,
                total);
  }
  http.stop();
  return 0;
}
