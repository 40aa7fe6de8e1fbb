#include "notifiers/msteamsv2.h"

#include "notifiers/render.h"

namespace vigil::notifiers {

using config::ConfigValue;
using net::HttpRequest;
using net::read_credential;

Result<std::unique_ptr<Integration>> MsTeamsV2::create(const ConfigValue& settings) {
  auto t = std::make_unique<MsTeamsV2>();
  if (auto ok = t->init(settings, "msteamsv2", "webhook_url"); !ok) return std::unexpected(ok.error());
  return std::unique_ptr<Integration>(std::move(t));
}

AttemptResult MsTeamsV2::send(const Message& m) {
  Renderer r(m.templates, m.value);
  std::string title = r.text(settings_.str("title"));
  std::string text = r.text(settings_.str("text"));
  if (r.error()) return AttemptResult::permanent("msteamsv2: template: " + r.error()->message);
  auto url = read_credential(settings_, "webhook_url", "webhook_url_file");
  if (!url) return AttemptResult::permanent("read webhook_url_file: " + url.error().message);

  // Empty optional fields are left out, as the card schema allows.
  Json heading{{"type", "TextBlock"}, {"text", title},   {"weight", "Bolder"},
               {"size", "Medium"},    {"wrap", true},    {"style", "heading"},
               {"color", m.data.status == "firing" ? "Attention" : "Good"}};
  Json body_text{{"type", "TextBlock"}, {"text", text}, {"wrap", true}};
  Json card{{"$schema", "http://adaptivecards.io/schemas/adaptive-card.json"},
            {"type", "AdaptiveCard"},
            {"version", "1.2"},
            {"body", Json::array({heading, body_text})},
            {"msteams", Json{{"width", "full"}}}};
  Json message{{"type", "message"},
               {"attachments", Json::array({Json{{"contentType", "application/vnd.microsoft.card.adaptive"},
                                                 {"contentUrl", nullptr},
                                                 {"content", card}}})}};
  HttpRequest req;
  req.url = *url;
  req.body = go_json(message);
  req.timeout = m.time_left(0);
  return check_http(exchange(m, req), m.now);
}

}  // namespace vigil::notifiers
