#include "net/oauth2.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cctype>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "model/names.h"
#include "net/http_client.h"
#include "net/url.h"

namespace vigil::net {

namespace {

using config::ConfigValue;
using Form = std::map<std::string, std::string>;

constexpr Millis kExpiryDelta = 10 * 1000;   // x/oauth2 refreshes this early
constexpr size_t kMaxTokenBody = 1 << 20;    // and reads no more of an answer
constexpr std::string_view kJwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer";

// url.Values.Encode: keys sorted, keys and values query-escaped.
std::string encode_form(const Form& form) {
  std::string out;
  for (const auto& [k, v] : form) {
    if (!out.empty()) out += '&';
    out += url_query_escape(k) + "=" + url_query_escape(v);
  }
  return out;
}

// url.ParseQuery, keeping the first value of a repeated key.
Result<Form> parse_form(std::string_view body) {
  Form out;
  while (!body.empty()) {
    size_t amp = body.find('&');
    std::string_view part = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (part.find(';') != std::string_view::npos) return fail("invalid semicolon separator in query");
    if (part.empty()) continue;
    size_t eq = part.find('=');
    auto key = url_query_unescape(part.substr(0, eq));
    if (!key) return fail(key.error().message);
    auto value = url_query_unescape(eq == std::string_view::npos ? "" : part.substr(eq + 1));
    if (!value) return fail(value.error().message);
    out.emplace(*key, *value);
  }
  return out;
}

// The reason phrases of the answers a token endpoint is likely to give, for
// errors shaped as Go's ("401 Unauthorized").
std::string status_line(long status) {
  static const std::map<long, std::string_view> kReasons = {
      {200, "OK"}, {301, "Moved Permanently"}, {302, "Found"}, {400, "Bad Request"},
      {401, "Unauthorized"}, {403, "Forbidden"}, {404, "Not Found"}, {405, "Method Not Allowed"},
      {429, "Too Many Requests"}, {500, "Internal Server Error"}, {502, "Bad Gateway"},
      {503, "Service Unavailable"}, {504, "Gateway Timeout"}};
  auto it = kReasons.find(status);
  return it == kReasons.end() ? std::to_string(status) : fmt::format("{} {}", status, it->second);
}

// What a token answer says, whatever its encoding.
struct Answer {
  std::string access_token, token_type, error, error_description, error_uri;
  int64_t expires_in = 0;  // seconds; 0: not given
};

// A JSON member that must be a string when present (null counts as absent).
bool json_string(const nlohmann::json& o, const char* key, std::string& out) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return true;
  if (!it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

// expires_in: a number, or a string holding one (some servers send that);
// an integer either way, capped as x/oauth2 caps it (int32).
bool json_expires_in(const nlohmann::json& o, int64_t& out) {
  auto it = o.find("expires_in");
  if (it == o.end() || it->is_null()) return true;
  if (it->is_number_integer()) {
    out = it->is_number_unsigned() ? static_cast<int64_t>(std::min<uint64_t>(it->get<uint64_t>(), INT_MAX))
                                   : it->get<int64_t>();
  } else if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    size_t used = 0;
    try {
      out = std::stoll(s, &used);
    } catch (...) {
      return false;
    }
    if (used != s.size()) return false;
  } else {
    return false;
  }
  out = std::clamp<int64_t>(out, INT_MIN, INT_MAX);
  return true;
}

std::optional<Answer> parse_json_answer(std::string_view body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  Answer a;
  if (!json_string(j, "access_token", a.access_token) || !json_string(j, "token_type", a.token_type) ||
      !json_string(j, "error", a.error) || !json_string(j, "error_description", a.error_description) ||
      !json_string(j, "error_uri", a.error_uri) || !json_expires_in(j, a.expires_in))
    return std::nullopt;
  return a;
}

Answer form_answer(const Form& f) {
  auto get = [&](const char* k) {
    auto it = f.find(k);
    return it == f.end() ? std::string() : it->second;
  };
  Answer a{get("access_token"), get("token_type"), get("error"), get("error_description"), get("error_uri")};
  try {  // strconv.Atoi, its error ignored
    size_t used = 0;
    std::string e = get("expires_in");
    int64_t v = std::stoll(e, &used);
    if (used == e.size() && v >= INT_MIN && v <= INT_MAX) a.expires_in = v;
  } catch (...) {
  }
  return a;
}

// oauth2.Token.Type(): the well-known types in their usual spelling.
std::string header_type(std::string_view type) {
  std::string lower(type);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.empty() || lower == "bearer") return "Bearer";
  if (lower == "mac") return "MAC";
  if (lower == "basic") return "Basic";
  return std::string(type);
}

const Clock& steady_clock() {
  static const SteadyClock clock;
  return clock;
}

}  // namespace

