#include "server/alertmanager_api.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <unordered_map>
#include <string_view>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "model/build_info.h"
#include "model/file.h"
#include "model/json_writer.h"
#include "model/timestamp.h"
#include "routing/config_marshal.h"
#include "routing/route_labels.h"
#include "server/alert_reader.h"

namespace vigil::server {

using nlohmann::json;

size_t format_api_time(Millis t, char* buf) {
  int64_t days = t >= 0 ? t / kDay : -((-t + kDay - 1) / kDay);
  Millis in_day = t - days * kDay;
  int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, &y, &m, &d);
  if (y < 0 || y > 9999) {  // outside what four digits hold: the general formatter
    auto end = fmt::format_to_n(buf, kApiTimeMax, "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", y, m, d,
                                in_day / kHour, (in_day / kMinute) % 60, (in_day / kSecond) % 60, in_day % 1000);
    return static_cast<size_t>(end.out - buf);
  }
  auto digits = [&](char* at, int64_t v, int n) {
    for (int i = n - 1; i >= 0; --i, v /= 10) at[i] = static_cast<char>('0' + v % 10);
  };
  digits(buf, y, 4);
  buf[4] = '-';
  digits(buf + 5, m, 2);
  buf[7] = '-';
  digits(buf + 8, d, 2);
  buf[10] = 'T';
  digits(buf + 11, in_day / kHour, 2);
  buf[13] = ':';
  digits(buf + 14, (in_day / kMinute) % 60, 2);
  buf[16] = ':';
  digits(buf + 17, (in_day / kSecond) % 60, 2);
  buf[19] = '.';
  digits(buf + 20, in_day % 1000, 3);
  buf[23] = 'Z';
  return 24;
}

std::string api_time(Millis t) {
  char buf[kApiTimeMax];
  return std::string(buf, format_api_time(t, buf));
}

std::string_view hex16(uint64_t v, char (&buf)[16]) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i, v >>= 4) buf[i] = kHex[v & 0xF];
  return std::string_view(buf, 16);
}

namespace {

// An answer upstream's handlers give: a JSON string.
Response string_answer(int status, std::string_view msg) {
  Response r = Response::json(status, json(std::string(msg)).dump(-1, ' ', false, json::error_handler_t::replace));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

// An answer of upstream's request decoding and schema validation.
Response schema_answer(int status, int code, std::string_view msg) {
  Response r = Response::json(status, json{{"code", code}, {"message", std::string(msg)}}.dump(-1, ' ', false, json::error_handler_t::replace));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

// A 200 answer with an already-encoded JSON body (or none).
Response ok_written(std::string body) {
  Response r = Response::json(200, std::move(body));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

Response ok(const json& body) { return ok_written(body.dump(-1, ' ', false, json::error_handler_t::replace)); }

Response ok_empty() { return ok_written(""); }

// A body that cannot be read as the expected type: 400.
Response unreadable(std::string_view what, std::string_view why) {
  return schema_answer(400, 400, fmt::format("parsing {} body failed: {}", what, why));
}

// A required field missing: 422, as upstream's schema validation answers.
Response required(std::string_view field) {
  return schema_answer(422, 602, fmt::format("{} in body is required", field));
}

// Parses a request body as JSON, or says why not.
Result<json> parse_body(const Request& req, size_t max_body) {
  if (req.body.size() > max_body)
    return fail(fmt::format("the body is {} bytes, more than the limit of {}", req.body.size(), max_body));
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) return fail("the body is empty");
  if (json_nesting_depth(req.body) > kMaxJsonDepth)
    return fail(fmt::format("JSON nested deeper than {} levels", kMaxJsonDepth));
  try {
    return json::parse(req.body);
  } catch (const json::exception& e) {
    std::string_view what = e.what();
    // nlohmann prefixes "[json.exception.parse_error.101] ".
    if (size_t p = what.find("] "); p != std::string_view::npos && what.front() == '[') what.remove_prefix(p + 2);
    return fail(fmt::format("invalid JSON: {}", what));
  }
}

std::string_view type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    default: return "a number";
  }
}

// A map of strings (labels, annotations) at `where`, viewing v's strings.
Result<std::vector<LabelView>> string_map(const json& v, std::string_view where) {
  std::vector<LabelView> out;
  if (v.is_null()) return out;
  if (!v.is_object()) return fail(fmt::format("{} must be an object of strings, not {}", where, type_name(v)));
  out.reserve(v.size());
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it->is_string())
      return fail(fmt::format("{}.{} must be a string, not {}", where, it.key(), type_name(*it)));
    out.emplace_back(it.key(), it->get_ref<const std::string&>());
  }
  return out;
}

Result<std::string> optional_string(const json& obj, std::string_view key, std::string_view where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::string();
  if (!it->is_string()) return fail(fmt::format("{}.{} must be a string, not {}", where, key, type_name(*it)));
  return it->get<std::string>();
}

