// The web UI's routes (server/ui.h), the route prefix (Routes::set_prefix,
// route_prefix_for) and sidecar mode's query pass-through
// (datasource_proxy).
#include <doctest/doctest.h>

#include <algorithm>
#include <regex>

#include <nlohmann/json.hpp>

#include "server/configs.h"
#include "server/prometheus_api.h"
#include "server/ui.h"
#include "tests/notifiers/test_server.h"

using namespace vigil;
using namespace vigil::server;
using vigil::notifiers::testing::Captured;
using vigil::notifiers::testing::TestServer;

namespace {

Request get(std::string path, std::string if_none_match = "") {
  Request r;
  r.method = "GET";
  r.path = std::move(path);
  if (!if_none_match.empty()) r.headers["if-none-match"] = if_none_match;
  return r;
}

std::string header(const Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "";
}

const UiAsset kFake[] = {{"index.html", "<!doctype html><title>x</title>"},
                         {"app.js", "console.log(1)"},
                         {"style.css", "body{}"},
                         {"favicon.svg", "<svg/>"}};

}  // namespace

TEST_CASE("ui: every page is index.html with a content security policy; assets by their type") {
  Routes routes;
  add_ui_routes(routes, kFake);
  for (auto page : ui_pages()) {
    CAPTURE(page);
    Response r = routes.handle(get(std::string(page)));
    CHECK(r.status == 200);
    CHECK(r.body == "<!doctype html><title>x</title>");
    CHECK(r.content_type == "text/html; charset=utf-8");
    CHECK(header(r, "Content-Security-Policy").find("script-src 'self'") != std::string::npos);
    CHECK(header(r, "Cache-Control") == "no-cache");
  }
  Response js = routes.handle(get("/static/app.js"));
  CHECK(js.status == 200);
  CHECK(js.body == "console.log(1)");
  CHECK(js.content_type == "text/javascript; charset=utf-8");
  CHECK(header(js, "X-Content-Type-Options") == "nosniff");
  CHECK(routes.handle(get("/static/style.css")).content_type == "text/css; charset=utf-8");
  CHECK(routes.handle(get("/static/favicon.svg")).content_type == "image/svg+xml");
  CHECK(routes.handle(get("/static/missing.js")).status == 404);
  CHECK(routes.handle(get("/static/../index.html")).status == 404);
  CHECK(routes.handle(get("/static/")).status == 404);
  CHECK(routes.handle(get("/nothing")).status == 404);
  Request head = get("/static/app.js");
  head.method = "HEAD";
  CHECK(routes.handle(head).status == 200);
}

TEST_CASE("ui: an unchanged file is a 304 to a browser that has it; a changed one is sent again") {
  Routes routes;
  add_ui_routes(routes, kFake);
  Response first = routes.handle(get("/static/app.js"));
  std::string etag = header(first, "ETag");
  REQUIRE(etag.size() > 2);
  CHECK(etag.front() == '"');
  Response again = routes.handle(get("/static/app.js", etag));
  CHECK(again.status == 304);
  CHECK(again.body.empty());
  CHECK(routes.handle(get("/static/app.js", "W/" + etag)).status == 304);
  CHECK(routes.handle(get("/static/app.js", "\"other\"")).status == 200);
  // Another file has another tag.
  CHECK(header(routes.handle(get("/static/style.css")), "ETag") != etag);

  const UiAsset changed[] = {{"index.html", "<!doctype html>"}, {"app.js", "console.log(2)"}};
  Routes next;
  add_ui_routes(next, changed);
  Response r = next.handle(get("/static/app.js", etag));
  CHECK(r.status == 200);
  CHECK(r.body == "console.log(2)");
}

TEST_CASE("ui: content types by extension") {
  CHECK(ui_content_type("a.html") == "text/html; charset=utf-8");
  CHECK(ui_content_type("a.js") == "text/javascript; charset=utf-8");
  CHECK(ui_content_type("a.css") == "text/css; charset=utf-8");
  CHECK(ui_content_type("a.svg") == "image/svg+xml");
  CHECK(ui_content_type("a.png") == "image/png");
  CHECK(ui_content_type("a.bin") == "application/octet-stream");
  CHECK(ui_content_type("js") == "application/octet-stream");
}

