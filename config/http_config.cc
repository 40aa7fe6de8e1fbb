#include "config/http_config.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace vigil::config {

namespace {

using T = FieldType;
using Errors = std::vector<Error>;

void report(Errors& errors, const ConfigValue& at, std::string msg) {
  errors.push_back(Error{std::move(msg), at.line, at.column});
}

bool set(const ConfigValue& o, std::string_view key) { return o.has(key); }
bool present(const ConfigValue& o, std::string_view key) { return o.present(key); }
int count_set(const ConfigValue& o, std::initializer_list<std::string_view> keys) { return o.count_set(keys); }

const ObjectSpec& basic_auth_spec() {
  static const ObjectSpec s{"config.plain",
                            {{"username"}, {"username_file"}, {"username_ref"},
                             {"password", T::kSecret}, {"password_file"}, {"password_ref"}}};
  return s;
}

const ObjectSpec& authorization_spec() {
  static const ObjectSpec s{"config.Authorization",
                            {{"type"}, {"credentials", T::kSecret}, {"credentials_file"},
                             {"credentials_ref"}}};
  return s;
}

}  // namespace

const ObjectSpec& header_spec() {
  static const ObjectSpec s{"config.Header",
                            {{"values", T::kStringList}, {"secrets", T::kSecretList},
                             {"files", T::kStringList}}};
  return s;
}

namespace {

std::vector<FieldSpec> proxy_fields() {
  return {{"proxy_url", T::kAnyUrl}, {"no_proxy"}, {"proxy_from_environment", T::kBool},
          {"proxy_connect_header", T::kSecretListMap}};
}

const ObjectSpec& oauth2_spec() {
  static const ObjectSpec s = [] {
    ObjectSpec o{"config.plain",
                 {{"client_id"}, {"client_secret", T::kSecret}, {"client_secret_file"},
                  {"client_secret_ref"}, {"client_certificate_key_id"},
                  {"client_certificate_key", T::kSecret}, {"client_certificate_key_file"},
                  {"client_certificate_key_ref"}, {"grant_type"}, {"signature_algorithm"},
                  {"iss"}, {"audience"}, {"claims", T::kAny}, {"scopes", T::kStringList},
                  {"token_url"}, {"endpoint_params", T::kStringMap},
                  {"tls_config", T::kObject, nullptr, &tls_config_spec()}}};
    for (FieldSpec f : proxy_fields()) o.fields.push_back(f);
    return o;
  }();
  return s;
}

}  // namespace

std::string canonical_header(std::string_view h) {
  for (char c : h)
    if (!(std::isalnum(static_cast<unsigned char>(c)) ||
          std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos))
      return std::string(h);
  std::string out(h);
  bool upper = true;
  for (char& c : out) {
    c = static_cast<char>(upper ? std::toupper(static_cast<unsigned char>(c))
                                : std::tolower(static_cast<unsigned char>(c)));
    upper = c == '-';
  }
  return out;
}

const ObjectSpec& tls_config_spec() {
  static const ObjectSpec s{"config.plain",
                            {{"ca"}, {"cert"}, {"key", T::kSecret}, {"ca_file"}, {"cert_file"},
                             {"key_file"}, {"ca_ref"}, {"cert_ref"}, {"key_ref"}, {"server_name"},
                             {"insecure_skip_verify", T::kBool}, {"min_version", T::kTlsVersion},
                             {"max_version", T::kTlsVersion}}};
  return s;
}

const ObjectSpec& http_config_spec() {
  static const ObjectSpec s = [] {
    ObjectSpec o{"config.plain",
                 {{"basic_auth", T::kObject, nullptr, &basic_auth_spec()},
                  {"authorization", T::kObject, nullptr, &authorization_spec()},
                  {"oauth2", T::kObject, nullptr, &oauth2_spec()},
                  {"bearer_token", T::kSecret}, {"bearer_token_file"},
                  {"tls_config", T::kObject, "", &tls_config_spec()},
                  {"follow_redirects", T::kBool, "true"}, {"enable_http2", T::kBool, "true"},
                  {"http_headers", T::kObjectMap, nullptr, &header_spec()}}};
    for (FieldSpec f : proxy_fields()) o.fields.push_back(f);
    return o;
  }();
  return s;
}

