#include "notifiers/webhook.h"

#include <fmt/format.h>

#include "model/file.h"

namespace vigil::notifiers {

using net::HttpRequest;

using config::ConfigValue;

Json webhook_message(const templates::NotificationData& d) {
  Json msg = data_json(d);
  msg["version"] = "4";
  msg["groupKey"] = d.group_key;
  msg["truncatedAlerts"] = d.truncated_alerts;
  return msg;
}

Result<std::unique_ptr<Integration>> Webhook::create(const ConfigValue& settings) {
  auto w = std::make_unique<Webhook>();
  if (auto ok = w->init(settings, "webhook", "url"); !ok) return std::unexpected(ok.error());
  w->max_alerts_ = static_cast<size_t>(std::max<int64_t>(settings.num("max_alerts"), 0));
  w->timeout_ = settings.num("timeout");
  return std::unique_ptr<Integration>(std::move(w));
}

AttemptResult Webhook::send(const Message& m) {
  Renderer r(m.templates, m.value);
  std::string url;
  if (settings_.has("url")) {
    url = r.text(settings_.str("url"));
  } else {
    auto content = read_file(std::string(settings_.str("url_file")), 1 << 20);
    if (!content) return AttemptResult::permanent("read url_file: " + content.error().message);
    std::string trimmed = *content;
    while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) trimmed.pop_back();
    url = r.text(trimmed);
  }
  if (r.error()) return AttemptResult::permanent("failed to template webhook URL: " + r.error()->message);
  if (url.empty()) return AttemptResult::permanent("webhook URL is empty after templating");

  HttpRequest req;
  req.url = url;
  const ConfigValue* payload = settings_.find("payload");
  if (payload != nullptr && !payload->is_null()) {
    Json body = r.tree(*payload);
    if (r.error()) return AttemptResult::permanent("failed to render custom payload: " + r.error()->message);
    req.body = go_json(body);
  } else {
    req.body = go_json(webhook_message(m.data));
  }
  req.timeout = m.time_left(timeout_);
  return check_http(exchange(m, req), m.now);
}

}  // namespace vigil::notifiers
