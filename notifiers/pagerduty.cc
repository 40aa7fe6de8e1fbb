#include "notifiers/pagerduty.h"

#include <fmt/format.h>

namespace vigil::notifiers {

using net::read_credential;

using net::HttpRequest;

using config::ConfigValue;

namespace {

constexpr size_t kMaxEventSize = 512000;
constexpr size_t kMaxSummaryRunes = 1024;

// The size limit, as Go's units.MetricBytes prints it.
constexpr std::string_view kMaxEventSizeText = "512kB";

std::string summarise_400(std::string_view body) {
  Json j = Json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return "";
  std::string errors;
  if (j.contains("errors") && j["errors"].is_array())
    for (const auto& e : j["errors"]) {
      if (!errors.empty()) errors += ",";
      if (e.is_string()) errors += e.get<std::string>();
    }
  std::string message = j.contains("message") && j["message"].is_string() ? j["message"].get<std::string>() : "";
  return fmt::format("{}: {}", message, errors);
}

}  // namespace

Result<std::unique_ptr<Integration>> PagerDuty::create(const ConfigValue& settings, const IntegrationOptions& opts) {
  auto p = std::make_unique<PagerDuty>();
  if (auto ok = p->init(settings, "pagerduty"); !ok) return std::unexpected(ok.error());
  if (settings.has("service_key") || settings.has("service_key_file")) p->v1_url_ = opts.pagerduty_v1_url;
  else if (!settings.has("routing_key") && !settings.has("routing_key_file"))
    return fail("pagerduty: missing service or routing key in PagerDuty config");
  return std::unique_ptr<Integration>(std::move(p));
}

AttemptResult PagerDuty::send(const Message& m) {
  const ConfigValue& c = settings_;
  Renderer r(m.templates, m.value);
  const bool v1 = !v1_url_.empty();
  const bool resolve = m.data.status == "resolved";
  const std::string key_hash = sha256_hex(m.notification.group_key);

  Json details = Json::object();
  if (const ConfigValue* d = c.find("details"); d && d->is_map()) details = r.tree(*d);
  if (r.error()) return AttemptResult::permanent("failed to render details: " + r.error()->message);

  auto key = v1 ? read_credential(c, "service_key", "service_key_file")
                : read_credential(c, "routing_key", "routing_key_file");
  if (!key) return AttemptResult::permanent(fmt::format("failed to read {} key from file: {}", v1 ? "service" : "routing",
                                                        key.error().message));
  Json msg = Json::object();
  bool truncated = false;
  if (v1) {
    msg["service_key"] = r.text(*key);
    msg["incident_key"] = key_hash;
    msg["event_type"] = resolve ? "resolve" : "trigger";
    msg["description"] = truncate_runes(r.text(c.str("description")), kMaxSummaryRunes, &truncated);
    msg["event_action"] = "";
    msg["payload"] = nullptr;
    if (!resolve) {
      if (auto v = r.text(c.str("client")); !v.empty()) msg["client"] = v;
      if (auto v = r.text(c.str("client_url")); !v.empty()) msg["client_url"] = v;
    }
    if (!details.empty()) msg["details"] = details;
  } else {
    std::string severity = c.has("severity") ? std::string(c.str("severity")) : "error";
    msg["routing_key"] = r.text(*key);
    msg["dedup_key"] = key_hash;
    msg["event_action"] = resolve ? "resolve" : "trigger";
    Json payload = Json::object();
    payload["summary"] = truncate_runes(r.text(c.str("description")), kMaxSummaryRunes, &truncated);
    payload["source"] = r.text(c.str("source"));
    payload["severity"] = r.text(severity);
    for (const char* k : {"class", "component", "group"})
      if (auto v = r.text(c.str(k)); !v.empty()) payload[k] = v;
    if (!details.empty()) payload["custom_details"] = details;
    msg["payload"] = std::move(payload);
    if (auto v = r.text(c.str("client")); !v.empty()) msg["client"] = v;
    if (auto v = r.text(c.str("client_url")); !v.empty()) msg["client_url"] = v;
    Json images = Json::array(), links = Json::array();
    if (const ConfigValue* is = c.find("images"); is && is->is_list())
      for (const ConfigValue& i : is->items()) {
        Json img{{"src", r.text(i.str("src"))}, {"alt", r.text(i.str("alt"))}, {"href", r.text(i.str("href"))}};
        if (!img["src"].get<std::string>().empty()) images.push_back(std::move(img));
      }
    if (const ConfigValue* ls = c.find("links"); ls && ls->is_list())
      for (const ConfigValue& l : ls->items()) {
        Json link{{"href", r.text(l.str("href"))}, {"text", r.text(l.str("text"))}};
        if (!link["href"].get<std::string>().empty()) links.push_back(std::move(link));
      }
    if (!images.empty()) msg["images"] = std::move(images);
    if (!links.empty()) msg["links"] = std::move(links);
  }
  if (r.error())
    return AttemptResult::permanent(fmt::format("failed to template PagerDuty {} message: {}", v1 ? "v1" : "v2",
                                                r.error()->message));
  const char* key_field = v1 ? "service_key" : "routing_key";
  if (msg[key_field].get<std::string>().empty())
    return AttemptResult::permanent(fmt::format("{} key cannot be empty", v1 ? "service" : "routing"));

  std::string body = go_json(msg);
  if (body.size() > kMaxEventSize) {
    Json replaced{{"error", fmt::format("Custom details have been removed because the original event exceeds the "
                                        "maximum size of {}", kMaxEventSizeText)}};
    if (v1) msg["details"] = replaced;
    else msg["payload"]["custom_details"] = replaced;
    body = go_json(msg);
  }

  HttpRequest req;
  req.url = v1 ? v1_url_ : std::string(c.str("url"));
  req.body = std::move(body);
  req.timeout = m.time_left(c.num("timeout"));
  auto resp = exchange(m, req);
  const long v1_codes[] = {403};
  AttemptResult res = check_http(resp, m.now, v1 ? std::span<const long>(v1_codes) : std::span<const long>());
  if (!res.ok && resp && resp->status == 400) {
    // PagerDuty explains a 400 in JSON; say that instead of the raw body.
    res.error = fmt::format("unexpected status code 400: {}", summarise_400(resp->body));
  } else if (!res.ok && !resp) {
    res.error = fmt::format("failed to post message to PagerDuty{}: {}", v1 ? " v1" : "", res.error);
  } else if (!res.ok && resp) {
    // Upstream shows no body for statuses other than 400.
    res.error = fmt::format("unexpected status code {}", resp->status);
  }
  return res;
}

}  // namespace vigil::notifiers
