#include "notifiers/victorops.h"

#include "notifiers/render.h"

namespace vigil::notifiers {

using config::ConfigValue;
using net::HttpRequest;
using net::read_credential;

namespace {
constexpr size_t kMaxStateMessageRunes = 20480;
}  // namespace

Result<std::unique_ptr<Integration>> VictorOps::create(const ConfigValue& settings) {
  auto v = std::make_unique<VictorOps>();
  if (auto ok = v->init(settings, "victorops", "api_key"); !ok) return std::unexpected(ok.error());
  return std::unique_ptr<Integration>(std::move(v));
}

AttemptResult VictorOps::send(const Message& m) {
  auto key = read_credential(settings_, "api_key", "api_key_file");
  if (!key) return AttemptResult::permanent("failed to read API key from file: " + key.error().message);
  Renderer r(m.templates, m.value);
  std::string url = std::string(settings_.str("api_url")) + *key + "/" + r.text(settings_.str("routing_key"));

  std::string type = r.text(settings_.str("message_type"));
  if (m.data.status == "resolved") type = "RECOVERY";
  else if (type != "INFO" && type != "WARNING" && type != "CRITICAL") type = "CRITICAL";

  // Go encodes the map with its keys sorted: nlohmann::json does the same.
  nlohmann::json body{{"message_type", type},
                      {"entity_id", sha256_hex(m.data.group_key)},
                      {"entity_display_name", r.text(settings_.str("entity_display_name"))},
                      {"state_message", truncate_runes(r.text(settings_.str("state_message")), kMaxStateMessageRunes)},
                      {"monitoring_tool", r.text(settings_.str("monitoring_tool"))}};
  if (const ConfigValue* fields = settings_.find("custom_fields"); fields && fields->is_map())
    for (const auto& [k, v] : fields->entries()) body[k] = r.text(v.as_string());
  if (r.error()) return AttemptResult::permanent("templating error: " + r.error()->message);

  HttpRequest req;
  req.url = std::move(url);
  req.body = go_json(body);
  req.timeout = m.time_left(0);
  return check_http(exchange(m, req), m.now);
}

}  // namespace vigil::notifiers
