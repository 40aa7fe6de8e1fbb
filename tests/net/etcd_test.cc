// net/etcd.h against a canned JSON gateway: what is sent (base64 keys and
// values, int64 as strings, etcd's field names) and how answers are read
// (zero values left out, as the gateway leaves them out).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "net/etcd.h"
#include "net/http_client.h"
#include "tests/notifiers/test_server.h"

using namespace vigil;
using namespace vigil::net;
using nlohmann::json;
using vigil::notifiers::testing::TestServer;

namespace {

std::string b64(std::string_view s) { return base64_encode(s); }

std::unique_ptr<EtcdClient> client_of(std::vector<std::string> endpoints, std::string user = "") {
  EtcdOptions o;
  o.endpoints = std::move(endpoints);
  o.timeout = 2 * kSecond;
  o.username = std::move(user);
  o.password = o.username.empty() ? "" : "pw";
  auto c = EtcdClient::create(o);
  REQUIRE(c);
  return std::move(*c);
}

}  // namespace

TEST_CASE("etcd: prefix ends") {
  CHECK(etcd_prefix_end("/vigil/a/") == "/vigil/a0");
  CHECK(etcd_prefix_end("a\xff") == "b");
  CHECK(etcd_prefix_end("") == std::string(1, '\0'));
}

TEST_CASE("etcd: a claim's transaction as sent, and both answers read") {
  bool succeed = true;
  TestServer server([&](const auto& req, httplib::Response& res) {
    if (req.path != "/v3/kv/txn") return res.set_content("{}", "application/json");
    if (succeed) {
      res.set_content(R"({"header":{"revision":"17"},"succeeded":true,"responses":[{"response_put":{"header":{}}}]})",
                      "application/json");
    } else {
      json kv = {{"key", b64("c")}, {"value", b64("{\"peer\":\"r2\"}")}, {"create_revision", "15"},
                 {"mod_revision", "15"}, {"version", "1"}, {"lease", "7587"}};
      json answer = {{"header", {{"revision", "17"}}},
                     {"responses", json::array({json{{"response_range", {{"kvs", json::array({kv})}, {"count", "1"}}}},
                                                json{{"response_range", json::object()}}})}};
      res.set_content(answer.dump(), "application/json");
    }
  });
  auto etcd = client_of({server.url("")});
  using C = EtcdCompare;
  using Op = EtcdOp;
  auto r = etcd->txn({C{C::Target::kCreate, "c", 0, ""}, C{C::Target::kMod, "l", 12, ""}},
                     {Op{Op::Kind::kPut, "c", "mine", 7587, false}},
                     {Op{Op::Kind::kRange, "c", "", 0, false}, Op{Op::Kind::kRange, "l", "", 0, false}});
  REQUIRE(r);
  CHECK(r->succeeded);
  CHECK(r->revision == 17);
  json sent = json::parse(server.requests().back().body);
  CHECK(sent["compare"][0] == json{{"key", b64("c")}, {"result", "EQUAL"}, {"target", "CREATE"}, {"create_revision", "0"}});
  CHECK(sent["compare"][1] == json{{"key", b64("l")}, {"result", "EQUAL"}, {"target", "MOD"}, {"mod_revision", "12"}});
  CHECK(sent["success"][0] == json{{"request_put", {{"key", b64("c")}, {"value", b64("mine")}, {"lease", "7587"}}}});
  CHECK(sent["failure"][1] == json{{"request_range", {{"key", b64("l")}}}});

  succeed = false;
  r = etcd->txn({}, {}, {Op{Op::Kind::kRange, "c", "", 0, false}, Op{Op::Kind::kRange, "l", "", 0, false}});
  REQUIRE(r);
  CHECK_FALSE(r->succeeded);
  REQUIRE(r->ranges.size() == 2);
  REQUIRE(r->ranges[0].size() == 1);
  CHECK(r->ranges[0][0].value == "{\"peer\":\"r2\"}");
  CHECK(r->ranges[0][0].lease == 7587);
  CHECK(r->ranges[0][0].create_revision == 15);
  CHECK(r->ranges[1].empty());
}

