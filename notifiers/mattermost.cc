#include "notifiers/mattermost.h"

#include <algorithm>

#include "notifiers/render.h"

namespace vigil::notifiers {

using config::ConfigValue;
using net::HttpRequest;
using net::read_credential;

namespace {

constexpr size_t kMaxTextRunes = 16383;

Json fields_json(Renderer& r, const ConfigValue* fields) {
  Json out = Json::array();
  if (fields == nullptr || !fields->is_list()) return out;
  for (const ConfigValue& f : fields->items()) {
    Json field = Json::object();
    put_if(field, "title", r.text(f.str("title")));
    put_if(field, "value", r.text(f.str("value")));
    if (f.present("short")) field["short"] = f.flag("short");
    out.push_back(std::move(field));
  }
  return out;
}

// One attachment from `a` (a configured attachment, or the settings
// themselves), its text given.
Json attachment_json(Renderer& r, const ConfigValue& a, std::string text) {
  Json att = Json::object();
  put_if(att, "fallback", r.text(a.str("fallback")));
  put_if(att, "color", r.text(a.str("color")));
  put_if(att, "pretext", r.text(a.str("pretext")));
  put_if(att, "text", std::move(text));
  for (const char* k : {"author_name", "author_link", "author_icon", "title", "title_link"})
    put_if(att, k, r.text(a.str(k)));
  if (Json fields = fields_json(r, a.find("fields")); !fields.empty()) att["fields"] = std::move(fields);
  for (const char* k : {"thumb_url", "footer", "footer_icon", "image_url"}) put_if(att, k, r.text(a.str(k)));
  return att;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

Result<std::unique_ptr<Integration>> Mattermost::create(const ConfigValue& settings) {
  auto n = std::make_unique<Mattermost>();
  if (auto ok = n->init(settings, "mattermost", "webhook_url"); !ok) return std::unexpected(ok.error());
  return std::unique_ptr<Integration>(std::move(n));
}

AttemptResult Mattermost::send(const Message& m) {
  auto url = read_credential(settings_, "webhook_url", "webhook_url_file");
  if (!url) return AttemptResult::permanent("read webhook_url_file: " + url.error().message);
  if (url->empty()) return AttemptResult::permanent("webhook url missing");

  const ConfigValue& c = settings_;
  Renderer r(m.templates, m.value);
  std::string text = r.text(c.str("text"));
  Json body = Json::object();
  std::string channel = r.text(c.str("channel"));
  Json attachments = Json::array();
  const ConfigValue* configured = c.find("attachments");
  const bool own = configured != nullptr && configured->is_list() && !configured->items().empty();
  if (own) {
    for (const ConfigValue& a : configured->items()) attachments.push_back(attachment_json(r, a, r.text(a.str("text"))));
    put_if(body, "text", truncate_runes(text, kMaxTextRunes));
  } else {
    attachments.push_back(attachment_json(r, c, text));
  }
  put_if(body, "channel", channel);
  put_if(body, "username", r.text(c.str("username")));
  put_if(body, "icon_url", r.text(c.str("icon_url")));
  put_if(body, "icon_emoji", r.text(c.str("icon_emoji")));
  body["attachments"] = std::move(attachments);
  put_if(body, "type", r.text(c.str("type")));
  if (const ConfigValue* props = c.find("props"); props && props->is_map() && !props->str("card").empty())
    body["props"] = Json{{"card", r.text(props->str("card"))}};
  if (const ConfigValue* p = c.find("priority"); p && p->is_map() && !p->str("priority").empty()) {
    std::string level = lower(r.text(p->str("priority")));
    if (level != "urgent" && level != "important") level = "standard";
    Json priority{{"priority", level}};
    if (p->flag("requested_ack") && level != "standard") priority["requested_ack"] = true;
    if (p->flag("persistent_notifications") && level == "urgent") priority["persistent_notifications"] = true;
    body["priority"] = std::move(priority);
  }
  if (r.error()) return AttemptResult::permanent("mattermost: template: " + r.error()->message);

  HttpRequest req;
  req.url = *url;
  req.body = go_json(body);
  req.timeout = m.time_left(0);
  AttemptResult out = check_http(exchange(m, req), m.now);
  if (!out.ok) out.error = "channel \"" + channel + "\": " + out.error;
  return out;
}

}  // namespace vigil::notifiers
