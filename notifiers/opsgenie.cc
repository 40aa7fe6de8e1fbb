#include "notifiers/opsgenie.h"

#include <map>

#include <fmt/format.h>

namespace vigil::notifiers {

using config::ConfigValue;
using net::HttpRequest;

namespace {

// Opsgenie's limit for an alert message, in characters.
constexpr size_t kMaxMessageRunes = 130;

// `s` (trimmed) split at `sep`, empty pieces dropped; the pieces themselves
// keep their spaces, as upstream's.
std::vector<std::string> split_nonempty(std::string_view s, char sep) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    if (end > start) out.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

Json responder(std::string id, std::string name, std::string username, std::string type) {
  Json r = Json::object();
  put_if(r, "id", std::move(id));
  put_if(r, "name", std::move(name));
  put_if(r, "username", std::move(username));
  r["type"] = std::move(type);
  return r;
}

}  // namespace

Result<std::unique_ptr<Integration>> Opsgenie::create(const ConfigValue& settings) {
  auto o = std::make_unique<Opsgenie>();
  if (auto ok = o->init(settings, "opsgenie", "api_url"); !ok) return std::unexpected(ok.error());
  if (!settings.has("api_key") && !settings.has("api_key_file"))
    return fail("opsgenie: no global OpsGenie API Key set either inline or in a file");
  return std::unique_ptr<Integration>(std::move(o));
}

Json Opsgenie::create_body(Renderer& r, const Message& m, const std::string& alias) const {
  const ConfigValue& c = settings_;
  // Details: the common labels, overridden by the configured details (their
  // values templated, their names not); a Go map, so sorted by name.
  std::map<std::string, std::string> details(m.data.common_labels.begin(), m.data.common_labels.end());
  if (const ConfigValue* d = c.find("details"); d && d->is_map())
    for (const auto& [k, v] : d->entries()) details[k] = r.text(v.as_string());

  Json responders = Json::array();
  if (const ConfigValue* rs = c.find("responders"); rs && rs->is_list())
    for (const ConfigValue& cr : rs->items()) {
      std::string id = r.text(cr.str("id")), name = r.text(cr.str("name"));
      std::string username = r.text(cr.str("username")), type = r.text(cr.str("type"));
      // A responder that renders empty is left out, so that responders can
      // come from labels some alerts lack.
      if (id.empty() && name.empty() && username.empty() && type.empty()) continue;
      if (type == "teams") {
        // Each name is rendered once more, as upstream does.
        for (const std::string& team : split_nonempty(name, ','))
          responders.push_back(responder("", r.text(team), "", "team"));
        continue;
      }
      responders.push_back(responder(std::move(id), std::move(name), std::move(username), std::move(type)));
    }

  Json msg = Json::object();
  msg["alias"] = alias;
  msg["message"] = truncate_runes(r.text(c.str("message")), kMaxMessageRunes);
  put_if(msg, "description", r.text(c.str("description")));
  msg["details"] = Json(details);
  msg["source"] = r.text(c.str("source"));
  if (!responders.empty()) msg["responders"] = std::move(responders);
  if (auto tags = split_nonempty(r.text(c.str("tags")), ','); !tags.empty()) msg["tags"] = tags;
  put_if(msg, "note", r.text(c.str("note")));
  put_if(msg, "priority", r.text(c.str("priority")));
  put_if(msg, "entity", r.text(c.str("entity")));
  if (auto actions = split_nonempty(r.text(c.str("actions")), ','); !actions.empty()) msg["actions"] = actions;
  return msg;
}

AttemptResult Opsgenie::send(const Message& m) {
  const ConfigValue& c = settings_;
  Renderer r(m.templates, m.value);
  const std::string alias = sha256_hex(m.notification.group_key);
  const std::string base(c.str("api_url"));  // ends with a slash

  // Every request of this notification, in the order they are sent.
  std::vector<HttpRequest> reqs;
  auto add = [&](std::string method, std::string url, const Json& body) {
    HttpRequest req;
    req.method = std::move(method);
    req.url = std::move(url);
    req.body = go_json(body);
    reqs.push_back(std::move(req));
  };
  auto by_alias = [&](std::string_view what) {
    return fmt::format("{}v2/alerts/{}/{}?identifierType=alias", base, alias, what);
  };
  if (m.data.status == "resolved") {
    add("POST", by_alias("close"), Json{{"source", r.text(c.str("source"))}});
  } else {
    Json msg = create_body(r, m, alias);
    add("POST", base + "v2/alerts", msg);
    if (c.flag("update_alerts")) {
      Json message = Json::object(), description = Json::object();
      put_if(message, "message", msg["message"].get<std::string>());
      if (msg.contains("description")) description["description"] = msg["description"];
      add("PUT", by_alias("message"), message);
      add("PUT", by_alias("description"), description);
    }
  }

  // The key is a template too; from a file, it is read trimmed.
  auto key_text = net::read_credential(c, "api_key", "api_key_file");
  if (!key_text) return AttemptResult::permanent("read key_file error: " + key_text.error().message);
  std::string key = r.text(*key_text);
  if (!c.has("api_key")) {
    while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
    while (!key.empty() && std::isspace(static_cast<unsigned char>(key.front()))) key.erase(0, 1);
  }
  if (r.error()) return AttemptResult::permanent("templating error: " + r.error()->message);

  // Sent one after the other; the first failure ends the attempt, and a
  // retry sends them all again (creating an existing alias only updates it).
  for (HttpRequest& req : reqs) {
    req.headers.emplace_back("Authorization", "GenieKey " + key);
    req.timeout = m.time_left(0);
    AttemptResult res = check_http(exchange(m, req), m.now);
    if (!res.ok) return res;
  }
  return AttemptResult::success();
}

}  // namespace vigil::notifiers
