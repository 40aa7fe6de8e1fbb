#include "net/http_client.h"

#include "model/base64.h"

#include <curl/curl.h>
#include <strings.h>
#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "model/build_info.h"
#include "model/file.h"
#include "net/oauth2.h"

namespace vigil::net {

namespace {

using config::ConfigValue;

constexpr size_t kMaxIdleHandles = 16;

const ConfigValue* child(const ConfigValue* v, std::string_view key) {
  if (v == nullptr || !v->is_map()) return nullptr;
  const ConfigValue* c = v->find(key);
  return c != nullptr && !c->is_null() ? c : nullptr;
}

// Where a response body goes, and how much of it to keep.
struct BodySink {
  HttpResponse* resp;
  size_t limit;
  bool abort_over_limit;
};

size_t collect_body(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  HttpResponse* r = sink->resp;
  size_t len = size * n;
  size_t room = sink->limit - std::min(r->body.size(), sink->limit);
  r->body.append(data, std::min(len, room));
  if (len > room) {
    r->truncated = true;
    if (sink->abort_over_limit) return 0;  // curl stops with a write error
  }
  return len;  // the rest is read and dropped, so the connection stays usable
}

bool header_is(std::string_view line, std::string_view name) {
  if (line.size() <= name.size() || line[name.size()] != ':') return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(line[i])) != std::tolower(static_cast<unsigned char>(name[i])))
      return false;
  return true;
}

std::string header_value(std::string_view line, size_t name_len) {
  std::string_view v = line.substr(name_len + 1);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.remove_suffix(1);
  return std::string(v);
}

size_t collect_header(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<HttpResponse*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {  // a new response (after a redirect or 100): start over
    r->retry_after.clear();
    r->content_type.clear();
  } else if (header_is(line, "Retry-After")) {
    r->retry_after = header_value(line, 11);
  } else if (header_is(line, "Content-Type")) {
    r->content_type = header_value(line, 12);
  }
  return size * n;
}

struct UrlParts {
  std::string scheme, host, port, rest;
};

// Enough of RFC 3986 to swap the host of an absolute URL.
std::optional<UrlParts> split_url(std::string_view url) {
  size_t colon = url.find("://");
  if (colon == std::string_view::npos) return std::nullopt;
  UrlParts p;
  p.scheme = url.substr(0, colon);
  std::string_view after = url.substr(colon + 3);
  size_t end = after.find_first_of("/?#");
  std::string_view authority = after.substr(0, end);
  p.rest = end == std::string_view::npos ? "" : std::string(after.substr(end));
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  size_t port_colon = authority.rfind(':');
  if (port_colon != std::string_view::npos && authority.find(']', port_colon) == std::string_view::npos) {
    p.host = authority.substr(0, port_colon);
    p.port = authority.substr(port_colon + 1);
  } else {
    p.host = authority;
  }
  if (p.port.empty()) p.port = p.scheme == "https" ? "443" : "80";
  return p;
}

int tls_version(std::string_view v) {
  if (v == "TLS10") return CURL_SSLVERSION_TLSv1_0;
  if (v == "TLS11") return CURL_SSLVERSION_TLSv1_1;
  if (v == "TLS12") return CURL_SSLVERSION_TLSv1_2;
  if (v == "TLS13") return CURL_SSLVERSION_TLSv1_3;
  return CURL_SSLVERSION_DEFAULT;
}

long max_tls_version(std::string_view v) {
  if (v == "TLS10") return CURL_SSLVERSION_MAX_TLSv1_0;
  if (v == "TLS11") return CURL_SSLVERSION_MAX_TLSv1_1;
  if (v == "TLS12") return CURL_SSLVERSION_MAX_TLSv1_2;
  if (v == "TLS13") return CURL_SSLVERSION_MAX_TLSv1_3;
  return CURL_SSLVERSION_MAX_DEFAULT;
}

std::string_view curl_message(CURLcode code, const char* errbuf) {
  return errbuf[0] != '\0' ? std::string_view(errbuf) : std::string_view(curl_easy_strerror(code));
}

}  // namespace

void ensure_curl_initialised() {
  static const bool done = [] {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return true;
  }();
  (void)done;
}

std::string base64_encode(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view in) { return vigil::base64_decode(in); }

