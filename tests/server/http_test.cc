#include <doctest/doctest.h>
#include <httplib.h>

#include "server/http.h"

using namespace vigil::server;

namespace {
Request req(std::string method, std::string path) {
  Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  return r;
}
}  // namespace

TEST_CASE("routes: patterns, path parameters, 404 and 405") {
  Routes routes;
  routes.add("GET", "/api/v2/silence/{id}", [](const Request& r) {
    return Response::text(200, "get " + r.path_params.at("id"));
  });
  routes.add("DELETE", "/api/v2/silence/{id}", [](const Request& r) {
    return Response::text(200, "delete " + r.path_params.at("id"));
  });
  routes.add("GET", "/api/v1/label/{name}/values", [](const Request& r) {
    return Response::text(200, r.path_params.at("name"));
  });
  routes.add("GET", "/static/{rest...}", [](const Request& r) { return Response::text(200, r.path_params.at("rest")); });

  CHECK(routes.handle(req("GET", "/api/v2/silence/abc")).body == "get abc");
  CHECK(routes.handle(req("DELETE", "/api/v2/silence/abc")).body == "delete abc");
  CHECK(routes.handle(req("HEAD", "/api/v2/silence/abc")).status == 200);
  CHECK(routes.handle(req("POST", "/api/v2/silence/abc")).status == 405);
  CHECK(routes.handle(req("GET", "/api/v2/silence")).status == 404);
  CHECK(routes.handle(req("GET", "/api/v2/silence/abc/more")).status == 404);
  CHECK(routes.handle(req("GET", "/api/v1/label/job/values")).body == "job");
  CHECK(routes.handle(req("GET", "/static/a/b/c")).body == "a/b/c");
}

TEST_CASE("routes: a throwing handler is a 500, and the observer sees every request") {
  Routes routes;
  routes.add("GET", "/boom", [](const Request&) -> Response { throw std::runtime_error("x"); });
  std::vector<std::pair<std::string, int>> seen;
  routes.set_observer([&](std::string_view pattern, const Request&, const Response& resp, double) {
    seen.emplace_back(std::string(pattern), resp.status);
  });
  CHECK(routes.handle(req("GET", "/boom")).status == 500);
  CHECK(routes.handle(req("GET", "/nothing")).status == 404);
  REQUIRE(seen.size() == 2);
  CHECK(seen[0] == std::pair<std::string, int>{"/boom", 500});
  CHECK(seen[1] == std::pair<std::string, int>{"", 404});
}

TEST_CASE("query strings decode percent escapes and plus signs, and keep repeats") {
  std::multimap<std::string, std::string, std::less<>> out;
  parse_query("filter=alertname%3D%22a+b%22&filter=x&empty=&flag", out);
  CHECK(out.count("filter") == 2);
  CHECK(out.find("filter")->second == "alertname=\"a b\"");
  CHECK(out.find("empty")->second.empty());
  CHECK(out.count("flag") == 1);
  CHECK(url_decode("%zz%4", false) == "%zz%4");
}

TEST_CASE("listen addresses") {
  CHECK(split_host_port(":9093").value() == std::pair<std::string, int>{"0.0.0.0", 9093});
  CHECK(split_host_port("127.0.0.1:0").value() == std::pair<std::string, int>{"127.0.0.1", 0});
  CHECK(split_host_port("[::1]:80").value() == std::pair<std::string, int>{"::1", 80});
  CHECK_FALSE(split_host_port("localhost").has_value());
  CHECK_FALSE(split_host_port("localhost:http").has_value());
  CHECK_FALSE(split_host_port("localhost:70000").has_value());
}

TEST_CASE("the server serves a routes table over a socket") {
  Routes routes;
  routes.add("POST", "/echo/{id}", [](const Request& r) {
    return Response::json(201, "{\"id\":\"" + r.path_params.at("id") + "\",\"body\":\"" + r.body + "\",\"q\":\"" +
                                   r.param("q").value_or("") + "\",\"f\":\"" + r.param("f").value_or("") + "\"}");
  });
  HttpServer server(routes, {});
  REQUIRE(server.start("127.0.0.1:0").has_value());
  REQUIRE(server.port() > 0);
  httplib::Client client("127.0.0.1", server.port());
  auto res = client.Post("/echo/7?q=a%20b", "hello", "text/plain");
  REQUIRE(res);
  CHECK(res->status == 201);
  CHECK(res->body == R"({"id":"7","body":"hello","q":"a b","f":""})");
  CHECK(res->get_header_value("Content-Type") == "application/json");
  auto form = client.Post("/echo/8", "f=x+y", "application/x-www-form-urlencoded");
  REQUIRE(form);
  CHECK(form->body == R"({"id":"8","body":"f=x+y","q":"","f":"x y"})");
  auto missing = client.Get("/nothing");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  server.stop();
}

TEST_CASE("cross-site requests are told from same-origin and non-browser ones") {
  auto with = [](std::initializer_list<std::pair<std::string, std::string>> headers) {
    Request r;
    for (const auto& [k, v] : headers) r.headers[k] = v;
    return r;
  };
  // curl, Prometheus, config reloaders: no Origin at all.
  CHECK_FALSE(cross_site(with({{"host", "vigil:9093"}})));
  CHECK_FALSE(cross_site(with({{"host", "vigil:9093"}, {"origin", "http://vigil:9093"}})));
  CHECK_FALSE(cross_site(with({{"host", "vigil"}, {"origin", "https://vigil"}})));
  CHECK_FALSE(cross_site(with({{"host", "vigil:80"}, {"origin", "http://vigil"}})));
  CHECK_FALSE(cross_site(with({{"host", "vigil:9093"}, {"sec-fetch-site", "same-origin"}})));
  CHECK(cross_site(with({{"host", "vigil:9093"}, {"origin", "https://evil.example"}})));
  CHECK(cross_site(with({{"host", "vigil:9093"}, {"origin", "http://vigil:9094"}})));
  CHECK(cross_site(with({{"host", "vigil:9093"}, {"origin", "null"}})));
  CHECK(cross_site(with({{"host", "vigil:9093"}, {"sec-fetch-site", "cross-site"}})));
}