Result<std::unique_ptr<OAuth2Tokens>> OAuth2Tokens::create(const ConfigValue& oauth2, const Clock* clock) {
  if (oauth2.str("grant_type") == kJwtBearer)
    return fail(fmt::format("oauth2 grant_type {} is not supported by vigil yet; use client_credentials", kJwtBearer));
  if (oauth2.has("client_secret_ref") && !oauth2.has("client_secret") && !oauth2.has("client_secret_file"))
    return fail("unable to use client secret: cannot use secret ref without manager");
  // The token endpoint's own connection settings, as an http_config.
  ConfigValue http = ConfigValue::map();
  for (auto key : {"tls_config", "proxy_url", "no_proxy", "proxy_from_environment", "proxy_connect_header"})
    if (const ConfigValue* v = oauth2.find(key); v != nullptr && !v->is_null()) http.set(key, *v);
  auto client = HttpClient::create(&http);
  if (!client) return fail("oauth2: " + client.error().message);
  std::unique_ptr<OAuth2Tokens> t(new OAuth2Tokens());
  t->config_ = oauth2;
  t->clock_ = clock != nullptr ? clock : &steady_clock();
  t->token_client_ = std::move(*client);
  return t;
}

OAuth2Tokens::~OAuth2Tokens() = default;

bool OAuth2Tokens::valid(const Token& t) const {
  return !t.expires || clock_->now() <= t.expiry - kExpiryDelta;
}

Result<std::string> OAuth2Tokens::authorization(Millis timeout, const std::atomic<bool>* cancel,
                                                Redactor& secrets) {
  auto secret = read_credential(config_, "client_secret", "client_secret_file");
  if (!secret) return fail("unable to read oauth2 client secret: " + secret.error().message);
  secrets.add(*secret);

  std::unique_lock lock(mu_);
  while (fetching_) {  // one token request at a time; the others wait for its token
    fetched_.wait_for(lock, std::chrono::milliseconds(100));
    if (cancel != nullptr && cancel->load()) return fail("request canceled");
  }
  if (secret_ != *secret) {  // first use, or a rotated secret: start afresh
    secret_ = *secret;
    token_.reset();
    style_ = AuthStyle::kUnknown;
  }
  if (token_ && valid(*token_)) {
    secrets.add(token_->access_token);
    return token_->type + " " + token_->access_token;
  }
  fetching_ = true;
  const AuthStyle style = style_;
  lock.unlock();
  auto got = fetch(*secret, style, timeout, cancel, secrets);
  lock.lock();
  fetching_ = false;
  fetched_.notify_all();
  if (!got) return fail(got.error().message);
  token_ = got->token;
  style_ = got->style;
  return token_->type + " " + token_->access_token;
}

Result<OAuth2Tokens::Fetched> OAuth2Tokens::fetch(const std::string& secret, AuthStyle style, Millis timeout,
                                                  const std::atomic<bool>* cancel, Redactor& secrets) const {
  if (style != AuthStyle::kUnknown) {
    auto t = request_token(secret, style, timeout, cancel, secrets);
    if (!t) return fail(t.error().message);
    return Fetched{*t, style};
  }
  // Credentials in a Basic header first; when that fails for any reason, in
  // the form.
  if (auto t = request_token(secret, AuthStyle::kHeader, timeout, cancel, secrets)) return Fetched{*t, AuthStyle::kHeader};
  if (cancel != nullptr && cancel->load()) return fail("request canceled");
  auto t = request_token(secret, AuthStyle::kParams, timeout, cancel, secrets);
  if (!t) return fail(t.error().message);
  return Fetched{*t, AuthStyle::kParams};
}

