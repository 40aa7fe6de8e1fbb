#include "notifiers/incidentio.h"

#include "notifiers/render.h"
#include "notifiers/webhook.h"

namespace vigil::notifiers {

using config::ConfigValue;
using net::HttpRequest;
using net::read_credential;

namespace {

constexpr size_t kMaxPayloadBytes = 512 * 1024;

// What incident.io's error body says: its message, error and errors joined.
std::string error_details(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return "";
  std::string out;
  auto add = [&out](const std::string& part) {
    if (part.empty()) return;
    if (!out.empty()) out += ": ";
    out += part;
  };
  if (auto it = j.find("message"); it != j.end() && it->is_string()) add(it->get<std::string>());
  if (auto it = j.find("error"); it != j.end() && it->is_string()) add(it->get<std::string>());
  if (auto it = j.find("errors"); it != j.end() && it->is_array()) {
    std::string joined;
    for (const auto& e : *it)
      if (e.is_string()) joined += (joined.empty() ? "" : ", ") + e.get<std::string>();
    add(joined);
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<Integration>> IncidentIo::create(const ConfigValue& settings) {
  auto n = std::make_unique<IncidentIo>();
  if (auto ok = n->init(settings, "incidentio", "url"); !ok) return std::unexpected(ok.error());
  n->max_alerts_ = static_cast<size_t>(std::max<int64_t>(settings.num("max_alerts"), 0));
  n->timeout_ = settings.num("timeout");
  if (settings.has("alert_source_token") || settings.has("alert_source_token_file")) {
    auto token = read_credential(settings, "alert_source_token", "alert_source_token_file");
    if (!token) return fail("incidentio: failed to read alert_source_token_file: " + token.error().message);
    n->token_ = std::move(*token);
    n->redactor_.add(n->token_);
  }
  return std::unique_ptr<Integration>(std::move(n));
}

AttemptResult IncidentIo::send(const Message& m) {
  auto url = read_credential(settings_, "url", "url_file");
  if (!url) return AttemptResult::permanent("read url_file: " + url.error().message);
  Json msg = webhook_message(m.data);
  msg["version"] = "1";
  std::string body = go_json(msg);
  if (body.size() > kMaxPayloadBytes && msg["alerts"].size() > 1) {
    Json& alerts = msg["alerts"];
    alerts.erase(alerts.begin() + 1, alerts.end());
    body = go_json(msg);
  }
  HttpRequest req;
  req.url = *url;
  req.body = std::move(body);
  if (!token_.empty()) req.headers.emplace_back("Authorization", "Bearer " + token_);
  req.timeout = m.time_left(timeout_);
  auto resp = exchange(m, req);
  AttemptResult out = check_http(resp, m.now);
  if (!out.ok && resp && resp->status / 100 != 2) {
    std::string details = error_details(resp->body);
    out.error = "unexpected status code " + std::to_string(resp->status) + (details.empty() ? "" : ": " + details);
  }
  return out;
}

}  // namespace vigil::notifiers