void check_tls_config(const ConfigValue& tls, Errors& errors) {
  if (!tls.is_map()) return;
  if (count_set(tls, {"ca", "ca_file", "ca_ref"}) > 1)
    report(errors, tls, "at most one of ca, ca_file & ca_ref must be configured");
  if (count_set(tls, {"cert", "cert_file", "cert_ref"}) > 1)
    report(errors, tls, "at most one of cert, cert_file & cert_ref must be configured");
  if (count_set(tls, {"key", "key_file", "key_ref"}) > 1)
    report(errors, tls, "at most one of key and key_file must be configured");
  bool cert = count_set(tls, {"cert", "cert_file", "cert_ref"}) > 0;
  bool key = count_set(tls, {"key", "key_file", "key_ref"}) > 0;
  if (cert && !key)
    report(errors, tls, "exactly one of key or key_file must be configured when a client certificate is configured");
  else if (key && !cert)
    report(errors, tls, "exactly one of cert or cert_file must be configured when a client key is configured");
}

void check_http_config(ConfigValue& h, Errors& errors) {
  if (!h.is_map()) return;
  auto fail_at = [&](std::string msg) { report(errors, h, std::move(msg)); };
  bool bearer = set(h, "bearer_token") || set(h, "bearer_token_file");
  bool basic = present(h, "basic_auth"), oauth2 = present(h, "oauth2");
  if (set(h, "bearer_token") && set(h, "bearer_token_file"))
    fail_at("at most one of bearer_token & bearer_token_file must be configured");
  if ((basic || oauth2) && bearer)
    fail_at("at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured");
  if (basic) {
    const ConfigValue& b = *h.find("basic_auth");
    if (count_set(b, {"username", "username_file", "username_ref"}) > 1)
      fail_at("at most one of basic_auth username, username_file & username_ref must be configured");
    if (count_set(b, {"password", "password_file", "password_ref"}) > 1)
      fail_at("at most one of basic_auth password, password_file & password_ref must be configured");
  }
  if (ConfigValue* a = h.find("authorization"); a && !a->is_null()) {
    if (bearer) fail_at("authorization is not compatible with bearer_token & bearer_token_file");
    if (count_set(*a, {"credentials", "credentials_file", "credentials_ref"}) > 1)
      fail_at("at most one of authorization credentials & credentials_file must be configured");
    std::string type(a->str("type"));
    while (!type.empty() && std::isspace(static_cast<unsigned char>(type.back()))) type.pop_back();
    while (!type.empty() && std::isspace(static_cast<unsigned char>(type.front()))) type.erase(0, 1);
    if (type.empty()) type = "Bearer";
    std::string lower = type;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "basic") fail_at("authorization type cannot be set to \"basic\", use \"basic_auth\" instead");
    if (basic || oauth2) fail_at("at most one of basic_auth, oauth2 & authorization must be configured");
    a->set("type", ConfigValue::string(type));
  } else if (bearer) {
    ConfigValue auth = ConfigValue::map();
    auth.set("type", ConfigValue::string("Bearer"));
    if (set(h, "bearer_token")) auth.set("credentials", *h.find("bearer_token"));
    else auth.set("credentials_file", *h.find("bearer_token_file"));
    h.set("authorization", std::move(auth));
    h.erase("bearer_token");
    h.erase("bearer_token_file");
  }
  if (oauth2) {
    const ConfigValue& o = *h.find("oauth2");
    if (basic) fail_at("at most one of basic_auth, oauth2 & authorization must be configured");
    if (!set(o, "client_id")) fail_at("oauth2 client_id must be configured");
    if (!set(o, "token_url")) fail_at("oauth2 token_url must be configured");
    if (o.str("grant_type") == "urn:ietf:params:oauth:grant-type:jwt-bearer") {
      if (count_set(o, {"client_certificate_key", "client_certificate_key_file", "client_certificate_key_ref"}) > 1)
        fail_at("at most one of oauth2 client_certificate_key, client_certificate_key_file & "
                "client_certificate_key_ref must be configured using "
                "grant-type=urn:ietf:params:oauth:grant-type:jwt-bearer");
      std::string_view alg = o.str("signature_algorithm");
      if (!alg.empty() && alg != "RS256" && alg != "RS384" && alg != "RS512")
        fail_at("valid signature algorithms are RS256, RS384 and RS512");
    } else if (count_set(o, {"client_secret", "client_secret_file", "client_secret_ref"}) > 1) {
      fail_at("at most one of oauth2 client_secret, client_secret_file & client_secret_ref must be "
              "configured using grant-type=client_credentials");
    }
    if (const ConfigValue* t = o.find("tls_config")) check_tls_config(*t, errors);
  }
  bool proxy_url = set(h, "proxy_url"), from_env = h.flag("proxy_from_environment");
  const ConfigValue* pch = h.find("proxy_connect_header");
  if (pch && pch->is_map() && !pch->entries().empty() && !from_env && !proxy_url)
    fail_at("if proxy_connect_header is configured, proxy_url or proxy_from_environment must also be configured");
  if (from_env && proxy_url)
    fail_at("if proxy_from_environment is configured, proxy_url must not be configured");
  if (from_env && set(h, "no_proxy"))
    fail_at("if proxy_from_environment is configured, no_proxy must not be configured");
  if (!present(h, "proxy_url") && set(h, "no_proxy"))
    fail_at("if no_proxy is configured, proxy_url must also be configured");
  if (const ConfigValue* hs = h.find("http_headers"); hs && hs->is_map()) {
    static constexpr std::string_view kReserved[] = {
        "Authorization", "Host", "Content-Encoding", "Content-Length", "Content-Type",
        "User-Agent", "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
        "Www-Authenticate", "Accept-Encoding", "X-Prometheus-Remote-Write-Version",
        "X-Prometheus-Remote-Read-Version", "X-Prometheus-Scrape-Timeout-Seconds", "X-Amz-Date",
        "X-Amz-Security-Token", "X-Amz-Content-Sha256"};
    for (const auto& [name, v] : hs->entries()) {
      std::string canon = canonical_header(name);
      if (std::find(std::begin(kReserved), std::end(kReserved), canon) != std::end(kReserved))
        report(errors, v, fmt::format("setting header \"{}\" is not allowed", canon));
    }
  }
  if (const ConfigValue* t = h.find("tls_config")) check_tls_config(*t, errors);
}