Result<OAuth2Tokens::Token> OAuth2Tokens::request_token(const std::string& secret, AuthStyle style, Millis timeout,
                                                        const std::atomic<bool>* cancel, Redactor& secrets) const {
  Form form{{"grant_type", "client_credentials"}};
  if (const ConfigValue* scopes = config_.find("scopes"); scopes != nullptr && scopes->is_list() &&
                                                          !scopes->items().empty()) {
    std::string joined;
    for (const ConfigValue& s : scopes->items()) joined += (joined.empty() ? "" : " ") + s.as_string();
    form["scope"] = joined;
  }
  if (const ConfigValue* params = config_.find("endpoint_params"); params != nullptr && params->is_map()) {
    for (const auto& [k, v] : params->entries()) {
      if (form.count(k) != 0 && k != "grant_type")
        return fail(fmt::format("oauth2: cannot overwrite parameter {}", go_quote(k)));
      form[k] = v.as_string();
    }
  }
  const std::string id(config_.str("client_id"));
  HttpRequest req;
  req.url = std::string(config_.str("token_url"));
  req.content_type = "application/x-www-form-urlencoded";
  req.max_body = kMaxTokenBody;
  req.redact_body = false;  // the token is in it
  req.timeout = timeout;
  req.cancel = cancel;
  if (style == AuthStyle::kParams) {
    if (!id.empty()) form["client_id"] = id;
    if (!secret.empty()) form["client_secret"] = secret;
  } else {
    std::string basic = base64_encode(url_query_escape(id) + ":" + url_query_escape(secret));
    secrets.add(basic);
    req.headers.emplace_back("Authorization", "Basic " + basic);
  }
  req.body = encode_form(form);
  secrets.add(url_query_escape(secret));  // as the form carries it

  auto resp = token_client_->send(req);
  if (!resp) return fail(secrets.redact("oauth2: cannot fetch token: " + resp.error().message));
  const bool failed = resp->status < 200 || resp->status > 299;
  // Shown when the answer is not understood: without the token it may hold.
  auto retrieve_error = [&](const Answer* a) {
    if (a != nullptr && !a->access_token.empty()) secrets.add(a->access_token);
    std::string msg;
    if (a != nullptr && !a->error.empty()) {
      msg = "oauth2: " + go_quote(a->error);
      if (!a->error_description.empty()) msg += " " + go_quote(a->error_description);
      if (!a->error_uri.empty()) msg += " " + go_quote(a->error_uri);
    } else {
      msg = fmt::format("oauth2: cannot fetch token: {}\nResponse: {}", status_line(resp->status), resp->body);
    }
    return fail(secrets.redact(msg));
  };

  std::string media = resp->content_type.substr(0, resp->content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.pop_back();
  for (char& c : media) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  Answer answer;
  if (media == "application/x-www-form-urlencoded" || media == "text/plain") {
    auto f = parse_form(resp->body);
    if (!f) {
      if (failed) return retrieve_error(nullptr);
      return fail("oauth2: cannot parse response: " + f.error().message);
    }
    answer = form_answer(*f);
  } else {
    auto a = parse_json_answer(resp->body);
    if (!a) {
      if (failed) return retrieve_error(nullptr);
      return fail("oauth2: cannot parse json: the token response is not a JSON token object");
    }
    answer = *a;
  }
  if (failed || !answer.error.empty()) return retrieve_error(&answer);
  if (answer.access_token.empty()) return fail("oauth2: server response missing access_token");
  secrets.add(answer.access_token);
  Token t{answer.access_token, header_type(answer.token_type)};
  if (answer.expires_in != 0) t.expires = true, t.expiry = clock_->now() + answer.expires_in * 1000;
  return t;
}

}  // namespace vigil::net
