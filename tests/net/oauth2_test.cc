// http_config.oauth2 against a token endpoint and a resource on 127.0.0.1:
// the token request (form and client authentication), the token on the
// request, caching and refresh on an injected clock, secret rotation,
// errors (redacted) and the configuration checks.
#include <doctest/doctest.h>

#include <unistd.h>

#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/http_config.h"
#include "config/schema.h"
#include "model/clock.h"
#include "model/yaml.h"
#include "net/http_client.h"
#include "tests/notifiers/test_server.h"

using namespace vigil;
using namespace vigil::net;
using vigil::notifiers::testing::Captured;
using vigil::notifiers::testing::TestServer;
using vigil::notifiers::testing::temp_file;
using vigil::notifiers::testing::RawListener;
using vigil::notifiers::testing::read_http_request;

namespace {

// An http_config as the loaders give it: decoded, checked, normalised.
struct Checked {
  config::ConfigValue http;
  std::string error;  // the first one, or ""
};

Checked check(std::string_view yaml) {
  auto doc = parse_yaml(yaml);
  REQUIRE(doc.has_value());
  std::vector<Error> errors;
  config::SchemaDecoder dec(*doc, errors);
  Checked c{dec.object(*doc->root(), config::http_config_spec()), ""};
  if (errors.empty()) config::check_http_config(c.http, errors);
  if (!errors.empty()) c.error = errors.front().message;
  return c;
}

std::shared_ptr<HttpClient> client(std::string_view yaml, const Clock* clock = nullptr) {
  Checked c = check(yaml);
  REQUIRE_MESSAGE(c.error.empty(), c.error);
  auto made = HttpClient::create(&c.http, clock);
  REQUIRE_MESSAGE(made.has_value(), made.error().message);
  return *made;
}

// A token endpoint handing out tok-1, tok-2, ... with `extra` JSON members.
TestServer::Handler tokens(nlohmann::json extra = {{"token_type", "bearer"}, {"expires_in", 3600}}) {
  auto n = std::make_shared<std::atomic<int>>(0);
  return [n, extra](const Captured&, httplib::Response& res) {
    nlohmann::json j = extra;
    j["access_token"] = fmt::format("tok-{}", ++*n);
    res.set_content(j.dump(), "application/json");
  };
}

std::string oauth2_yaml(const TestServer& token_server, std::string_view more = "client_secret: s3cret-value") {
  return fmt::format("oauth2:\n  client_id: my client\n  token_url: '{}'\n  {}\n", token_server.url("/token"), more);
}

// A proxy that refuses every tunnel: it keeps the head of each request
// (a CONNECT line and its headers) and answers 403.
class RefusingProxy {
 public:
  std::string url() const { return fmt::format("http://127.0.0.1:{}", listener_.port()); }
  std::vector<std::string> heads() {
    std::lock_guard lock(mu_);
    return heads_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> heads_;
  RawListener listener_{[this](int c) {
    std::string head = read_http_request(c, false);
    {
      std::lock_guard lock(mu_);
      heads_.push_back(head);
    }
    std::string_view answer = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
    (void)!::write(c, answer.data(), answer.size());
    ::close(c);
  }};
};

Result<HttpResponse> get(const HttpClient& c, const TestServer& resource) {
  HttpRequest req;
  req.method = "GET";
  req.url = resource.url("/api");
  return c.send(req);
}

}  // namespace

TEST_CASE("oauth2: the token request, the bearer token on the request, one fetch for many requests") {
  TestServer token_server(tokens()), resource;
  auto c = client(oauth2_yaml(token_server,
                              "client_secret: s3cret-value\n  scopes: [read, write]\n"
                              "  endpoint_params: {audience: 'https://api', hi: hello}"));
  for (int i = 0; i < 3; ++i) {
    auto r = get(*c, resource);
    REQUIRE_MESSAGE(r.has_value(), r.error().message);
    CHECK(r->status == 200);
  }
  REQUIRE(token_server.count() == 1);
  const Captured t = token_server.requests()[0];
  CHECK(t.method == "POST");
  CHECK(t.path == "/token");
  CHECK(t.header("Content-Type") == "application/x-www-form-urlencoded");
  // Client id and secret query-escaped, then Basic auth.
  CHECK(t.header("Authorization") == "Basic " + base64_encode("my+client:s3cret-value"));
  // Keys sorted, scopes joined by a space.
  CHECK(t.body == "audience=https%3A%2F%2Fapi&grant_type=client_credentials&hi=hello&scope=read+write");
  REQUIRE(resource.count() == 3);
  for (const Captured& r : resource.requests()) CHECK(r.header("Authorization") == "Bearer tok-1");
}

TEST_CASE("oauth2: requests from many threads share one token fetch") {
  TestServer token_server(tokens()), resource;
  auto c = client(oauth2_yaml(token_server));
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      if (auto r = get(*c, resource); r && r->status == 200) ++ok;
    });
  for (auto& t : threads) t.join();
  CHECK(ok == 8);
  CHECK(token_server.count() == 1);
  for (const Captured& r : resource.requests()) CHECK(r.header("Authorization") == "Bearer tok-1");
}

