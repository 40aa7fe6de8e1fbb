// Alertmanager API v2 request bodies and filters, through the registered
// handlers (server::Routes) over a Router, as the daemon serves them: posted
// alerts, silences, webhook payloads, and filter/receiver parameters. No
// input crashes a handler or makes it throw (a thrown exception is the 500
// "internal error" answer), and what was stored renders back.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "model/clock.h"
#include "routing/config.h"
#include "routing/router.h"
#include "server/alertmanager_api.h"
#include "server/http.h"

using namespace vigil;
using namespace vigil::server;

namespace {

constexpr Millis kNow = 1'700'000'000'000;

constexpr std::string_view kConfig = R"(
route:
  receiver: default
  group_by: [alertname]
  routes:
    - matchers: [team="db"]
      receiver: db
      continue: true
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [cluster]
receivers:
  - name: default
  - name: db
)";

class DiscardingNotifier : public routing::Notifier {
 public:
  void notify(const routing::Notification&, std::function<void(bool)> done) override { done(true); }
};

std::shared_ptr<const routing::Config> router_config() {
  static const auto c = [] {
    auto r = routing::parse_config(kConfig);
    if (!r.ok()) __builtin_trap();
    return std::make_shared<const routing::Config>(std::move(r.config));
  }();
  return c;
}

Response call(const Routes& routes, std::string method, std::string path, std::string body = "",
              std::string_view param = "", std::string_view value = "") {
  Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.body = std::move(body);
  r.headers["content-type"] = "application/json";
  if (!param.empty()) r.params.emplace(std::string(param), std::string(value));
  Response resp = routes.handle(std::move(r));
  if (resp.status == 500) {
    std::fprintf(stderr, "%s: 500 %s\n", path.c_str(), resp.body.c_str());
    std::abort();
  }
  return resp;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  ManualClock clock(kNow);
  DiscardingNotifier notifier;
  routing::Router router(router_config(), clock, notifier, routing::Router::Options{});
  Routes routes;
  AlertmanagerApiContext ctx{router, clock};
  ctx.start_time = kNow;
  ctx.on_alerts = [&router] { router.run_due(); };
  add_alertmanager_api(routes, std::move(ctx));

  std::string input(reinterpret_cast<const char*>(data + 1), size - 1);
  // The first byte picks the request.
  switch (data[0] % 8) {
    case 0: call(routes, "POST", "/api/v2/alerts", input); break;
    case 1: call(routes, "POST", "/api/v2/silences", input); break;
    case 2: call(routes, "POST", "/api/v1/intake/webhook", input); break;
    case 3: call(routes, "GET", "/api/v2/alerts", "", "filter", input); break;
    case 4: call(routes, "GET", "/api/v2/silences", "", "filter", input); break;
    case 5: call(routes, "GET", "/api/v2/alerts/groups", "", "receiver", input); break;
    case 6: call(routes, "GET", "/api/v2/receivers", "", "receiver_matchers", input); break;
    default: call(routes, "GET", "/api/v2/silence/" + input); break;
  }
  // What was stored renders back, and time moving on flushes it.
  clock.advance(10 * kMinute);
  router.run_due();
  call(routes, "GET", "/api/v2/alerts");
  call(routes, "GET", "/api/v2/alerts/groups");
  call(routes, "GET", "/api/v2/silences");
  return 0;
}
