#include "server/notifications_api.h"

#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "model/json_writer.h"
#include "server/alertmanager_api.h"
#include "server/prometheus_api.h"

namespace vigil::server {

namespace {

Response bad_data(std::string_view message) {
  nlohmann::json out{{"status", "error"}, {"errorType", "bad_data"}, {"error", message}};
  return Response::json(400, out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Error bad_param(std::string_view name, std::string_view why) {
  return Error{fmt::format("invalid parameter \"{}\": {}", name, why)};
}

// One of two words, as a flag; nullopt when the parameter is absent.
Result<std::optional<bool>> choice(const Request& req, std::string_view name, std::string_view yes,
                                   std::string_view no) {
  auto v = req.param(name);
  if (!v) return std::optional<bool>();
  if (*v == yes) return std::optional<bool>(true);
  if (*v == no) return std::optional<bool>(false);
  return std::unexpected(bad_param(name, fmt::format("want {} or {}, got {:?}", yes, no, *v)));
}

void write_labels(JsonWriter& w, const Labels& ls) {
  w.begin_object();
  for (const LabelView l : ls) w.member(l.name, l.value);
  w.end_object();
}

void write_time(JsonWriter& w, std::string_view key, Millis t) {
  char buf[kApiTimeMax];
  w.member(key, std::string_view(buf, format_api_time(t, buf)));
}

void write_entry(JsonWriter& w, const notifiers::HistoryEntry& e) {
  char fp[16];
  w.begin_object();
  write_time(w, "time", e.time);
  w.member("receiver", e.receiver);
  w.member("integration", e.integration);
  w.member("integrationIndex", static_cast<int64_t>(e.integration_index));
  w.member("groupKey", e.group_key);
  w.key("groupLabels");
  write_labels(w, e.group_labels);
  w.member("status", e.firing ? "firing" : "resolved");
  w.key("alerts").begin_array();
  for (const notifiers::HistoryAlert& a : e.alerts) {
    w.begin_object();
    w.key("labels");
    write_labels(w, a.labels);
    w.member("fingerprint", hex16(a.labels.fingerprint(), fp));
    w.member("status", a.resolved ? "resolved" : "firing");
    write_time(w, "startsAt", a.starts_at);
    w.end_object();
  }
  w.end_array();
  if (e.omitted_alerts > 0) w.member("omittedAlerts", static_cast<int64_t>(e.omitted_alerts));
  w.member("outcome", e.success ? "success" : "failure");
  w.member("attempts", static_cast<int64_t>(e.attempts));
  w.member("error", e.error);
  w.key("durationSeconds").raw(fmt::format("{}", static_cast<double>(e.duration) / 1000.0));
  w.end_object();
}

}  // namespace

Result<notifiers::HistoryQuery> history_query(const Request& req, routing::MatcherSyntax syntax) {
  notifiers::HistoryQuery q;
  if (auto v = req.param("receiver")) q.receiver = *v;
  if (auto v = req.param("integration")) q.integration = *v;
  for (const std::string& f : req.params_named("filter")) {
    auto m = routing::parse_matcher(f, syntax);
    if (!m) return std::unexpected(bad_param("filter", m.error().message));
    q.filter.push_back(std::move(*m));
  }
  auto firing = choice(req, "status", "firing", "resolved");
  if (!firing) return std::unexpected(firing.error());
  q.firing = *firing;
  auto success = choice(req, "outcome", "success", "failure");
  if (!success) return std::unexpected(success.error());
  q.success = *success;
  for (auto [name, into] : {std::pair{"since", &q.since}, std::pair{"until", &q.until}}) {
    auto v = req.param(name);
    if (!v) continue;
    auto t = parse_time_param(*v);
    if (!t) return std::unexpected(bad_param(name, t.error().message + " (RFC 3339 or unix seconds)"));
    *into = *t;
  }
  if (auto v = req.param("limit")) {
    size_t n = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || p != v->data() + v->size())
      return std::unexpected(bad_param("limit", fmt::format("want a whole number of entries, got {:?}", *v)));
    q.limit = n;
  }
  return q;
}

std::string history_json(const notifiers::HistoryPage& page) {
  std::string out;
  out.reserve(page.entries.size() * 1024 + 64);  // about 0.9 KiB an entry of three alerts
  JsonWriter w(out);
  w.begin_object().member("status", "success").key("data").begin_object();
  w.key("entries").begin_array();
  for (const auto& e : page.entries) write_entry(w, *e);
  w.end_array();
  w.member("total", static_cast<int64_t>(page.total));
  w.end_object().end_object();
  return out;
}

void add_notifications_api(Routes& routes, NotificationsApiContext ctx) {
  routes.add("GET", "/api/v1/notifications", [ctx](const Request& req) {
    auto q = history_query(req, ctx.matcher_syntax);
    if (!q) return bad_data(q.error().message);
    Response r = Response::json(200, history_json(ctx.history->query(*q)));
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  });
}

}  // namespace vigil::server
