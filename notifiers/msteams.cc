#include "notifiers/msteams.h"

#include "notifiers/render.h"

namespace vigil::notifiers {

using net::read_credential;

using net::HttpRequest;

using config::ConfigValue;

Result<std::unique_ptr<Integration>> MsTeams::create(const ConfigValue& settings) {
  auto t = std::make_unique<MsTeams>();
  if (auto ok = t->init(settings, "msteams", "webhook_url"); !ok) return std::unexpected(ok.error());
  return std::unique_ptr<Integration>(std::move(t));
}

AttemptResult MsTeams::send(const Message& m) {
  Renderer r(m.templates, m.value);
  Json body{{"@context", "http://schema.org/extensions"},
            {"type", "MessageCard"},
            {"title", r.text(settings_.str("title"))},
            {"summary", r.text(settings_.str("summary"))},
            {"text", r.text(settings_.str("text"))},
            {"themeColor", m.data.status == "firing" ? "8C1A1A" : "2DC72D"}};
  if (r.error()) return AttemptResult::permanent("msteams: template: " + r.error()->message);
  auto url = read_credential(settings_, "webhook_url", "webhook_url_file");
  if (!url) return AttemptResult::permanent("read webhook_url_file: " + url.error().message);
  HttpRequest req;
  req.url = *url;
  req.body = go_json(body);
  req.timeout = m.time_left(0);
  return check_http(exchange(m, req), m.now);
}

}  // namespace vigil::notifiers
