#include "notifiers/rocketchat.h"

#include "notifiers/render.h"

namespace vigil::notifiers {

using config::ConfigValue;
using net::HttpRequest;
using net::read_credential;

namespace {

constexpr size_t kMaxTitleRunes = 1024;

}  // namespace

Result<std::unique_ptr<Integration>> RocketChat::create(const ConfigValue& settings) {
  auto n = std::make_unique<RocketChat>();
  if (auto ok = n->init(settings, "rocketchat"); !ok) return std::unexpected(ok.error());
  auto token = read_credential(settings, "token", "token_file");
  if (!token) return fail("rocketchat: could not read " + std::string(settings.str("token_file")) + ": " + token.error().message);
  auto token_id = read_credential(settings, "token_id", "token_id_file");
  if (!token_id)
    return fail("rocketchat: could not read " + std::string(settings.str("token_id_file")) + ": " + token_id.error().message);
  n->token_ = std::move(*token);
  n->token_id_ = std::move(*token_id);
  n->redactor_.add(n->token_);
  n->redactor_.add(n->token_id_);
  return std::unique_ptr<Integration>(std::move(n));
}

AttemptResult RocketChat::send(const Message& m) {
  const ConfigValue& c = settings_;
  Renderer r(m.templates, m.value);
  Json att = Json::object();
  put_if(att, "title", truncate_runes(r.text(c.str("title")), kMaxTitleRunes));
  put_if(att, "title_link", r.text(c.str("title_link")));
  put_if(att, "text", r.text(c.str("text")));
  put_if(att, "image_url", r.text(c.str("image_url")));
  put_if(att, "thumb_url", r.text(c.str("thumb_url")));
  put_if(att, "color", r.text(c.str("color")));
  if (const ConfigValue* fields = c.find("fields"); fields && fields->is_list() && !fields->items().empty()) {
    Json out = Json::array();
    for (const ConfigValue& f : fields->items()) {
      // A field without `short` takes short_fields.
      Json field{{"short", f.present("short") ? f.flag("short") : c.flag("short_fields")}};
      put_if(field, "title", r.text(f.str("title")));
      put_if(field, "value", r.text(f.str("value")));
      out.push_back(std::move(field));
    }
    att["fields"] = std::move(out);
  }
  if (const ConfigValue* actions = c.find("actions"); actions && actions->is_list() && !actions->items().empty()) {
    Json out = Json::array();
    for (const ConfigValue& a : actions->items()) {
      // Only buttons: the type is fixed, and the flags Rocket.Chat always reads are false.
      Json action{{"type", "button"}};
      put_if(action, "text", r.text(a.str("text")));
      put_if(action, "url", r.text(a.str("url")));
      action["is_webview"] = false;
      put_if(action, "msg", r.text(a.str("msg")));
      action["msg_in_chat_window"] = false;
      out.push_back(std::move(action));
    }
    att["actions"] = std::move(out);
  }
  std::string channel = r.text(c.str("channel"));
  Json body = Json::object();
  put_if(body, "channel", channel);
  put_if(body, "emoji", r.text(c.str("emoji")));
  put_if(body, "avatar", r.text(c.str("icon_url")));
  body["attachments"] = Json::array({std::move(att)});
  if (r.error()) return AttemptResult::permanent("rocketchat: template: " + r.error()->message);

  std::string base(c.str("api_url"));
  while (!base.empty() && base.back() == '/') base.pop_back();
  HttpRequest req;
  req.url = base + "/api/v1/chat.postMessage";
  req.body = go_json(body);
  req.headers = {{"X-Auth-Token", token_}, {"X-User-Id", token_id_}};
  req.timeout = m.time_left(0);
  auto resp = exchange(m, req);
  AttemptResult out = check_http(resp, m.now);
  if (out.ok) {
    auto answer = nlohmann::json::parse(resp->body, nullptr, false);
    if (!answer.is_object()) {
      out = AttemptResult::transient("could not unmarshal JSON response \"" + resp->body + "\"");
    } else if (auto ok = answer.find("success"); ok == answer.end() || !ok->is_boolean() || !ok->get<bool>()) {
      auto err = answer.find("error");
      out = AttemptResult::permanent(
          "error response from Rocketchat: " + (err != answer.end() && err->is_string() ? err->get<std::string>() : ""),
          FailureReason::kClientError);
    }
  }
  if (!out.ok) out.error = "channel \"" + channel + "\": " + out.error;
  return out;
}

}  // namespace vigil::notifiers