void resolve_http_paths(ConfigValue& http, std::string_view dir) {
  if (!http.is_map() || dir.empty()) return;
  auto join = [&](ConfigValue* obj, std::string_view key) {
    if (obj == nullptr || !obj->is_map()) return;
    ConfigValue* v = obj->find(key);
    if (v == nullptr || v->kind() != ConfigValue::Kind::String) return;
    const std::string& p = v->as_string();
    if (p.empty() || p.front() == '/') return;
    ConfigValue joined = ConfigValue::string(std::string(dir) + "/" + p);
    joined.line = v->line, joined.column = v->column;
    *v = std::move(joined);
  };
  auto tls = [&](ConfigValue* t) {
    for (auto k : {"ca_file", "cert_file", "key_file"}) join(t, k);
  };
  tls(http.find("tls_config"));
  join(http.find("basic_auth"), "username_file");
  join(http.find("basic_auth"), "password_file");
  join(http.find("authorization"), "credentials_file");
  join(&http, "bearer_token_file");
  if (ConfigValue* o = http.find("oauth2")) {
    join(o, "client_secret_file");
    tls(o->find("tls_config"));
  }
  if (ConfigValue* hs = http.find("http_headers"); hs && hs->is_map()) {
    for (const auto& entry : hs->entries()) {
      ConfigValue* files = hs->find(entry.first) ? hs->find(entry.first)->find("files") : nullptr;
      if (files == nullptr || !files->is_list()) continue;
      for (ConfigValue& f : files->items()) {
        if (f.kind() != ConfigValue::Kind::String || f.as_string().empty() || f.as_string()[0] == '/') continue;
        ConfigValue joined = ConfigValue::string(std::string(dir) + "/" + f.as_string());
        joined.line = f.line, joined.column = f.column;
        f = std::move(joined);
      }
    }
  }
}

ConfigValue http_config_of(const HttpClientSettings& s) {
  ConfigValue http = ConfigValue::map();
  if (!s.basic_auth_username.empty()) {
    ConfigValue ba = ConfigValue::map();
    ba.set("username", ConfigValue::string(s.basic_auth_username));
    if (!s.basic_auth_password_file.empty()) ba.set("password_file", ConfigValue::string(s.basic_auth_password_file));
    http.set("basic_auth", std::move(ba));
  }
  if (!s.bearer_token_file.empty()) {
    ConfigValue auth = ConfigValue::map();
    auth.set("credentials_file", ConfigValue::string(s.bearer_token_file));
    http.set("authorization", std::move(auth));
  }
  if (!s.ca_file.empty() || s.insecure_skip_verify) {
    ConfigValue tls = ConfigValue::map();
    if (!s.ca_file.empty()) tls.set("ca_file", ConfigValue::string(s.ca_file));
    if (s.insecure_skip_verify) tls.set("insecure_skip_verify", ConfigValue::boolean(true));
    http.set("tls_config", std::move(tls));
  }
  return http;
}

}  // namespace vigil::config