Result<void> apply_tls_config(CURL* h, const ConfigValue* tls) {
  if (tls == nullptr || !tls->is_map()) return {};
  auto blob = [&](CURLoption opt, std::string_view pem) {
    curl_blob b{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(h, opt, &b);
  };
  if (tls->has("ca")) blob(CURLOPT_CAINFO_BLOB, tls->str("ca"));
  if (tls->has("ca_file")) {
    std::string path(tls->str("ca_file"));
    if (auto f = read_file(path, 1 << 20); !f) return fail("tls_config: " + f.error().message);
    curl_easy_setopt(h, CURLOPT_CAINFO, path.c_str());
  }
  if (tls->has("cert")) blob(CURLOPT_SSLCERT_BLOB, tls->str("cert"));
  if (tls->has("cert_file")) {
    std::string path(tls->str("cert_file"));
    if (auto f = read_file(path, 1 << 20); !f) return fail("tls_config: " + f.error().message);
    curl_easy_setopt(h, CURLOPT_SSLCERT, path.c_str());
  }
  if (tls->has("key")) blob(CURLOPT_SSLKEY_BLOB, tls->str("key"));
  if (tls->has("key_file")) {
    std::string path(tls->str("key_file"));
    if (auto f = read_file(path, 1 << 20); !f) return fail("tls_config: " + f.error().message);
    curl_easy_setopt(h, CURLOPT_SSLKEY, path.c_str());
  }
  if (tls->has("ca_ref") || tls->has("cert_ref") || tls->has("key_ref"))
    return fail("tls_config: ca_ref, cert_ref and key_ref are not supported; use ca_file, cert_file and key_file");
  if (tls->flag("insecure_skip_verify")) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  // Go's default minimum is TLS 1.2.
  long version = tls->has("min_version") ? tls_version(tls->str("min_version")) : CURL_SSLVERSION_TLSv1_2;
  if (tls->has("max_version")) version |= max_tls_version(tls->str("max_version"));
  curl_easy_setopt(h, CURLOPT_SSLVERSION, version);
  return {};
}

Result<std::shared_ptr<HttpClient>> HttpClient::create(const ConfigValue* http_config, const Clock* clock) {
  ensure_curl_initialised();
  std::shared_ptr<HttpClient> c(new HttpClient());
  c->config_ = http_config != nullptr && http_config->is_map() ? *http_config : ConfigValue::map();
  if (const ConfigValue* o = child(&c->config_, "oauth2")) {
    auto tokens = OAuth2Tokens::create(*o, clock);
    if (!tokens) return fail("http_config: " + tokens.error().message);
    c->oauth2_ = std::move(*tokens);
  }
  if (const ConfigValue* b = child(&c->config_, "basic_auth");
      b != nullptr && (b->has("username_ref") || b->has("password_ref")))
    return fail("http_config: basic_auth username_ref and password_ref are not supported; use the _file forms");
  if (const ConfigValue* a = child(&c->config_, "authorization"); a != nullptr && a->has("credentials_ref"))
    return fail("http_config: authorization credentials_ref is not supported; use credentials_file");
  collect_secrets(c->config_, c->redactor_);
  return c;
}

HttpClient::~HttpClient() {
  for (CURL* h : idle_) curl_easy_cleanup(h);
}

CURL* HttpClient::acquire() const {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      CURL* h = idle_.back();
      idle_.pop_back();
      curl_easy_reset(h);  // options go, connections stay
      return h;
    }
  }
  return curl_easy_init();
}

void HttpClient::release(CURL* h) const {
  std::lock_guard lock(mu_);
  if (idle_.size() < kMaxIdleHandles) {
    idle_.push_back(h);
    return;
  }
  curl_easy_cleanup(h);
}

