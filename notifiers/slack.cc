#include "notifiers/slack.h"

#include <fmt/format.h>

#include "model/file.h"

namespace vigil::notifiers {

using net::HttpRequest;

using config::ConfigValue;

namespace {

// Slack's documented limit for an attachment title, in characters.
constexpr size_t kMaxTitleRunes = 1024;

// Where a message posted through `post_url` (…/chat.postMessage) is updated.
std::string update_url(std::string_view post_url) {
  size_t slash = post_url.rfind('/');
  return std::string(post_url.substr(0, slash == std::string_view::npos ? 0 : slash + 1)) + "chat.update";
}

// A member of Slack's answer, or T's zero value when absent or of another
// type.
template <typename T>
T member(const Json& answer, const char* key) {
  if (!answer.is_object()) return T{};
  auto it = answer.find(key);
  if (it == answer.end()) return T{};
  if constexpr (std::is_same_v<T, bool>) return it->is_boolean() && it->template get<bool>();
  else return it->is_string() ? it->template get<std::string>() : T{};
}

// The receiver data keys, upstream's names.
constexpr std::string_view kTsKey = "threadTs";
constexpr std::string_view kChannelKey = "channelId";

}  // namespace

Result<std::unique_ptr<Integration>> Slack::create(const ConfigValue& settings) {
  auto s = std::make_unique<Slack>();
  if (auto ok = s->init(settings, "slack"); !ok) return std::unexpected(ok.error());
  if (!settings.has("api_url") && !settings.has("api_url_file"))
    return fail("slack: no Slack API URL nor App token set either inline or in a file");
  return std::unique_ptr<Integration>(std::move(s));
}

Json Slack::request(Renderer& r, const Posted* update) const {
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
  if (update != nullptr) {
    req["channel"] = update->channel;
    req["ts"] = update->ts;
  }
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
  routing::ReceiverStore* store = settings_.flag("update_message") ? m.notification.store.get() : nullptr;
  Posted posted;
  if (store != nullptr) posted = {store->get(kChannelKey), store->get(kTsKey)};
  const bool updating = !posted.channel.empty() && !posted.ts.empty();
  Json body = request(r, updating ? &posted : nullptr);
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
  if (updating) req.url = update_url(req.url);
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
    // Go reads `null` as an empty answer and fails on what is no object.
    if (parsed.is_discarded() || !(parsed.is_object() || parsed.is_null()))
      return AttemptResult::transient(fmt::format("channel {:?}: could not unmarshal JSON response {:?}", channel, resp->body));
    if (!member<bool>(parsed, "ok"))
      return AttemptResult::permanent(
          fmt::format("channel {:?}: error response from Slack: {}", channel, member<std::string>(parsed, "error")),
          FailureReason::kClientError);
    // Kept for the group's next notification, which updates this message.
    std::string ts = member<std::string>(parsed, "ts"), posted_in = member<std::string>(parsed, "channel");
    if (store != nullptr && !ts.empty() && !posted_in.empty()) {
      store->set(kTsKey, std::move(ts));
      store->set(kChannelKey, std::move(posted_in));
    }
    return AttemptResult::success();
  }
  if (resp->body != "ok")
    return AttemptResult::permanent(
        fmt::format("channel {:?}: received an error response from Slack: {}", channel, resp->body),
        FailureReason::kClientError);
  return AttemptResult::success();
}

}  // namespace vigil::notifiers