TEST_CASE("etcd: leases, ranges by prefix and revision, errors") {
  TestServer server([](const auto& req, httplib::Response& res) {
    if (req.path == "/v3/lease/grant") return res.set_content(R"({"ID":"7587869083557054991","TTL":"5"})", "application/json");
    if (req.path == "/v3/lease/keepalive") {
      json in = json::parse(req.body);
      // A lease etcd no longer knows comes back without a TTL.
      if (in["ID"] == "1") return res.set_content(R"({"result":{"ID":"1"}})", "application/json");
      return res.set_content(R"({"result":{"ID":"2","TTL":"5"}})", "application/json");
    }
    if (req.path == "/v3/kv/range")
      return res.set_content(R"({"header":{"revision":"9"},"kvs":[{"key":")" + b64("/p/a") + R"(","value":")" +
                                 b64("x") + R"(","mod_revision":"8"}]})",
                             "application/json");
    res.status = 400;
    res.set_content(R"({"error":"bad","message":"etcdserver: bad thing","code":3})", "application/json");
  });
  auto etcd = client_of({server.url("")});
  auto lease = etcd->grant(5 * kSecond);
  REQUIRE(lease);
  CHECK(*lease == 7587869083557054991);
  CHECK(json::parse(server.requests().back().body) == json{{"TTL", "5"}});
  auto ttl = etcd->keepalive(1);
  REQUIRE(ttl);
  CHECK(*ttl == 0);
  CHECK(*etcd->keepalive(2) == 5 * kSecond);
  auto r = etcd->range("/p/", true, 8);
  REQUIRE(r);
  CHECK(r->revision == 9);
  REQUIRE(r->kvs.size() == 1);
  CHECK(r->kvs[0].key == "/p/a");
  CHECK(r->kvs[0].mod_revision == 8);
  json sent = json::parse(server.requests().back().body);
  CHECK(sent == json{{"key", b64("/p/")}, {"range_end", b64("/p0")}, {"min_mod_revision", "8"}});
  auto err = etcd->put("k", "v");
  REQUIRE_FALSE(err);
  CHECK(err.error().message == "etcd /v3/kv/put answered 400: etcdserver: bad thing");
}

TEST_CASE("etcd: the next endpoint when one does not answer; a token with a user, fetched again when stale") {
  int auths = 0;
  TestServer server([&](const auto& req, httplib::Response& res) {
    if (req.path == "/v3/auth/authenticate") {
      ++auths;
      return res.set_content(json{{"token", "tok" + std::to_string(auths)}}.dump(), "application/json");
    }
    auto it = req.headers.find("Authorization");
    const std::string token = it == req.headers.end() ? "" : it->second;
    if (token != "tok" + std::to_string(auths) || (auths == 1 && req.path == "/v3/kv/deleterange")) {
      res.status = 401;
      return res.set_content(R"({"error":"etcdserver: invalid auth token","message":"etcdserver: invalid auth token","code":16})",
                             "application/json");
    }
    res.set_content(R"({"header":{"revision":"3"},"deleted":"2"})", "application/json");
  });
  // 127.0.0.1:1 refuses: the second endpoint answers.
  auto etcd = client_of({"http://127.0.0.1:1", server.url("")}, "vigil");
  auto put = etcd->put("k", "v");
  REQUIRE(put);
  CHECK(*put == 3);
  CHECK(auths == 1);
  CHECK(etcd->endpoint() == server.url(""));
  auto removed = etcd->remove("/p/", true);  // the token is refused: fetched again, then it works
  REQUIRE(removed);
  CHECK(*removed == 2);
  CHECK(auths == 2);
  json sent = json::parse(server.requests().front().body);
  CHECK(sent == json{{"name", "vigil"}, {"password", "pw"}});
}

TEST_CASE("etcd: compaction, a revision compacted already being no error") {
  int calls = 0;
  TestServer server([&](const auto& req, httplib::Response& res) {
    ++calls;
    if (req.body == R"({"revision":"40"})") {
      res.status = 400;
      return res.set_content(
          R"({"error":"etcdserver: mvcc: required revision has been compacted","message":"etcdserver: mvcc: required revision has been compacted","code":11})",
          "application/json");
    }
    if (req.body == R"({"revision":"99"})") return res.set_content(R"({"header":{"revision":"120"}})", "application/json");
    res.status = 500;
    res.set_content(R"({"message":"etcdserver: something else"})", "application/json");
  });
  auto etcd = client_of({server.url("")});
  CHECK(etcd->compact(99));
  CHECK(etcd->compact(40));
  CHECK_FALSE(etcd->compact(7));
  CHECK(server.requests()[0].path == "/v3/kv/compaction");
}
