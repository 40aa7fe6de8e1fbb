#include "notifiers/discord.h"

#include "notifiers/render.h"

namespace vigil::notifiers {

using net::read_credential;

using net::HttpRequest;

using config::ConfigValue;

Result<std::unique_ptr<Integration>> Discord::create(const ConfigValue& settings) {
  auto d = std::make_unique<Discord>();
  if (auto ok = d->init(settings, "discord", "webhook_url"); !ok) return std::unexpected(ok.error());
  return std::unique_ptr<Integration>(std::move(d));
}

AttemptResult Discord::send(const Message& m) {
  Renderer r(m.templates, m.value);
  std::string title = truncate_runes(r.text(settings_.str("title")), 256);
  std::string description = truncate_runes(r.text(settings_.str("message")), 4096);
  std::string content = truncate_runes(r.text(settings_.str("content")), 2000);
  if (r.error()) return AttemptResult::permanent("discord: template: " + r.error()->message);
  auto url = read_credential(settings_, "webhook_url", "webhook_url_file");
  if (!url) return AttemptResult::permanent("read webhook_url_file: " + url.error().message);
  const int color = m.data.status == "firing" ? 0x992D22 : 0x2ECC71;
  Json body{{"content", content}, {"embeds", Json::array({Json{{"title", title}, {"description", description}, {"color", color}}})}};
  if (settings_.has("username")) body["username"] = std::string(settings_.str("username"));
  if (settings_.has("avatar_url")) body["avatar_url"] = std::string(settings_.str("avatar_url"));
  HttpRequest req;
  req.url = *url;
  req.body = go_json(body);
  req.timeout = m.time_left(0);
  return check_http(exchange(m, req), m.now);
}

}  // namespace vigil::notifiers