TEST_CASE("ui: the embedded files load nothing from elsewhere and need no inline script") {
  const auto assets = ui_assets();
  auto find = [&](std::string_view p) {
    auto it = std::find_if(assets.begin(), assets.end(), [&](const UiAsset& a) { return a.path == p; });
    REQUIRE(it != assets.end());
    return std::string(it->body);
  };
  std::string index = find("index.html");
  std::string js = find("app.js");
  CHECK(!find("style.css").empty());
  // Every script has a src, relative to the page (works under any prefix).
  std::regex script("<script([^>]*)>([^<]*)</script>");
  int scripts = 0;
  for (auto it = std::sregex_iterator(index.begin(), index.end(), script); it != std::sregex_iterator(); ++it) {
    ++scripts;
    CHECK((*it)[1].str().find("src=\"static/") != std::string::npos);
    CHECK((*it)[2].str().empty());
  }
  CHECK(scripts == 1);
  // No absolute or off-site URL anywhere: the prefix and the policy allow none.
  std::string js_text = js;
  // The one http:// a script may hold: the SVG namespace name, which is not fetched.
  for (size_t at; (at = js_text.find("http://www.w3.org/2000/svg")) != std::string::npos;) js_text.erase(at, 26);
  for (const std::string* text : {&index, &js_text}) {
    CHECK(text->find("href=\"/") == std::string::npos);
    CHECK(text->find("src=\"/") == std::string::npos);
    CHECK(text->find("http://") == std::string::npos);
    CHECK(text->find("https://") == std::string::npos);
    CHECK(text->find("fetch('/") == std::string::npos);
    CHECK(text->find("style=\"") == std::string::npos);
  }
  CHECK(js.find("innerHTML") == std::string::npos);
}

TEST_CASE("route prefix: routes are served under it, and only there") {
  Routes routes;
  routes.add("GET", "/", [](const Request&) { return Response::text(200, "root"); });
  routes.add("GET", "/api/v2/status", [](const Request& r) { return Response::text(200, "status " + r.path); });
  routes.set_prefix("vigil/");
  CHECK(routes.prefix() == "/vigil");
  CHECK(routes.handle(get("/vigil/api/v2/status")).body == "status /api/v2/status");
  CHECK(routes.handle(get("/vigil/")).body == "root");
  CHECK(routes.handle(get("/api/v2/status")).status == 404);
  CHECK(routes.handle(get("/vigilant/api/v2/status")).status == 404);
  CHECK(routes.handle(get("/")).status == 404);
  Response redirect = routes.handle(get("/vigil"));
  CHECK(redirect.status == 302);
  CHECK(header(redirect, "Location") == "/vigil/");
  // The root again.
  routes.set_prefix("/");
  CHECK(routes.prefix().empty());
  CHECK(routes.handle(get("/api/v2/status")).body == "status /api/v2/status");
}

TEST_CASE("route prefix: normalised, and taken from the external URL's path by default") {
  CHECK(Routes::normalize_route_prefix("") == "");
  CHECK(Routes::normalize_route_prefix("/") == "");
  CHECK(Routes::normalize_route_prefix("vigil") == "/vigil");
  CHECK(Routes::normalize_route_prefix("/a//b/") == "/a/b");
  CHECK(route_prefix_for("", "http://h:9093") == "");
  CHECK(route_prefix_for("", "http://h:9093/") == "");
  CHECK(route_prefix_for("", "https://h/alerting/vigil/") == "/alerting/vigil");
  CHECK(route_prefix_for("", "http://h/vigil?x=1") == "/vigil");
  CHECK(route_prefix_for("/other", "http://h/vigil") == "/other");
  CHECK(route_prefix_for("", "") == "");
}

TEST_CASE("sidecar mode: query and query_range reach the datasource with their parameters") {
  TestServer prom([](const Captured& c, httplib::Response& res) {
    if (c.param("query") == "bad(") {
      res.status = 400;
      res.set_content(R"({"status":"error","errorType":"bad_data","error":"parse error"})", "application/json");
      return;
    }
    res.set_content(nlohmann::json{{"status", "success"}, {"data", {{"path", c.path}, {"query", c.param("query")},
                                                                      {"step", c.param("step")}}}}
                        .dump(),
                    "application/json");
  });
  rules::RemoteQueryOptions opts;
  opts.url = prom.url("/prom/");
  opts.timeout = 5 * kSecond;
  auto proxy = datasource_proxy(opts);
  REQUIRE(proxy.has_value());
  PrometheusApiContext ctx;
  ManualClock clock{1'700'000'000'000};
  ctx.clock = &clock;
  ctx.datasource = *proxy;
  Routes routes;
  add_prometheus_api(routes, ctx);

  Request q = get("/api/v1/query_range");
  q.params = {{"query", "rate(x[5m]) > 0 & y"}, {"start", "1"}, {"end", "2"}, {"step", "15"}};
  Response r = routes.handle(q);
  CHECK(r.status == 200);
  auto body = nlohmann::json::parse(r.body);
  CHECK(body["data"]["path"] == "/prom/api/v1/query_range");
  CHECK(body["data"]["query"] == "rate(x[5m]) > 0 & y");
  CHECK(body["data"]["step"] == "15");
  REQUIRE(prom.count() == 1);
  CHECK(prom.requests()[0].method == "POST");

  Request bad = get("/api/v1/query");
  bad.params = {{"query", "bad("}};
  Response e = routes.handle(bad);
  CHECK(e.status == 400);
  CHECK(nlohmann::json::parse(e.body)["error"] == "parse error");

  // A datasource that does not answer.
  opts.url = "http://127.0.0.1:1";
  auto down = datasource_proxy(opts);
  REQUIRE(down.has_value());
  Response d = (*down)("/api/v1/query", bad);
  CHECK(d.status == 503);
  CHECK(nlohmann::json::parse(d.body)["errorType"] == "unavailable");
}
