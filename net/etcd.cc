#include "net/etcd.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/value.h"
#include "net/http_client.h"

namespace vigil::net {

using nlohmann::json;

namespace {

// The gateway writes int64 fields as strings and leaves out zero values.
int64_t int64_field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return 0;
  if (it->is_string()) {
    try {
      return std::stoll(it->get<std::string>());
    } catch (const std::exception&) {
      return 0;
    }
  }
  if (it->is_number()) return it->get<int64_t>();
  return 0;
}

std::string bytes_field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return "";
  return base64_decode(it->get<std::string>()).value_or("");
}

std::vector<EtcdKv> kvs_of(const json& range) {
  std::vector<EtcdKv> out;
  auto it = range.find("kvs");
  if (it == range.end() || !it->is_array()) return out;
  for (const json& kv : *it) {
    out.push_back(EtcdKv{bytes_field(kv, "key"), bytes_field(kv, "value"), int64_field(kv, "create_revision"),
                         int64_field(kv, "mod_revision"), int64_field(kv, "lease")});
  }
  return out;
}

int64_t revision_of(const json& answer) {
  auto h = answer.find("header");
  return h == answer.end() ? 0 : int64_field(*h, "revision");
}

json range_request(std::string_view key, bool prefix, int64_t min_mod_revision) {
  json r = {{"key", base64_encode(key)}};
  if (prefix) r["range_end"] = base64_encode(etcd_prefix_end(key));
  if (min_mod_revision > 0) r["min_mod_revision"] = std::to_string(min_mod_revision);
  return r;
}

json op_json(const EtcdOp& op) {
  switch (op.kind) {
    case EtcdOp::Kind::kPut: {
      json p = {{"key", base64_encode(op.key)}, {"value", base64_encode(op.value)}};
      if (op.lease != 0) p["lease"] = std::to_string(op.lease);
      return {{"request_put", p}};
    }
    case EtcdOp::Kind::kRange:
      return {{"request_range", range_request(op.key, op.prefix, 0)}};
    case EtcdOp::Kind::kDelete: {
      json d = {{"key", base64_encode(op.key)}};
      if (op.prefix) d["range_end"] = base64_encode(etcd_prefix_end(op.key));
      return {{"request_delete_range", d}};
    }
  }
  return json::object();
}

json compare_json(const EtcdCompare& c) {
  json j = {{"key", base64_encode(c.key)}, {"result", "EQUAL"}};
  switch (c.target) {
    case EtcdCompare::Target::kCreate:
      j["target"] = "CREATE";
      j["create_revision"] = std::to_string(c.revision);
      break;
    case EtcdCompare::Target::kMod:
      j["target"] = "MOD";
      j["mod_revision"] = std::to_string(c.revision);
      break;
    case EtcdCompare::Target::kValue:
      j["target"] = "VALUE";
      j["value"] = base64_encode(c.value);
      break;
  }
  return j;
}

Result<json> parse(const std::string& text) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    return fail(fmt::format("etcd answered with invalid JSON: {}", e.what()));
  }
}

}  // namespace

std::string etcd_prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

EtcdClient::EtcdClient(EtcdOptions opts) : opts_(std::move(opts)) {}
EtcdClient::~EtcdClient() = default;

Result<std::unique_ptr<EtcdClient>> EtcdClient::create(EtcdOptions opts) {
  if (opts.endpoints.empty()) return fail("no etcd endpoint given");
  for (const std::string& e : opts.endpoints) {
    if (!e.starts_with("http://") && !e.starts_with("https://"))
      return fail(fmt::format("etcd endpoint {:?} must start with http:// or https://", e));
  }
  config::ConfigValue http_config = config::ConfigValue::map();
  config::ConfigValue tls = config::ConfigValue::map();
  if (!opts.ca_file.empty()) tls.set("ca_file", config::ConfigValue::string(opts.ca_file));
  if (!opts.cert_file.empty()) tls.set("cert_file", config::ConfigValue::string(opts.cert_file));
  if (!opts.key_file.empty()) tls.set("key_file", config::ConfigValue::string(opts.key_file));
  if (opts.insecure_skip_verify) tls.set("insecure_skip_verify", config::ConfigValue::boolean(true));
  http_config.set("tls_config", std::move(tls));
  http_config.set("follow_redirects", config::ConfigValue::boolean(false));
  auto http = HttpClient::create(&http_config);
  if (!http) return std::unexpected(http.error());
  std::unique_ptr<EtcdClient> c(new EtcdClient(std::move(opts)));
  c->http_ = std::move(*http);
  return c;
}