Result<HttpClient::AuthHeaders> HttpClient::auth_headers(const HttpRequest& req, bool showing) const {
  AuthHeaders result;
  std::vector<std::string>& out = result.lines;
  Redactor& secrets = result.secrets;
  if (oauth2_ && showing) {
    out.push_back("Authorization: Bearer <secret>");
  } else if (oauth2_) {
    auto value = oauth2_->authorization(req.timeout, req.cancel, secrets);
    if (!value) return fail(secrets.redact(value.error().message));
    out.push_back("Authorization: " + *value);
  } else if (const ConfigValue* b = child(&config_, "basic_auth")) {
    auto user = read_credential(*b, "username", "username_file");
    if (!user) return fail("basic_auth: " + user.error().message);
    auto pass = read_credential(*b, "password", "password_file");
    if (!pass) return fail("basic_auth: " + pass.error().message);
    std::string encoded = base64_encode(*user + ":" + *pass);
    secrets.add(*pass);
    secrets.add(encoded);
    out.push_back("Authorization: Basic " + encoded);
  } else if (const ConfigValue* a = child(&config_, "authorization")) {
    auto cred = read_credential(*a, "credentials", "credentials_file");
    if (!cred) return fail("authorization: " + cred.error().message);
    std::string type = a->has("type") ? std::string(a->str("type")) : "Bearer";
    secrets.add(*cred);
    out.push_back(fmt::format("Authorization: {} {}", type, *cred));
  }
  if (const ConfigValue* hs = child(&config_, "http_headers"); hs != nullptr && hs->is_map()) {
    for (const auto& [name, h] : hs->entries()) {
      for (const char* list : {"values", "secrets"})
        if (const ConfigValue* vs = child(&h, list); vs != nullptr && vs->is_list())
          for (const ConfigValue& v : vs->items()) {
            if (std::string_view(list) == "secrets") secrets.add(v.as_string());
            out.push_back(fmt::format("{}: {}", name, v.as_string()));
          }
      if (const ConfigValue* fs = child(&h, "files"); fs != nullptr && fs->is_list()) {
        for (const ConfigValue& f : fs->items()) {
          auto content = read_file(f.as_string(), 1 << 20);
          if (!content) return fail(fmt::format("http_headers {}: {}", name, content.error().message));
          std::string v = *content;
          while (!v.empty() && (v.back() == '\n' || v.back() == '\r' || v.back() == ' ')) v.pop_back();
          secrets.add(v);
          out.push_back(fmt::format("{}: {}", name, v));
        }
      }
    }
  }
  return result;
}

void abort_when(CURL* h, const std::atomic<bool>* cancel) {
  if (cancel == nullptr) {
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 1L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, nullptr);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, nullptr);
    return;
  }
  curl_xferinfo_callback check = [](void* flag, curl_off_t, curl_off_t, curl_off_t, curl_off_t) -> int {
    return static_cast<const std::atomic<bool>*>(flag)->load(std::memory_order_relaxed) ? 1 : 0;
  };
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, check);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(cancel));
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
}

std::vector<std::string> HttpClient::header_lines(const HttpRequest& req, const AuthHeaders& config_headers) const {
  auto is_authorization = [](std::string_view name) {
    return name.size() == 13 && strncasecmp(name.data(), "Authorization", 13) == 0;
  };
  std::vector<std::string> out;
  if (!req.content_type.empty()) out.push_back("Content-Type: " + req.content_type);
  for (const auto& [k, v] : req.headers)
    if (!(oauth2_ && is_authorization(k))) out.push_back(k + ": " + v);
  for (const auto& line : config_headers.lines) {
    std::string_view name = std::string_view(line).substr(0, line.find(':'));
    bool replaced = std::any_of(req.headers.begin(), req.headers.end(), [name](const auto& kv) {
      return kv.first.size() == name.size() && strncasecmp(kv.first.data(), name.data(), name.size()) == 0;
    });
    if (!replaced || (oauth2_ && is_authorization(name))) out.push_back(line);
  }
  return out;
}

Result<std::vector<std::string>> HttpClient::describe_headers(const HttpRequest& req) const {
  auto extra = auth_headers(req, true);
  if (!extra) return fail(redactor_.redact(extra.error().message));
  Redactor r = redactor_;
  r.add_all(extra->secrets);
  std::vector<std::string> out;
  for (const std::string& line : header_lines(req, *extra)) out.push_back(r.redact(line));
  return out;
}

