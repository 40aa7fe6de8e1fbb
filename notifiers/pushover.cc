#include "notifiers/pushover.h"

#include <map>

#include "net/url.h"
#include "notifiers/render.h"
#include "templates/unicode.h"

namespace vigil::notifiers {

using config::ConfigValue;
using net::HttpRequest;
using net::read_credential;

namespace {

constexpr size_t kMaxTitleRunes = 250;
constexpr size_t kMaxMessageRunes = 1024;
constexpr size_t kMaxUrlRunes = 512;

}  // namespace

Result<std::unique_ptr<Integration>> Pushover::create(const ConfigValue& settings, const IntegrationOptions& opts) {
  auto p = std::make_unique<Pushover>();
  if (auto ok = p->init(settings, "pushover", "user_key"); !ok) return std::unexpected(ok.error());
  if (!settings.has("token") && !settings.has("token_file"))
    return fail("pushover: one of token or token_file must be configured");
  p->api_url_ = opts.pushover_url;
  return std::unique_ptr<Integration>(std::move(p));
}

AttemptResult Pushover::send(const Message& m) {
  auto token = read_credential(settings_, "token", "token_file");
  if (!token) return AttemptResult::permanent("read token_file: " + token.error().message);
  auto user = read_credential(settings_, "user_key", "user_key_file");
  if (!user) return AttemptResult::permanent("read user_key_file: " + user.error().message);

  Renderer r(m.templates, m.value);
  std::map<std::string, std::string> params;  // url.Values.Encode sorts by key
  params["token"] = r.text(*token);
  params["user"] = r.text(*user);
  params["title"] = truncate_runes(r.text(settings_.str("title")), kMaxTitleRunes);
  std::string message;
  if (settings_.flag("html")) {
    params["html"] = "1";
    message = r.html(settings_.str("message"));
  } else {
    message = r.text(settings_.str("message"));
  }
  if (settings_.flag("monospace")) params["monospace"] = "1";
  message = std::string(templates::trim_space(truncate_runes(message, kMaxMessageRunes)));
  params["message"] = message.empty() ? "(no details)" : message;
  params["url"] = truncate_runes(r.text(settings_.str("url")), kMaxUrlRunes);
  params["url_title"] = r.text(settings_.str("url_title"));
  params["priority"] = r.text(settings_.str("priority"));
  params["retry"] = std::to_string(settings_.num("retry") / 1000);
  params["expire"] = std::to_string(settings_.num("expire") / 1000);
  params["device"] = r.text(settings_.str("device"));
  params["sound"] = r.text(settings_.str("sound"));
  if (int64_t ttl = settings_.num("ttl") / 1000; ttl > 0) params["ttl"] = std::to_string(ttl);
  if (r.error()) return AttemptResult::permanent("pushover: template: " + r.error()->message);

  std::string query;
  for (const auto& [k, v] : params) {
    if (!query.empty()) query += '&';
    query += net::url_query_escape(k) + "=" + net::url_query_escape(v);
  }
  HttpRequest req;
  req.url = api_url_ + "?" + query;
  req.content_type = "text/plain";
  req.timeout = m.time_left(0);
  return check_http(exchange(m, req), m.now);
}

}  // namespace vigil::notifiers