std::string EtcdClient::endpoint() const {
  std::lock_guard lock(mu_);
  return opts_.endpoints[current_];
}

Result<std::string> EtcdClient::call_once(size_t endpoint, std::string_view path, const std::string& body,
                                          const std::string& token) {
  HttpRequest req;
  req.method = "POST";
  req.url = opts_.endpoints[endpoint] + std::string(path);
  req.body = body;
  req.timeout = opts_.timeout;
  req.max_body = 64 * 1024 * 1024;  // a range over many keys
  req.redact_body = false;
  if (!token.empty()) req.headers.emplace_back("Authorization", token);
  auto resp = http_->send(req);
  if (!resp) return std::unexpected(resp.error());
  if (resp->status != 200) {
    std::string why = resp->body;
    if (auto j = parse(resp->body); j && j->is_object() && j->contains("message") && (*j)["message"].is_string())
      why = (*j)["message"].get<std::string>();
    return fail(fmt::format("etcd {} answered {}: {}", path, resp->status, why));
  }
  return std::move(resp->body);
}

Result<std::string> EtcdClient::authenticate(size_t endpoint) {
  json req = {{"name", opts_.username}, {"password", opts_.password}};
  auto text = call_once(endpoint, "/v3/auth/authenticate", req.dump(), "");
  if (!text) return std::unexpected(text.error());
  auto j = parse(*text);
  if (!j) return std::unexpected(j.error());
  auto t = j->find("token");
  if (t == j->end() || !t->is_string() || t->get<std::string>().empty())
    return fail("etcd authentication answered without a token");
  return t->get<std::string>();
}

Result<std::string> EtcdClient::call(std::string_view path, const std::string& body) {
  size_t start;
  std::string token;
  {
    std::lock_guard lock(mu_);
    start = current_;
    token = token_;
  }
  std::string last_error;
  const size_t n = opts_.endpoints.size();
  for (size_t i = 0; i < n; ++i) {
    const size_t e = (start + i) % n;
    if (!opts_.username.empty() && token.empty()) {
      auto t = authenticate(e);
      if (!t) {
        last_error = t.error().message;
        continue;
      }
      token = *t;
    }
    auto r = call_once(e, path, body, token);
    // A token etcd no longer knows (expired, or etcd restarted): once more
    // with a fresh one.
    if (!r && !opts_.username.empty() && r.error().message.find("invalid auth token") != std::string::npos) {
      auto t = authenticate(e);
      if (t) {
        token = *t;
        r = call_once(e, path, body, token);
      }
    }
    if (r) {
      std::lock_guard lock(mu_);
      current_ = e;
      token_ = token;
      return r;
    }
    last_error = r.error().message;
    // etcd answered: another endpoint would say the same.
    if (last_error.starts_with("etcd ")) break;
  }
  return fail(last_error);
}

Result<int64_t> EtcdClient::grant(Millis ttl) {
  json req = {{"TTL", std::to_string(std::max<Millis>(1, (ttl + kSecond - 1) / kSecond))}};
  auto text = call("/v3/lease/grant", req.dump());
  if (!text) return std::unexpected(text.error());
  auto j = parse(*text);
  if (!j) return std::unexpected(j.error());
  if (j->contains("error") && (*j)["error"].is_string() && !(*j)["error"].get<std::string>().empty())
    return fail("etcd lease grant: " + (*j)["error"].get<std::string>());
  const int64_t id = int64_field(*j, "ID");
  if (id == 0) return fail("etcd lease grant answered without an id");
  return id;
}