Result<HttpResponse> HttpClient::send(const HttpRequest& req) const {
  if (req.cancel && req.cancel->load()) return fail("request canceled");
  const auto auth_start = std::chrono::steady_clock::now();
  auto extra = auth_headers(req);
  if (!extra) return fail(redactor_.redact(extra.error().message));
  // A token request made for this one spent part of its time.
  Millis timeout = req.timeout;
  if (timeout > 0) {
    Millis spent = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - auth_start).count();
    timeout = std::max<Millis>(timeout - spent, 1);
  }

  CURL* h = acquire();
  if (h == nullptr) return fail("cannot create an HTTP handle");
  HttpResponse resp;
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = nullptr;
  auto add_header = [&](const std::string& line) { headers = curl_slist_append(headers, line.c_str()); };

  std::string url = req.url;
  std::string connect_to;
  curl_slist* connect_list = nullptr;
  const ConfigValue* tls = child(&config_, "tls_config");
  if (tls != nullptr && tls->has("server_name")) {
    // Verify and send SNI for server_name while still connecting to the URL's host.
    if (auto parts = split_url(req.url); parts && parts->scheme == "https") {
      std::string name(tls->str("server_name"));
      connect_to = fmt::format("{}:{}:{}:{}", name, parts->port, parts->host, parts->port);
      connect_list = curl_slist_append(nullptr, connect_to.c_str());
      add_header(fmt::format("Host: {}:{}", parts->host, parts->port));
      url = fmt::format("https://{}:{}{}", name, parts->port, parts->rest);
      curl_easy_setopt(h, CURLOPT_CONNECT_TO, connect_list);
    }
  }

  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_USERAGENT, fmt::format("vigil/{}", build::kVersion).c_str());
  if (req.method == "POST") {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  } else if (req.method != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  }
  add_header("Expect:");  // no 100-continue round trip
  for (const std::string& line : header_lines(req, *extra)) add_header(line);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect_body);
  BodySink sink{&resp, req.max_body, req.abort_over_max_body};
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, collect_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &resp);
  if (timeout > 0) curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout));
  abort_when(h, req.cancel);  // also clears what an earlier request of this pooled handle set
  const bool follow = config_.find("follow_redirects") == nullptr || config_.flag("follow_redirects");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, follow ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);  // Go's limit
  // Go's client only uses proxies it is told about.
  std::string proxy(config_.str("proxy_url"));
  if (config_.flag("proxy_from_environment")) {
    // libcurl reads http_proxy, https_proxy and no_proxy itself.
  } else {
    curl_easy_setopt(h, CURLOPT_PROXY, proxy.c_str());
    std::string no_proxy(config_.str("no_proxy"));
    if (!no_proxy.empty()) curl_easy_setopt(h, CURLOPT_NOPROXY, no_proxy.c_str());
  }
  // proxy_connect_header: sent with the CONNECT that tunnels an https
  // request, never to the receiver (Go's ProxyConnectHeader).
  curl_slist* proxy_headers = nullptr;
  if (const ConfigValue* pch = child(&config_, "proxy_connect_header"); pch != nullptr && pch->is_map()) {
    for (const auto& [name, values] : pch->entries())
      for (const ConfigValue& v : values.items())
        proxy_headers = curl_slist_append(proxy_headers, fmt::format("{}: {}", name, v.as_string()).c_str());
  }
  if (proxy_headers != nullptr) {
    curl_easy_setopt(h, CURLOPT_HEADEROPT, CURLHEADER_SEPARATE);
    curl_easy_setopt(h, CURLOPT_PROXYHEADER, proxy_headers);
  }

  Result<HttpResponse> out;
  if (auto tls_ok = apply_tls_config(h, tls); !tls_ok) {
    out = fail(tls_ok.error().message);
  } else {
    auto start = std::chrono::steady_clock::now();
    CURLcode rc = curl_easy_perform(h);
    resp.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    if (rc != CURLE_OK) {
      Redactor r = redactor_;
      r.add_all(extra->secrets);
      r.add(req.url);
      r.add(url);
      std::string msg(curl_message(rc, errbuf));
      if (rc == CURLE_OPERATION_TIMEDOUT) msg = "request timed out: " + msg;
      if (rc == CURLE_ABORTED_BY_CALLBACK) msg = "request canceled";
      if (rc == CURLE_WRITE_ERROR && resp.truncated)
        msg = fmt::format("response body larger than the limit of {} bytes", req.max_body);
      out = fail(r.redact(msg));
    } else {
      curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp.status);
      // Receivers may echo what they were sent; the body can end up in an
      // error message, so it loses every credential this request carried.
      if (req.redact_body) {
        Redactor r = redactor_;
        r.add_all(extra->secrets);
        resp.body = r.redact(resp.body);
      }
      out = std::move(resp);
    }
  }
  curl_slist_free_all(headers);
  curl_slist_free_all(connect_list);
  curl_slist_free_all(proxy_headers);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  release(h);
  return out;
}

}  // namespace vigil::net
