#include "notifiers/wechat.h"

#include "net/url.h"
#include "notifiers/render.h"

namespace vigil::notifiers {

using config::ConfigValue;
using net::HttpRequest;
using net::read_credential;

namespace {
constexpr Millis kTokenLifetime = 2 * kHour;
constexpr int kTokenExpired = 42001;
}  // namespace

Result<std::unique_ptr<Integration>> WeChat::create(const ConfigValue& settings) {
  auto n = std::make_unique<WeChat>();
  if (auto ok = n->init(settings, "wechat", "api_secret"); !ok) return std::unexpected(ok.error());
  return std::unique_ptr<Integration>(std::move(n));
}

std::string WeChat::token(const Message& m, AttemptResult& error) {
  {
    std::lock_guard lock(mu_);
    if (!token_.empty() && m.now - token_at_ <= kTokenLifetime) return token_;
  }
  auto secret = read_credential(settings_, "api_secret", "api_secret_file");
  if (!secret) {
    error = AttemptResult::permanent("read api_secret_file: " + secret.error().message);
    return "";
  }
  Renderer r(m.templates, m.value);
  // url.Values.Encode: keys sorted.
  std::string query = "corpid=" + net::url_query_escape(r.text(settings_.str("corp_id"))) +
                      "&corpsecret=" + net::url_query_escape(r.text(*secret));
  if (r.error()) {
    error = AttemptResult::permanent("templating error: " + r.error()->message);
    return "";
  }
  HttpRequest req;
  req.method = "GET";
  req.content_type.clear();
  req.url = std::string(settings_.str("api_url")) + "gettoken?" + query;
  req.timeout = m.time_left(0);
  auto resp = exchange(m, req);
  if (!resp) {
    error = AttemptResult::transient(resp.error().message);
    return "";
  }
  auto answer = nlohmann::json::parse(resp->body, nullptr, false);
  if (!answer.is_object()) {
    error = AttemptResult::permanent("gettoken: the answer is not JSON (status " + std::to_string(resp->status) + ")");
    return "";
  }
  auto it = answer.find("access_token");
  if (it == answer.end() || !it->is_string() || it->get<std::string>().empty()) {
    error = AttemptResult::permanent("invalid APISecret for CorpID: " + std::string(settings_.str("corp_id")));
    return "";
  }
  std::lock_guard lock(mu_);
  token_ = it->get<std::string>();
  token_at_ = m.now;
  return token_;
}

AttemptResult WeChat::send(const Message& m) {
  AttemptResult error;
  std::string access_token = token(m, error);
  if (access_token.empty()) return error;

  const ConfigValue& c = settings_;
  Renderer r(m.templates, m.value);
  std::string type(c.str("message_type"));
  if (type.empty()) type = "text";
  std::string content = r.text(c.str("message"));
  // Every field as Go writes the struct: both content objects are always there.
  Json body{{"text", Json{{"content", type == "markdown" ? "" : content}}}};
  put_if(body, "touser", r.text(c.str("to_user")));
  put_if(body, "toparty", r.text(c.str("to_party")));
  put_if(body, "totag", r.text(c.str("to_tag")));
  put_if(body, "agentid", r.text(c.str("agent_id")));
  body["safe"] = "0";
  body["msgtype"] = type;
  body["markdown"] = Json{{"content", type == "markdown" ? content : ""}};
  if (r.error()) return AttemptResult::permanent("templating error: " + r.error()->message);

  HttpRequest req;
  req.url = std::string(c.str("api_url")) + "message/send?access_token=" + net::url_query_escape(access_token);
  req.body = go_json(body);
  req.timeout = m.time_left(0);
  auto resp = exchange(m, req);
  if (!resp) return AttemptResult::transient(resp.error().message);
  if (resp->status != 200)
    return AttemptResult::transient("unexpected status code " + std::to_string(resp->status),
                                    reason_from_status(resp->status));
  auto answer = nlohmann::json::parse(resp->body, nullptr, false);
  if (!answer.is_object()) return AttemptResult::transient("the answer is not JSON");
  auto code_it = answer.find("errcode");
  const int64_t code = code_it != answer.end() && code_it->is_number_integer() ? code_it->get<int64_t>() : 0;
  if (code == 0) return AttemptResult::success();
  auto msg_it = answer.find("errmsg");
  std::string message = msg_it != answer.end() && msg_it->is_string() ? msg_it->get<std::string>() : "";
  if (code == kTokenExpired) {
    std::lock_guard lock(mu_);
    if (token_ == access_token) token_.clear();
    return AttemptResult::transient(message);
  }
  return AttemptResult::permanent(message);
}

}  // namespace vigil::notifiers
