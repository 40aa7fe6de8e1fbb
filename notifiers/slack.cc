#include "notifiers/slack.h"

#include <fmt/format.h>

#include "model/file.h"

namespace vigil::notifiers {

using net::HttpRequest;

using config::ConfigValue;

namespace {

// Slack's documented limit for an attachment title, in characters.
constexpr size_t kMaxTitleRunes = 1024;

void put_if(Json& o, const char* key, std::string value) {
  if (!value.empty()) o[key] = std::move(value);
}

}  // namespace

Result<std::unique_ptr<Integration>> Slack::create(const ConfigValue& settings) {
  auto s = std::make_unique<Slack>();
  if (auto ok = s->init(settings, "slack"); !ok) return std::unexpected(ok.error());
  if (!settings.has("api_url") && !settings.has("api_url_file"))
    return fail("slack: no Slack API URL nor App token set either inline or in a file");
  return std::unique_ptr<Integration>(std::move(s));
}

Json Slack::request(Renderer& r) const {
  const ConfigValue& c = settings_;
  Json att = Json::object();
  put_if(att, "title", truncate_runes(r.text(c.str("title")), kMaxTitleRunes));
  put_if(att, "title_link", r.text(c.str("title_link")));
  put_if(att, "pretext", r.text(c.str("pretext")));
  att["text"] = r.text(c.str("text"));
  att["fallback"] = r.text(c.str("fallback"));
  att["callback_id"] = r.text(c.str("callback_id"));
  if (const ConfigValue* fields = c.find("fields"); fields && fields->is_list() && !fields->items().empty()) {
    Json out = Json::array();
    for (const ConfigValue& f : fields->items()) {
      Json field = Json::object();
      put_if(field, "title", r.text(f.str("title")));
      put_if(field, "value", r.text(f.str("value")));
      const ConfigValue* short_v = f.find("short");
      field["short"] = short_v != nullptr && !short_v->is_null() ? short_v->as_bool() : c.flag("short_fields");
      out.push_back(std::move(field));
    }
    att["fields"] = std::move(out);
  }
  if (const ConfigValue* actions = c.find("actions"); actions && actions->is_list() && !actions->items().empty()) {
    Json out = Json::array();
    for (const ConfigValue& a : actions->items()) {
      Json action = Json::object();
      for (const char* k : {"type", "text", "url", "style", "name", "value"}) put_if(action, k, r.text(a.str(k)));
      if (const ConfigValue* conf = a.find("confirm"); conf && conf->is_map()) {
        Json cj = Json::object();
        for (const char* k : {"text", "title", "ok_text", "dismiss_text"}) put_if(cj, k, r.text(conf->str(k)));
        action["confirm"] = std::move(cj);
      }
      out.push_back(std::move(action));
    }
    att["actions"] = std::move(out);
  }
  put_if(att, "image_url", r.text(c.str("image_url")));
  put_if(att, "thumb_url", r.text(c.str("thumb_url")));
  att["footer"] = r.text(c.str("footer"));
  put_if(att, "color", r.text(c.str("color")));
  Json mrkdwn = Json::array();
  if (const ConfigValue* m = c.find("mrkdwn_in"); m && m->is_list() && !m->items().empty()) {
    for (const ConfigValue& v : m->items()) mrkdwn.push_back(v.as_string());
  } else {
    mrkdwn = Json::array({"fallback", "pretext", "text"});
  }
  att["mrkdwn_in"] = std::move(mrkdwn);

  Json req = Json::object();
  put_if(req, "channel", r.text(c.str("channel")));
  put_if(req, "username", r.text(c.str("username")));
  put_if(req, "icon_emoji", r.text(c.str("icon_emoji")));
  put_if(req, "icon_url", r.text(c.str("icon_url")));
  if (c.flag("link_names")) req["link_names"] = true;
  put_if(req, "text", r.text(c.str("message_text")));
  req["attachments"] = Json::array({std::move(att)});
  return req;
}

AttemptResult Slack::send(const Message& m) {
  Renderer r(m.templates, m.value);
  Json body = request(r);
  if (r.error()) return AttemptResult::permanent("slack: template: " + r.error()->message);
  std::string channel = body.contains("channel") ? body["channel"].get<std::string>() : "";

  HttpRequest req;
  if (settings_.has("api_url")) {
    req.url = std::string(settings_.str("api_url"));
  } else {
    auto content = read_file(std::string(settings_.str("api_url_file")), 1 << 20);
    if (!content) return AttemptResult::permanent("read api_url_file: " + content.error().message);
    req.url = *content;
    while (!req.url.empty() && std::isspace(static_cast<unsigned char>(req.url.back()))) req.url.pop_back();
  }
  req.body = go_json(body);
  req.timeout = m.time_left(settings_.num("timeout"));
  auto resp = exchange(m, req);
  AttemptResult res = check_http(resp, m.now);
  if (!res.ok) {
    res.error = fmt::format("channel {:?}: {}", channel, res.error);
    return res;
  }
  // A 2xx still carries Slack's verdict in its body.
  if (resp->content_type.starts_with("application/json")) {
    Json parsed = Json::parse(resp->body, nullptr, false);
    if (parsed.is_discarded())
      return AttemptResult::transient(fmt::format("channel {:?}: could not unmarshal JSON response {:?}", channel, resp->body));
    if (!parsed.value("ok", false))
      return AttemptResult::permanent(
          fmt::format("channel {:?}: error response from Slack: {}", channel, parsed.value("error", std::string())),
          FailureReason::kClientError);
    return AttemptResult::success();
  }
  if (resp->body != "ok")
    return AttemptResult::permanent(
        fmt::format("channel {:?}: received an error response from Slack: {}", channel, resp->body),
        FailureReason::kClientError);
  return AttemptResult::success();
}

}  // namespace vigil::notifiers
