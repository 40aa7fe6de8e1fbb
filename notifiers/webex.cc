#include "notifiers/webex.h"

#include "notifiers/render.h"

namespace vigil::notifiers {

using config::ConfigValue;
using net::HttpRequest;

namespace {
// The longest message Webex takes, in bytes.
constexpr size_t kMaxMessageBytes = 7439;
}  // namespace

Result<std::unique_ptr<Integration>> Webex::create(const ConfigValue& settings) {
  auto w = std::make_unique<Webex>();
  if (auto ok = w->init(settings, "webex", "api_url"); !ok) return std::unexpected(ok.error());
  return std::unique_ptr<Integration>(std::move(w));
}

AttemptResult Webex::send(const Message& m) {
  Renderer r(m.templates, m.value);
  std::string message = truncate_bytes(r.text(settings_.str("message")), kMaxMessageBytes);
  std::string room = r.text(settings_.str("room_id"));
  if (r.error()) return AttemptResult::permanent("webex: template: " + r.error()->message);
  Json body{{"markdown", message}};
  if (!room.empty()) body["roomId"] = room;
  HttpRequest req;
  req.url = std::string(settings_.str("api_url"));
  req.body = go_json(body);
  req.timeout = m.time_left(0);
  return check_http(exchange(m, req), m.now);
}

}  // namespace vigil::notifiers