// A date-time field; 0 when absent. Go's zero time (year 1) counts as absent.
Result<Millis> optional_time(const json& obj, std::string_view key, std::string_view where) {
  auto s = optional_string(obj, key, where);
  if (!s) return std::unexpected(s.error());
  if (s->empty()) return Millis{0};
  auto t = parse_rfc3339(*s);
  if (!t) return fail(fmt::format("{}.{} is not an RFC 3339 date-time: \"{}\"", where, key, *s));
  return *t > 0 ? *t : 0;
}

// A boolean query parameter as go-openapi reads one; `def` when absent.
Result<bool> bool_param(const Request& req, std::string_view name, bool def) {
  auto v = req.param(name);
  if (!v || v->empty()) return def;
  std::string s = *v;
  std::ranges::transform(s, s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (std::string_view t : {"true", "1", "yes", "ok", "y", "on", "selected", "checked", "t", "enabled"})
    if (s == t) return true;
  for (std::string_view f : {"false", "0", "no", "n", "off", "f", "disabled"})
    if (s == f) return false;
  return fail(fmt::format("{} in query must be of type boolean: \"{}\"", name, *v));
}

// Every matcher matches (a missing label is the empty string).
bool filter_matches(const std::vector<Matcher>& ms, const Labels& ls) {
  return std::ranges::all_of(ms, [&](const Matcher& m) { return m.matches(ls.get(m.name())); });
}

// A label set (Labels, or owned pairs) as a JSON object.
template <typename LabelRange>
json labels_json(const LabelRange& ls) {
  json o = json::object();
  for (const LabelView l : ls) o[std::string(l.name)] = l.value;
  return o;
}


class Api {
 public:
  explicit Api(AlertmanagerApiContext ctx) : ctx_(std::move(ctx)) {}

  Response status(const Request&) const;
  Response receivers(const Request& req) const;
  Response get_alerts(const Request& req) const;
  Response post_alerts(const Request& req) const;
  Response groups(const Request& req) const;
  Response get_silences(const Request& req) const;
  Response post_silence(const Request& req) const;
  Response get_silence(const Request& req) const;
  Response delete_silence(const Request& req) const;
  Response webhook(const Request& req) const;

 private:
  // The query parameters the alert listings share.
  struct AlertQuery {
    std::vector<Matcher> filter;
    std::optional<Matcher> receiver;  // fully anchored regex on the receiver name
    std::vector<Matcher> receiver_matchers;
    bool active = true, silenced = true, inhibited = true, muted = true;
  };
  Result<AlertQuery> alert_query(const Request& req, bool groups) const;
  Result<std::vector<Matcher>> parse_filter(const std::vector<std::string>& filters) const;
  bool receiver_labels_match(const AlertQuery& q, std::string_view receiver, const routing::Config& cfg) const;
  // The alert's status (silences sorted), unless the state filters leave it out.
  std::optional<routing::Router::AlertStatus> shown_status(const AlertQuery& q, const routing::Alert& a) const;
  json silence_json(const routing::Silence& s, Millis now) const;
  struct Stored {
    std::vector<std::string> invalid;    // the errors of the alerts left out
    std::optional<std::string> storage;  // the others are held but not on disk
  };
  // Stores alerts; they are on disk when it returns, unless `storage` says.
  Stored store(std::vector<routing::Alert> alerts) const;
  std::string config_original() const;
  // The route labels of a group as upstream's alert groups API shows them:
  // rendered against the group's alerts with the configuration's templates.
  std::vector<Label> group_route_labels(const routing::Dispatcher::GroupInfo& g,
                                        const std::shared_ptr<const routing::Config>& cfg, Millis now) const;

  // The notification templates of the configuration last asked for, loaded
  // once (only when a route has labels).
  struct TemplateCache {
    std::mutex mu;
    std::weak_ptr<const routing::Config> config;
    std::shared_ptr<const templates::NotificationTemplates> templates;  // null: failed to load
  };

  AlertmanagerApiContext ctx_;
  std::shared_ptr<TemplateCache> templates_ = std::make_shared<TemplateCache>();
};

std::vector<Label> Api::group_route_labels(const routing::Dispatcher::GroupInfo& g,
                                           const std::shared_ptr<const routing::Config>& cfg, Millis now) const {
  const std::vector<Label>& raw = g.route->options().labels;
  if (raw.empty() || g.alerts.empty()) return {};
  std::shared_ptr<const templates::NotificationTemplates> t;
  {
    std::lock_guard lock(templates_->mu);
    if (templates_->config.lock() != cfg) {
      auto loaded = templates::NotificationTemplates::load(cfg->templates);
      templates_->templates =
          loaded ? std::make_shared<const templates::NotificationTemplates>(std::move(*loaded)) : nullptr;
      templates_->config = cfg;
    }
    t = templates_->templates;
  }
  if (!t) return {};  // notifications fail the same way: nothing to render with
  std::vector<templates::AlertInput> alerts;
  alerts.reserve(g.alerts.size());
  for (const auto& a : g.alerts) alerts.push_back(routing::template_alert(*a, a->ends_at));
  std::vector<Label> out;
  for (auto& [name, value] : routing::render_route_labels(*t, raw, g.route->options().receiver, g.labels, alerts,
                                                          ctx_.external_url, now))
    out.push_back(Label{name, std::move(value)});
  return out;
}

Result<std::vector<Matcher>> Api::parse_filter(const std::vector<std::string>& filters) const {
  std::vector<Matcher> out;
  for (const std::string& f : filters) {
    auto m = routing::parse_matcher(f, ctx_.matcher_syntax);
    if (!m) return std::unexpected(m.error());
    out.push_back(std::move(*m));
  }
  return out;
}

Result<Api::AlertQuery> Api::alert_query(const Request& req, bool groups) const {
  AlertQuery q;
  auto filter = parse_filter(req.params_named("filter"));
  if (!filter) return std::unexpected(filter.error());
  q.filter = std::move(*filter);
  if (auto r = req.param("receiver")) {
    auto m = Matcher::make(MatchType::kRegex, "receiver", *r, Matcher::Dialect::kAlertmanager);
    if (!m) return fail("failed to parse receiver param: " + m.error().message);
    q.receiver = std::move(*m);
  }
  auto rm = parse_filter(req.params_named("receiver_matchers"));
  if (!rm) return fail("failed to parse receiver_matchers param: " + rm.error().message);
  q.receiver_matchers = std::move(*rm);
  for (auto [name, field] : {std::pair<std::string_view, bool*>{"active", &q.active},
                             {"silenced", &q.silenced}, {"inhibited", &q.inhibited}}) {
    auto b = bool_param(req, name, true);
    if (!b) return std::unexpected(b.error());
    *field = *b;
  }
  if (groups) {
    auto b = bool_param(req, "muted", true);
    if (!b) return std::unexpected(b.error());
    q.muted = *b;
  } else if (auto b = bool_param(req, "unprocessed", true); !b) {
    // Every alert is processed when it arrives: the parameter selects nothing.
    return std::unexpected(b.error());
  }
  return q;
}

bool Api::receiver_labels_match(const AlertQuery& q, std::string_view receiver, const routing::Config& cfg) const {
  if (q.receiver_matchers.empty()) return true;
  const routing::ReceiverConfig* r = cfg.receiver(receiver);
  return r && filter_matches(q.receiver_matchers, Labels(r->labels));
}

std::optional<routing::Router::AlertStatus> Api::shown_status(const AlertQuery& q, const routing::Alert& a) const {
  routing::Router::AlertStatus st = ctx_.router.status(a.labels);
  std::sort(st.silenced_by.begin(), st.silenced_by.end());
  bool silenced = !st.silenced_by.empty();
  bool inhibited = st.inhibited_by.has_value();
  bool suppressed = silenced || inhibited;
  if (!q.active && !suppressed) return std::nullopt;
  if (!q.silenced && silenced) return std::nullopt;
  if (!q.inhibited && inhibited) return std::nullopt;
  return st;
}

void write_string_map(JsonWriter& w, const auto& pairs) {
  w.begin_object();
  for (const auto& l : pairs) w.member(l.name, l.value);
  w.end_object();
}

void write_time(JsonWriter& w, std::string_view key, Millis t) {
  char buf[kApiTimeMax];
  w.member(key, std::string_view(buf, format_api_time(t, buf)));
}

// One gettableAlert, its keys in the order the JSON documents of this API
// use (sorted).
void write_alert(JsonWriter& w, const routing::Alert& a, const routing::Router::AlertStatus& st,
                 std::span<const std::string_view> receivers,
                 const std::vector<std::string>* muted_by) {
  char fp[16];
  w.begin_object();
  w.key("annotations");
  write_string_map(w, a.annotations);
  write_time(w, "endsAt", a.ends_at);
  w.member("fingerprint", hex16(a.fingerprint(), fp));
  if (!a.generator_url.empty()) w.member("generatorURL", a.generator_url);
  w.key("labels");
  write_string_map(w, a.labels);
  w.key("receivers").begin_array();
  for (std::string_view r : receivers) w.begin_object().member("name", r).end_object();
  w.end_array();
  write_time(w, "startsAt", a.starts_at);
  const bool suppressed = !st.silenced_by.empty() || st.inhibited_by.has_value();
  w.key("status").begin_object();
  w.key("inhibitedBy").begin_array();
  if (st.inhibited_by) w.string(hex16(*st.inhibited_by, fp));
  w.end_array();
  w.key("mutedBy").begin_array();
  if (muted_by)
    for (const std::string& m : *muted_by) w.string(m);
  w.end_array();
  w.key("silencedBy").begin_array();
  for (const std::string& id : st.silenced_by) w.string(id);
  w.end_array();
  w.member("state", suppressed ? "suppressed" : "active");
  w.end_object();
  write_time(w, "updatedAt", a.updated_at);
  w.end_object();
}

Response Api::get_alerts(const Request& req) const {
  auto q = alert_query(req, false);
  if (!q) return string_answer(400, q.error().message);
  auto cfg = ctx_.router.config();
  auto root = ctx_.router.route_tree();  // keeps the routes (and their names) alive
  const Millis now = ctx_.clock.now();
  // What is shown: an entry per alert, its receivers a range of one shared
  // list (no allocation per alert).
  struct Found {
    uint64_t fingerprint;
    const routing::Alert* alert;
    routing::Router::AlertStatus status;
    uint32_t receivers_begin, receivers_end;
  };
  auto alerts = ctx_.router.alerts().list();
  std::vector<Found> found;
  found.reserve(alerts.size());
  std::vector<std::string_view> receivers;
  receivers.reserve(alerts.size());
  std::vector<const routing::Route*> routes;
  for (const auto& a : alerts) {
    if (a->ends_at != 0 && a->ends_at < now) continue;
    if (!filter_matches(q->filter, a->labels)) continue;
    routes.clear();
    root->match(a->labels, routes);
    if (q->receiver && std::ranges::none_of(routes, [&](const routing::Route* r) {
          return q->receiver->matches(r->options().receiver);
        }))
      continue;
    if (!q->receiver_matchers.empty() && std::ranges::none_of(routes, [&](const routing::Route* r) {
          return receiver_labels_match(*q, r->options().receiver, *cfg);
        }))
      continue;
    auto status = shown_status(*q, *a);
    if (!status) continue;
    const auto begin = static_cast<uint32_t>(receivers.size());
    for (const routing::Route* r : routes) receivers.push_back(r->options().receiver);
    found.push_back(Found{a->fingerprint(), a.get(), std::move(*status), begin, static_cast<uint32_t>(receivers.size())});
  }
  std::ranges::sort(found, {}, &Found::fingerprint);
  std::string body;
  body.reserve(found.size() * 768 + 2);
  JsonWriter w(body);
  w.begin_array();
  for (const Found& f : found) {
    write_alert(w, *f.alert, f.status,
                std::span(receivers.data() + f.receivers_begin, f.receivers_end - f.receivers_begin), nullptr);
  }
  w.end_array();
  return ok_written(std::move(body));
}

Response Api::groups(const Request& req) const {
  auto q = alert_query(req, true);
  if (!q) return string_answer(400, q.error().message);
  auto cfg = ctx_.router.config();
  auto root = ctx_.router.route_tree();  // keeps the groups' routes alive
  const Millis now = ctx_.clock.now();

  struct Found {
    const routing::Dispatcher::GroupInfo* group;
    std::vector<std::pair<const routing::Alert*, routing::Router::AlertStatus>> alerts;
    std::vector<std::string> muted_by;
  };
  auto groups = ctx_.router.groups();
  std::vector<Found> found;
  std::unordered_map<uint64_t, std::vector<std::string_view>> receivers;  // per alert, over all groups shown
  for (const auto& g : groups) {
    const routing::RouteOptions& opts = g.route->options();
    if (q->receiver && !q->receiver->matches(opts.receiver)) continue;
    if (!receiver_labels_match(*q, opts.receiver, *cfg)) continue;
    // Muted by a time interval: the notify pipeline's verdict at the
    // group's last flush, as upstream's API reads its marker.
    std::vector<std::string> muted_by = ctx_.router.muted_by(g.group_key);
    if (!q->muted && !muted_by.empty()) continue;
    Found f{&g, {}, std::move(muted_by)};
    for (const auto& a : g.alerts) {
      if (a->ends_at != 0 && a->ends_at < now) continue;
      if (!filter_matches(q->filter, a->labels)) continue;
      auto status = shown_status(*q, *a);
      if (!status) continue;
      receivers[a->fingerprint()].push_back(opts.receiver);
      f.alerts.emplace_back(a.get(), std::move(*status));
    }
    if (!f.alerts.empty()) found.push_back(std::move(f));
  }
  for (auto& [fp, rs] : receivers) std::sort(rs.begin(), rs.end());
  std::ranges::sort(found, [](const Found& a, const Found& b) {
    if (a.group->labels == b.group->labels)
      return a.group->route->options().receiver < b.group->route->options().receiver;
    return routing::labels_before(a.group->labels, b.group->labels);
  });
  std::string body;
  JsonWriter w(body);
  w.begin_array();
  for (Found& f : found) {
    std::ranges::sort(f.alerts, [](const auto& a, const auto& b) { return routing::alert_before(*a.first, *b.first); });
    const routing::RouteOptions& opts = f.group->route->options();
    w.begin_object();
    w.key("alerts").begin_array();
    for (const auto& [a, status] : f.alerts) write_alert(w, *a, status, receivers[a->fingerprint()], &f.muted_by);
    w.end_array();
    w.key("labels");
    write_string_map(w, f.group->labels);
    w.key("receiver").begin_object().member("name", opts.receiver).end_object();
    w.key("routeLabels");
    write_string_map(w, group_route_labels(*f.group, cfg, now));
    w.end_object();
  }
  w.end_array();
  return ok_written(std::move(body));
}

Api::Stored Api::store(std::vector<routing::Alert> alerts) const {
  const Millis now = ctx_.clock.now();
  const Millis resolve_timeout = ctx_.router.config()->global.resolve_timeout;
  Stored out;
  std::vector<routing::Alert> valid;
  for (routing::Alert& a : alerts) {
    if (auto within = routing::check_alert_limits(a, ctx_.alert_limits); !within) {
      out.invalid.push_back(within.error().message);
      continue;
    }
    // Without an end the alert ends a resolve timeout from now: a start
    // after that is a start after the end, as upstream checks it.
    if (a.ends_at == 0 && a.starts_at > now + resolve_timeout) {
      out.invalid.emplace_back("start time must be before end time");
      continue;
    }
    valid.push_back(std::move(a));
  }
  size_t stored = valid.size();
  auto put = ctx_.router.put_alerts(std::move(valid));
  for (const Error& e : put.invalid) {
    out.invalid.push_back(e.message);
    --stored;
  }
  if (put.storage) out.storage = put.storage->message;
  if (stored > 0 && ctx_.on_alerts) ctx_.on_alerts();
  return out;
}

// Reads one postable alert (the API's and the webhook's have the same fields).
Result<routing::Alert> read_alert(const json& item, const std::string& where) {
  if (!item.is_object()) return fail(fmt::format("{} must be an object, not {}", where, type_name(item)));
  routing::Alert a;
  auto labels = string_map(item.at("labels"), where + ".labels");
  if (!labels) return std::unexpected(labels.error());
  a.labels = Labels(*labels);
  if (auto it = item.find("annotations"); it != item.end()) {
    auto ann = string_map(*it, where + ".annotations");
    if (!ann) return std::unexpected(ann.error());
    a.annotations = Labels(std::move(*ann));
  }
  auto starts = optional_time(item, "startsAt", where);
  if (!starts) return std::unexpected(starts.error());
  auto ends = optional_time(item, "endsAt", where);
  if (!ends) return std::unexpected(ends.error());
  auto url = optional_string(item, "generatorURL", where);
  if (!url) return std::unexpected(url.error());
  a.starts_at = *starts;
  a.ends_at = *ends;
  a.generator_url = std::move(*url);
  return a;
}

// The alerts of a POST body; the Response is the answer when they cannot be read.
std::variant<std::vector<routing::Alert>, Response> read_posted_alerts(const Request& req, size_t max_body) {
  if (req.body.size() <= max_body) {
    if (auto alerts = read_postable_alerts(req.body)) return std::move(*alerts);
  }
  // Not the common shape, or not well-formed: read again, wording any error.
  auto body = parse_body(req, max_body);
  if (!body) return unreadable("alerts", body.error().message);
  if (!body->is_array()) return unreadable("alerts", fmt::format("expected an array of alerts, not {}", type_name(*body)));
  std::vector<routing::Alert> alerts;
  for (size_t i = 0; i < body->size(); ++i) {
    const json& item = (*body)[i];
    std::string where = fmt::format("alerts[{}]", i);
    if (item.is_object() && (!item.contains("labels") || item["labels"].is_null()))
      return required(fmt::format("{}.labels", i));
    auto a = read_alert(item, where);
    if (!a) return unreadable("alerts", a.error().message);
    alerts.push_back(std::move(*a));
  }
  return alerts;
}

Response Api::post_alerts(const Request& req) const {
  auto read = read_posted_alerts(req, ctx_.max_body);
  if (auto* r = std::get_if<Response>(&read)) return *r;
  auto stored = store(std::get<std::vector<routing::Alert>>(std::move(read)));
  // Upstream answers 500 when its store fails; here that is the disk.
  if (stored.storage) return string_answer(500, *stored.storage);
  if (!stored.invalid.empty()) return string_answer(400, fmt::format("{}", fmt::join(stored.invalid, "; ")));
  return ok_empty();
}

Response Api::webhook(const Request& req) const {
  auto body = parse_body(req, ctx_.max_body);
  if (!body) return unreadable("webhook", body.error().message);
  if (!body->is_object())
    return unreadable("webhook", fmt::format("expected a webhook payload object, not {}", type_name(*body)));
  if (auto v = body->find("version"); v != body->end() && !(v->is_string() && *v == "4"))
    return unreadable("webhook", fmt::format("unsupported payload version {} (expected \"4\")", v->dump()));
  auto list = body->find("alerts");
  if (list == body->end() || !list->is_array())
    return unreadable("webhook", "the payload has no \"alerts\" array");
  const Millis now = ctx_.clock.now();
  std::vector<routing::Alert> alerts;
  for (size_t i = 0; i < list->size(); ++i) {
    const json& item = (*list)[i];
    std::string where = fmt::format("alerts[{}]", i);
    if (item.is_object() && (!item.contains("labels") || item["labels"].is_null()))
      return unreadable("webhook", where + ".labels is required");
    auto a = read_alert(item, where);
    if (!a) return unreadable("webhook", a.error().message);
    auto status = optional_string(item, "status", where);
    if (!status) return unreadable("webhook", status.error().message);
    if (*status == "resolved") {
      if (a->ends_at == 0) a->ends_at = now;
    } else if (*status == "firing" || status->empty()) {
      // Still firing: an end already passed contradicts the status; without
      // one the resolve timeout applies until the sender repeats it.
      if (a->ends_at != 0 && a->ends_at <= now) a->ends_at = 0;
    } else {
      return unreadable("webhook", fmt::format("{}.status must be \"firing\" or \"resolved\", not \"{}\"", where, *status));
    }
    alerts.push_back(std::move(*a));
  }
  size_t total = alerts.size();
  auto stored = store(std::move(alerts));
  const auto& errors = stored.invalid;
  if (stored.storage) return string_answer(500, *stored.storage);
  json answer{{"accepted", total - errors.size()}, {"rejected", errors.size()}};
  if (!errors.empty()) {
    answer["error"] = fmt::format("{}", fmt::join(errors, "; "));
    Response r = Response::json(400, answer.dump(-1, ' ', false, json::error_handler_t::replace));
    return r;
  }
  return ok(answer);
}

// The state the API shows: expired from the instant it ends (the router's
// silences still mute at that instant, as upstream's do).
routing::SilenceState shown_state(const routing::Silence& s, Millis now) {
  if (now < s.starts_at) return routing::SilenceState::kPending;
  if (now < s.ends_at) return routing::SilenceState::kActive;
  return routing::SilenceState::kExpired;
}

json Api::silence_json(const routing::Silence& s, Millis now) const {
  json matchers = json::array();
  for (const Matcher& m : s.matchers) {
    bool regex = m.type() == MatchType::kRegex || m.type() == MatchType::kNotRegex;
    bool equal = m.type() == MatchType::kEqual || m.type() == MatchType::kRegex;
    matchers.push_back(json{{"name", m.name()}, {"value", m.value()}, {"isRegex", regex}, {"isEqual", equal}});
  }
  json out{{"id", s.id},
           {"status", json{{"state", routing::silence_state_string(shown_state(s, now))}}},
           {"updatedAt", api_time(s.updated_at)},
           {"matchers", std::move(matchers)},
           {"startsAt", api_time(s.starts_at)},
           {"endsAt", api_time(s.ends_at)},
           {"createdBy", s.created_by},
           {"comment", s.comment}};
  // Left out when there are none, as upstream leaves them out.
  if (!s.annotations.empty()) out["annotations"] = s.annotations;
  return out;
}

// Upstream's order: active (soonest end first), pending (soonest start
// first), expired (latest end first).
void sort_silences(std::vector<routing::Silence>& ss, Millis now) {
  auto rank = [](routing::SilenceState s) {
    switch (s) {
      case routing::SilenceState::kActive: return 0;
      case routing::SilenceState::kPending: return 1;
      case routing::SilenceState::kExpired: return 2;
    }
    return 2;
  };
  std::ranges::stable_sort(ss, [&](const routing::Silence& a, const routing::Silence& b) {
    auto sa = shown_state(a, now), sb = shown_state(b, now);
    if (sa != sb) return rank(sa) < rank(sb);
    switch (sa) {
      case routing::SilenceState::kActive: return a.ends_at < b.ends_at;
      case routing::SilenceState::kPending: return a.starts_at < b.starts_at;
      case routing::SilenceState::kExpired: return a.ends_at > b.ends_at;
    }
    return false;
  });
}

// A silence is selected by a filter when each filter matcher is one of the
// silence's matchers exactly (same name, type and value).
bool silence_selected(const routing::Silence& s, const std::vector<Matcher>& filter) {
  return std::ranges::all_of(filter, [&](const Matcher& f) {
    return std::ranges::any_of(s.matchers, [&](const Matcher& m) { return m == f; });
  });
}

Response Api::get_silences(const Request& req) const {
  auto filter = parse_filter(req.params_named("filter"));
  if (!filter) return string_answer(400, filter.error().message);
  std::map<routing::SilenceState, bool> wanted;
  for (auto [name, state] : {std::pair<std::string_view, routing::SilenceState>{"active", routing::SilenceState::kActive},
                             {"pending", routing::SilenceState::kPending},
                             {"expired", routing::SilenceState::kExpired}}) {
    auto b = bool_param(req, name, true);
    if (!b) return schema_answer(400, 400, b.error().message);
    wanted[state] = *b;
  }
  const Millis now = ctx_.clock.now();
  std::vector<routing::Silence> selected;
  for (routing::Silence& s : ctx_.router.silences().list())
    if (wanted[s.state_at(now)] && silence_selected(s, *filter)) selected.push_back(std::move(s));
  sort_silences(selected, now);
  json out = json::array();
  for (const routing::Silence& s : selected) out.push_back(silence_json(s, now));
  return ok(out);
}

// Reads a postable silence; the Response is the answer when it cannot be read.
std::variant<routing::Silence, Response> read_silence(const json& body) {
  if (!body.is_object()) return unreadable("silence", fmt::format("expected a silence object, not {}", type_name(body)));
  for (std::string_view f : {"matchers", "startsAt", "endsAt", "createdBy", "comment"})
    if (!body.contains(f) || body[f].is_null()) return required(f);
  routing::Silence s;
  for (auto [key, out] : {std::pair<std::string_view, std::string*>{"id", &s.id}, {"createdBy", &s.created_by},
                          {"comment", &s.comment}}) {
    auto v = optional_string(body, key, "silence");
    if (!v) return unreadable("silence", v.error().message);
    *out = std::move(*v);
  }
  // Annotations: an object of strings, where null reads as "" (Go's
  // decoding of a map[string]string).
  if (auto a = body.find("annotations"); a != body.end() && !a->is_null()) {
    if (!a->is_object())
      return unreadable("silence", fmt::format("silence.annotations must be an object of strings, not {}", type_name(*a)));
    for (auto it = a->begin(); it != a->end(); ++it) {
      if (!it->is_string() && !it->is_null())
        return unreadable("silence",
                          fmt::format("silence.annotations.{} must be a string, not {}", it.key(), type_name(*it)));
      s.annotations[it.key()] = it->is_null() ? std::string() : it->get<std::string>();
    }
  }
  auto starts = optional_time(body, "startsAt", "silence");
  if (!starts) return unreadable("silence", starts.error().message);
  auto ends = optional_time(body, "endsAt", "silence");
  if (!ends) return unreadable("silence", ends.error().message);
  s.starts_at = *starts;
  s.ends_at = *ends;
  const json& ms = body["matchers"];
  if (!ms.is_array()) return unreadable("silence", fmt::format("silence.matchers must be an array, not {}", type_name(ms)));
  if (ms.empty()) return schema_answer(422, 612, "matchers in body should have at least 1 items");
  for (size_t i = 0; i < ms.size(); ++i) {
    const json& m = ms[i];
    std::string where = fmt::format("silence.matchers[{}]", i);
    if (!m.is_object()) return unreadable("silence", fmt::format("{} must be an object, not {}", where, type_name(m)));
    for (std::string_view f : {"name", "value", "isRegex"})
      if (!m.contains(f) || m[f].is_null()) return required(fmt::format("matchers.{}.{}", i, f));
    if (!m["name"].is_string() || !m["value"].is_string())
      return unreadable("silence", where + ": name and value must be strings");
    bool is_equal = true;
    if (auto e = m.find("isEqual"); e != m.end() && !e->is_null()) {
      if (!e->is_boolean()) return unreadable("silence", where + ".isEqual must be a boolean");
      is_equal = e->get<bool>();
    }
    if (!m["isRegex"].is_boolean()) return unreadable("silence", where + ".isRegex must be a boolean");
    bool is_regex = m["isRegex"].get<bool>();
    MatchType type = is_regex ? (is_equal ? MatchType::kRegex : MatchType::kNotRegex)
                              : (is_equal ? MatchType::kEqual : MatchType::kNotEqual);
    auto matcher = routing::make_matcher(type, m["name"].get<std::string>(), m["value"].get<std::string>());
    if (!matcher)
      return string_answer(400, fmt::format("invalid silence: invalid label matcher {}: {}", i, matcher.error().message));
    s.matchers.push_back(std::move(*matcher));
  }
  return s;
}

// A change that is not on disk is not acknowledged: upstream answers 500
// when its silence store fails.
int silence_error_status(const routing::SilenceError& e) {
  switch (e.kind) {
    case routing::SilenceError::Kind::kNotFound: return 404;
    case routing::SilenceError::Kind::kStorage: return 500;
    case routing::SilenceError::Kind::kInvalid: return 400;
  }
  return 500;
}

Response Api::post_silence(const Request& req) const {
  auto body = parse_body(req, ctx_.max_body);
  if (!body) return unreadable("silence", body.error().message);
  auto read = read_silence(*body);
  if (auto* r = std::get_if<Response>(&read)) return *r;
  routing::Silence s = std::get<routing::Silence>(std::move(read));
  if (s.starts_at >= s.ends_at)
    return string_answer(400, "Failed to create silence: start time must be before end time");
  if (s.ends_at < ctx_.clock.now()) return string_answer(400, "Failed to create silence: end time can't be in the past");
  auto id = ctx_.router.silences().set(std::move(s));
  if (!id) return string_answer(silence_error_status(id.error()), id.error().message);
  return ok(json{{"silenceID", *id}});
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

Response bad_silence_id(std::string_view id) {
  return schema_answer(422, 605, fmt::format("silenceID in path must be of type uuid: \"{}\"", id));
}

Response Api::get_silence(const Request& req) const {
  const std::string& id = req.path_params.at("silenceID");
  if (!is_uuid(id)) return bad_silence_id(id);
  auto s = ctx_.router.silences().get(id);
  if (!s) return Response::json(404, "");
  return ok(silence_json(*s, ctx_.clock.now()));
}

Response Api::delete_silence(const Request& req) const {
  const std::string& id = req.path_params.at("silenceID");
  if (!is_uuid(id)) return bad_silence_id(id);
  auto r = ctx_.router.silences().expire(id);
  if (!r) {
    const int status = silence_error_status(r.error());
    return status == 404 ? Response::json(404, "") : string_answer(status, r.error().message);
  }
  return ok_empty();
}

std::string Api::config_original() const {
  if (ctx_.config_original) return ctx_.config_original();
  const std::string& path = ctx_.router.config()->path;
  if (path.empty()) return "";
  auto text = read_file(path);
  if (!text) return "";
  // The directory as Go's filepath.Dir names it: "." for a bare file name.
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  auto shown = routing::marshal_config_yaml(*text, dir);
  return shown ? *shown : std::string();
}

Response Api::status(const Request&) const {
  json version{{"version", build::kVersion}, {"revision", build::kCommit}, {"branch", ""},
               {"buildUser", ""},           {"buildDate", build::kDate},  {"goVersion", "none (C++, " __VERSION__ ")"}};
  json cluster{{"status", "disabled"}, {"peers", json::array()}};
  if (ctx_.cluster != nullptr) {
    auto c = ctx_.cluster->status();
    cluster = json{{"name", c.name}, {"status", c.status}, {"peers", json::array()}};
    for (const auto& p : c.peers) cluster["peers"].push_back(json{{"name", p.name}, {"address", p.address}});
  }
  return ok(json{{"cluster", std::move(cluster)},
                 {"versionInfo", std::move(version)},
                 {"config", json{{"original", config_original()}}},
                 {"uptime", api_time(ctx_.start_time)}});
}

Response Api::receivers(const Request& req) const {
  auto rm = parse_filter(req.params_named("receiver_matchers"));
  if (!rm) return string_answer(400, "failed to parse receiver_matchers param: " + rm.error().message);
  json out = json::array();
  for (const routing::ReceiverConfig& r : ctx_.router.config()->receivers) {
    if (!rm->empty() && !filter_matches(*rm, Labels(r.labels))) continue;
    out.push_back(json{{"name", r.name}, {"labels", labels_json(r.labels)}});
  }
  return ok(out);
}

// Bodies are read only when declared JSON, as upstream's API answers: this
// also keeps web pages from posting forms or text to the API across sites
// (a JSON body needs a CORS preflight, which vigil never grants).
Handler json_only(Handler h) {
  return [h = std::move(h)](const Request& req) {
    std::string type = req.header("content-type");
    type = type.substr(0, type.find(';'));
    while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.pop_back();
    while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.erase(0, 1);
    for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (type.empty()) type = "application/octet-stream";
    if (type == "application/json") return h(req);
    return Response::json(
        415, json{{"code", 415},
                  {"message", fmt::format("unsupported media type \"{}\", only [application/json] are allowed", type)}}
                 .dump());
  };
}

}  // namespace

void add_alertmanager_api(Routes& routes, AlertmanagerApiContext ctx) {
  auto api = std::make_shared<const Api>(std::move(ctx));
  auto bind = [api](Response (Api::*fn)(const Request&) const) -> Handler {
    return [api, fn](const Request& req) { return ((*api).*fn)(req); };
  };
  routes.add("GET", "/api/v2/status", bind(&Api::status));
  routes.add("GET", "/api/v2/receivers", bind(&Api::receivers));
  routes.add("GET", "/api/v2/alerts", bind(&Api::get_alerts));
  routes.add("POST", "/api/v2/alerts", json_only(bind(&Api::post_alerts)));
  routes.add("GET", "/api/v2/alerts/groups", bind(&Api::groups));
  routes.add("GET", "/api/v2/silences", bind(&Api::get_silences));
  routes.add("POST", "/api/v2/silences", json_only(bind(&Api::post_silence)));
  routes.add("GET", "/api/v2/silence/{silenceID}", bind(&Api::get_silence));
  routes.add("DELETE", "/api/v2/silence/{silenceID}", bind(&Api::delete_silence));
  routes.add("POST", "/api/v1/intake/webhook", json_only(bind(&Api::webhook)));
}

}  // namespace vigil::server