TEST_CASE("oauth2: a token is refreshed 10 s before expires_in runs out, on the client's clock") {
  ManualClock clock(1'000'000);
  TestServer token_server(tokens({{"token_type", "Bearer"}, {"expires_in", 60}})), resource;
  auto c = client(oauth2_yaml(token_server), &clock);
  REQUIRE(get(*c, resource).has_value());
  clock.advance(50'000);  // exactly expiry - 10 s: still good
  REQUIRE(get(*c, resource).has_value());
  CHECK(token_server.count() == 1);
  clock.advance(1);
  REQUIRE(get(*c, resource).has_value());
  CHECK(token_server.count() == 2);
  auto seen = resource.requests();
  CHECK(seen[1].header("Authorization") == "Bearer tok-1");
  CHECK(seen[2].header("Authorization") == "Bearer tok-2");

  // expires_in given as a string counts the same.
  ManualClock clock2(0);
  TestServer string_expiry(tokens({{"expires_in", "60"}}));
  auto c2 = client(oauth2_yaml(string_expiry), &clock2);
  REQUIRE(get(*c2, resource).has_value());
  clock2.advance(51'000);
  REQUIRE(get(*c2, resource).has_value());
  CHECK(string_expiry.count() == 2);
}

TEST_CASE("oauth2: a token without expires_in is kept") {
  ManualClock clock(0);
  TestServer token_server(tokens({{"token_type", "bearer"}})), resource;
  auto c = client(oauth2_yaml(token_server), &clock);
  REQUIRE(get(*c, resource).has_value());
  clock.advance(365LL * 24 * 3600 * 1000);
  REQUIRE(get(*c, resource).has_value());
  CHECK(token_server.count() == 1);
}

TEST_CASE("oauth2: token_type spelt as x/oauth2 spells it") {
  struct Case {
    nlohmann::json type;
    std::string header;
  };
  for (const Case& k : {Case{"mac", "MAC tok-1"}, Case{"BASIC", "Basic tok-1"}, Case{"DPoP", "DPoP tok-1"},
                        Case{"", "Bearer tok-1"}, Case{nullptr, "Bearer tok-1"}}) {
    CAPTURE(k.header);
    TestServer token_server(tokens({{"token_type", k.type}})), resource;
    auto c = client(oauth2_yaml(token_server));
    REQUIRE(get(*c, resource).has_value());
    CHECK(resource.requests().at(0).header("Authorization") == k.header);
  }
}

TEST_CASE("oauth2: a form-encoded token answer") {
  ManualClock clock(0);
  TestServer token_server([](const Captured&, httplib::Response& res) {
    res.set_content("access_token=form%20tok&token_type=bearer&expires_in=20", "text/plain; charset=utf-8");
  });
  TestServer resource;
  auto c = client(oauth2_yaml(token_server), &clock);
  REQUIRE(get(*c, resource).has_value());
  CHECK(resource.requests().at(0).header("Authorization") == "Bearer form tok");
  clock.advance(11'000);  // 20 s - 10 s passed
  REQUIRE(get(*c, resource).has_value());
  CHECK(token_server.count() == 2);
}

TEST_CASE("oauth2: a secret file is read for every request and a new secret drops the token") {
  TestServer token_server(tokens()), resource;
  std::string file = temp_file("first-secret\n");
  auto c = client(oauth2_yaml(token_server, "client_secret_file: " + file));
  REQUIRE(get(*c, resource).has_value());
  REQUIRE(get(*c, resource).has_value());
  CHECK(token_server.count() == 1);
  std::ofstream(file, std::ios::trunc) << "second-secret";
  REQUIRE(get(*c, resource).has_value());
  REQUIRE(get(*c, resource).has_value());
  auto fetches = token_server.requests();
  REQUIRE(fetches.size() == 2);
  CHECK(fetches[0].header("Authorization") == "Basic " + base64_encode("my+client:first-secret"));
  CHECK(fetches[1].header("Authorization") == "Basic " + base64_encode("my+client:second-secret"));
  auto seen = resource.requests();
  CHECK(seen[1].header("Authorization") == "Bearer tok-1");
  CHECK(seen[2].header("Authorization") == "Bearer tok-2");
  CHECK(seen[3].header("Authorization") == "Bearer tok-2");
  // A secret file that went away is the request's error.
  std::remove(file.c_str());
  auto gone = get(*c, resource);
  REQUIRE_FALSE(gone.has_value());
  CHECK(gone.error().message.starts_with("unable to read oauth2 client secret: "));
  CHECK(resource.count() == 4);
}

TEST_CASE("oauth2: credentials go in the form when the endpoint refuses them in a header") {
  ManualClock clock(0);
  auto n = std::make_shared<int>(0);
  TestServer token_server([n](const Captured& c, httplib::Response& res) {
    if (!c.header("Authorization").empty()) {
      res.status = 401;
      res.set_content(R"({"error":"invalid_client"})", "application/json");
      return;
    }
    res.set_content(fmt::format(R"({{"access_token":"tok-{}","expires_in":60}})", ++*n), "application/json");
  });
  TestServer resource;
  auto c = client(oauth2_yaml(token_server, "client_secret: s3cret-value\n  scopes: [a]"), &clock);
  REQUIRE(get(*c, resource).has_value());
  auto fetches = token_server.requests();
  REQUIRE(fetches.size() == 2);
  CHECK(fetches[1].header("Authorization") == "");
  CHECK(fetches[1].body ==
        "client_id=my+client&client_secret=s3cret-value&grant_type=client_credentials&scope=a");
  CHECK(resource.requests().at(0).header("Authorization") == "Bearer tok-1");
  // The way that worked is kept: the refresh asks once.
  clock.advance(60'000);
  REQUIRE(get(*c, resource).has_value());
  CHECK(token_server.count() == 3);
  CHECK(resource.requests().at(1).header("Authorization") == "Bearer tok-2");
}

TEST_CASE("oauth2: token endpoint failures are the request's error, without secret or token") {
  struct Case {
    int status;
    std::string content_type, body, error;
  };
  const std::vector<Case> cases = {
      {400, "application/json",
       R"({"error":"invalid_client","error_description":"secret s3cret-value is wrong"})",
       R"(oauth2: "invalid_client" "secret <secret> is wrong")"},
      {500, "text/html", "<p>no s3cret-value here</p>",
       "oauth2: cannot fetch token: 500 Internal Server Error\nResponse: <p>no <secret> here</p>"},
      // Some servers say 200 and an error.
      {200, "application/json", R"({"error":"slow_down","access_token":"leaked-token-1"})",
       R"(oauth2: "slow_down")"},
      {200, "application/json", R"({"token_type":"bearer"})", "oauth2: server response missing access_token"},
      {200, "application/json", "not json",
       "oauth2: cannot parse json: the token response is not a JSON token object"},
      {200, "application/json", R"({"access_token": 12})",
       "oauth2: cannot parse json: the token response is not a JSON token object"},
  };
  for (const Case& k : cases) {
    CAPTURE(k.body);
    TestServer token_server([&](const Captured&, httplib::Response& res) {
      res.status = k.status;
      res.set_content(k.body, k.content_type);
    });
    TestServer resource;
    auto c = client(oauth2_yaml(token_server));
    auto r = get(*c, resource);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message == k.error);
    CHECK(resource.count() == 0);
    CHECK(token_server.count() == 2);  // in a header, then in the form
  }
}

TEST_CASE("oauth2: an unreachable token endpoint fails the request") {
  auto checked = check("oauth2: {client_id: c, client_secret: s3cret-value, token_url: 'http://127.0.0.1:1/t'}");
  auto c = HttpClient::create(&checked.http);
  REQUIRE(c.has_value());
  TestServer resource;
  auto r = get(**c, resource);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message.starts_with("oauth2: cannot fetch token: "));
  CHECK(r.error().message.find("s3cret-value") == std::string::npos);
  CHECK(resource.count() == 0);
}

TEST_CASE("oauth2: a 401 from the resource is its answer, with no new token and the token redacted") {
  TestServer token_server(tokens());
  TestServer resource([](const Captured& c, httplib::Response& res) {
    res.status = 401;
    res.set_content("rejected " + c.header("Authorization"), "text/plain");
  });
  auto c = client(oauth2_yaml(token_server));
  auto r = get(*c, resource);
  REQUIRE(r.has_value());
  CHECK(r->status == 401);
  CHECK(r->body == "rejected Bearer <secret>");
  CHECK(token_server.count() == 1);
  CHECK(resource.count() == 1);
  REQUIRE(get(*c, resource).has_value());
  CHECK(token_server.count() == 1);  // the token is still the cached one
}

TEST_CASE("oauth2: endpoint_params may replace grant_type, not another parameter") {
  TestServer token_server(tokens()), resource;
  auto c = client(oauth2_yaml(token_server, "client_secret: x\n  endpoint_params: {grant_type: password}"));
  REQUIRE(get(*c, resource).has_value());
  CHECK(token_server.requests().at(0).body == "grant_type=password");
  auto bad = client(oauth2_yaml(token_server, "client_secret: x\n  scopes: [a]\n  endpoint_params: {scope: b}"));
  auto r = get(*bad, resource);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message == "oauth2: cannot overwrite parameter \"scope\"");
}

TEST_CASE("oauth2: the token replaces an Authorization the request sets itself") {
  TestServer token_server(tokens()), resource;
  auto c = client(oauth2_yaml(token_server));
  HttpRequest req;
  req.url = resource.url("/api");
  req.headers.emplace_back("Authorization", "GenieKey abc");
  REQUIRE(c->send(req).has_value());
  auto seen = resource.requests().at(0);
  CHECK(seen.header("Authorization") == "Bearer tok-1");
  CHECK(seen.headers.count("Authorization") == 1);
}

TEST_CASE("oauth2: configuration checks as upstream's") {
  auto err = [](std::string_view yaml) { return check(yaml).error; };
  CHECK(err("oauth2: {client_id: c, token_url: 'http://t/', client_secret: a, client_secret_file: f}") ==
        "at most one of oauth2 client_secret, client_secret_file & client_secret_ref must be configured "
        "using grant-type=client_credentials");
  CHECK(err("oauth2: {client_id: c, token_url: 'http://t/'}\nbasic_auth: {username: u}") ==
        "at most one of basic_auth, oauth2 & authorization must be configured");
  CHECK(err("oauth2: {client_id: c, token_url: 'http://t/'}\nauthorization: {credentials: x}") ==
        "at most one of basic_auth, oauth2 & authorization must be configured");
  CHECK(err("oauth2: {client_id: c, token_url: 'http://t/'}\nbearer_token: x") ==
        "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured");
  CHECK(err("oauth2: {token_url: 'http://t/'}") == "oauth2 client_id must be configured");
  CHECK(err("oauth2: {client_id: c}") == "oauth2 token_url must be configured");
  CHECK(err("oauth2: {client_id: c, token_url: 'http://t/', tls_config: {cert_file: c}}") ==
        "exactly one of key or key_file must be configured when a client certificate is configured");
  CHECK(err("oauth2: {client_id: c, token_url: 'http://t/', secret: x}").find("field secret not found") !=
        std::string::npos);

  // What vigil refuses when the client is built.
  auto refused = [](std::string_view yaml) {
    Checked c = check(yaml);
    REQUIRE_MESSAGE(c.error.empty(), c.error);
    auto made = HttpClient::create(&c.http);
    return made.has_value() ? std::string() : made.error().message;
  };
  CHECK(refused("oauth2: {client_id: c, token_url: 'http://t/', client_secret_ref: vault}") ==
        "http_config: unable to use client secret: cannot use secret ref without manager");
  CHECK(refused("oauth2: {client_id: c, token_url: 'http://t/', "
                "grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer'}") ==
        "http_config: oauth2 grant_type urn:ietf:params:oauth:grant-type:jwt-bearer is not supported by "
        "vigil yet; use client_credentials");
  CHECK(refused("oauth2: {client_id: c, token_url: 'http://t/', client_secret: x, proxy_url: 'http://p:3128', "
                "no_proxy: localhost, tls_config: {insecure_skip_verify: true}}") == "");
}

TEST_CASE("oauth2: the token endpoint is reached through oauth2's own proxy settings") {
  // The "proxy" is a capture server: a plain-HTTP request through a proxy
  // goes to it with the absolute URL as its target.
  TestServer proxy(tokens());
  TestServer resource;
  auto c = client(fmt::format("oauth2:\n  client_id: c\n  client_secret: x\n  token_url: 'http://token.invalid/t'\n"
                              "  proxy_url: '{}'\n",
                              proxy.url("")));
  REQUIRE(get(*c, resource).has_value());
  REQUIRE(proxy.count() == 1);
  CHECK(proxy.requests()[0].header("Host") == "token.invalid");
  CHECK(resource.requests().at(0).header("Authorization") == "Bearer tok-1");
}

TEST_CASE("oauth2: proxy_connect_header goes with the CONNECT to the token endpoint's proxy") {
  RefusingProxy proxy;
  TestServer resource;
  auto c = client(fmt::format("oauth2:\n  client_id: c\n  client_secret: x\n  token_url: 'https://token.invalid/t'\n"
                              "  proxy_url: '{}'\n  proxy_connect_header: {{X-Proxy-Key: [proxy-key-123]}}\n",
                              proxy.url()));
  auto r = get(*c, resource);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message.starts_with("oauth2: cannot fetch token: "));
  auto heads = proxy.heads();
  REQUIRE(heads.size() == 2);  // in a header, then in the form
  CHECK(heads[0].starts_with("CONNECT token.invalid:443 "));
  CHECK(heads[0].find("X-Proxy-Key: proxy-key-123\r\n") != std::string::npos);
  CHECK(resource.count() == 0);
}