Result<Millis> EtcdClient::keepalive(int64_t lease) {
  json req = {{"ID", std::to_string(lease)}};
  auto text = call("/v3/lease/keepalive", req.dump());
  if (!text) return std::unexpected(text.error());
  // A stream of answers; one request, one answer, as {"result": ...}.
  std::string first = text->substr(0, text->find('\n'));
  auto j = parse(first);
  if (!j) return std::unexpected(j.error());
  const json& r = j->contains("result") ? (*j)["result"] : *j;
  if (j->contains("error")) return fail(fmt::format("etcd lease keepalive: {}", (*j)["error"].dump()));
  return int64_field(r, "TTL") * kSecond;
}

Result<void> EtcdClient::revoke(int64_t lease) {
  json req = {{"ID", std::to_string(lease)}};
  auto text = call("/v3/lease/revoke", req.dump());
  if (!text) return std::unexpected(text.error());
  return {};
}

Result<int64_t> EtcdClient::put(std::string_view key, std::string_view value, int64_t lease) {
  json req = {{"key", base64_encode(key)}, {"value", base64_encode(value)}};
  if (lease != 0) req["lease"] = std::to_string(lease);
  auto text = call("/v3/kv/put", req.dump());
  if (!text) return std::unexpected(text.error());
  auto j = parse(*text);
  if (!j) return std::unexpected(j.error());
  return revision_of(*j);
}

Result<EtcdRange> EtcdClient::range(std::string_view key, bool prefix, int64_t min_mod_revision) {
  auto text = call("/v3/kv/range", range_request(key, prefix, min_mod_revision).dump());
  if (!text) return std::unexpected(text.error());
  auto j = parse(*text);
  if (!j) return std::unexpected(j.error());
  return EtcdRange{kvs_of(*j), revision_of(*j)};
}

Result<int64_t> EtcdClient::remove(std::string_view key, bool prefix) {
  json req = {{"key", base64_encode(key)}};
  if (prefix) req["range_end"] = base64_encode(etcd_prefix_end(key));
  auto text = call("/v3/kv/deleterange", req.dump());
  if (!text) return std::unexpected(text.error());
  auto j = parse(*text);
  if (!j) return std::unexpected(j.error());
  return int64_field(*j, "deleted");
}

Result<void> EtcdClient::compact(int64_t revision) {
  json req = {{"revision", std::to_string(revision)}};
  auto text = call("/v3/kv/compaction", req.dump());
  if (!text && text.error().message.find("required revision has been compacted") == std::string::npos)
    return std::unexpected(text.error());
  return {};
}

Result<EtcdTxnResult> EtcdClient::txn(const std::vector<EtcdCompare>& compare, const std::vector<EtcdOp>& success,
                                      const std::vector<EtcdOp>& failure) {
  json req = {{"compare", json::array()}, {"success", json::array()}, {"failure", json::array()}};
  for (const auto& c : compare) req["compare"].push_back(compare_json(c));
  for (const auto& op : success) req["success"].push_back(op_json(op));
  for (const auto& op : failure) req["failure"].push_back(op_json(op));
  auto text = call("/v3/kv/txn", req.dump());
  if (!text) return std::unexpected(text.error());
  auto j = parse(*text);
  if (!j) return std::unexpected(j.error());
  EtcdTxnResult out;
  out.succeeded = j->value("succeeded", false);
  out.revision = revision_of(*j);
  if (auto rs = j->find("responses"); rs != j->end() && rs->is_array()) {
    for (const json& r : *rs) {
      auto range = r.find("response_range");
      out.ranges.push_back(range != r.end() ? kvs_of(*range) : std::vector<EtcdKv>{});
    }
  }
  return out;
}

}  // namespace vigil::net
