#include "server/alertmanager_api.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "model/build_info.h"
#include "model/file.h"
#include "model/timestamp.h"
#include "routing/config_redact.h"

namespace vigil::server {

using nlohmann::json;

std::string api_time(Millis t) {
  int64_t days = t >= 0 ? t / kDay : -((-t + kDay - 1) / kDay);
  Millis in_day = t - days * kDay;
  int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, &y, &m, &d);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", y, m, d, in_day / kHour,
                     (in_day / kMinute) % 60, (in_day / kSecond) % 60, in_day % 1000);
}

namespace {

// Deeper bodies are refused before parsing: the JSON parser recurses.
constexpr int kMaxJsonDepth = 64;

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

Response ok(const json& body) {
  Response r = Response::json(200, body.dump(-1, ' ', false, json::error_handler_t::replace));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

Response ok_empty() {
  Response r = Response::json(200, "");
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

// A body that cannot be read as the expected type: 400.
Response unreadable(std::string_view what, std::string_view why) {
  return schema_answer(400, 400, fmt::format("parsing {} body failed: {}", what, why));
}

// A required field missing: 422, as upstream's schema validation answers.
Response required(std::string_view field) {
  return schema_answer(422, 602, fmt::format("{} in body is required", field));
}

int nesting_depth(std::string_view s) {
  int depth = 0, max_depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') max_depth = std::max(max_depth, ++depth);
    else if (c == ']' || c == '}') --depth;
  }
  return max_depth;
}

// Parses a request body as JSON, or says why not.
Result<json> parse_body(const Request& req, size_t max_body) {
  if (req.body.size() > max_body)
    return fail(fmt::format("the body is {} bytes, more than the limit of {}", req.body.size(), max_body));
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) return fail("the body is empty");
  if (nesting_depth(req.body) > kMaxJsonDepth)
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

std::string fingerprint_string(uint64_t fp) { return fmt::format("{:016x}", fp); }

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
  // Applies the state filters; fills `out` with the alert's status.
  bool status_passes(const AlertQuery& q, const routing::Alert& a, json& out) const;
  json alert_json(const routing::Alert& a, json status, const std::vector<std::string>& receivers) const;
  json silence_json(const routing::Silence& s, Millis now) const;
  // Stores alerts; returns the errors of those left out.
  std::vector<std::string> store(std::vector<routing::Alert> alerts) const;
  std::string config_original() const;

  AlertmanagerApiContext ctx_;
};

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

bool Api::status_passes(const AlertQuery& q, const routing::Alert& a, json& out) const {
  routing::Router::AlertStatus st = ctx_.router.status(a.labels);
  std::sort(st.silenced_by.begin(), st.silenced_by.end());
  bool silenced = !st.silenced_by.empty();
  bool inhibited = st.inhibited_by.has_value();
  bool suppressed = silenced || inhibited;
  if (!q.active && !suppressed) return false;
  if (!q.silenced && silenced) return false;
  if (!q.inhibited && inhibited) return false;
  json inhibited_by = json::array();
  if (inhibited) inhibited_by.push_back(fingerprint_string(*st.inhibited_by));
  out = json{{"state", suppressed ? "suppressed" : "active"},
             {"silencedBy", st.silenced_by},
             {"inhibitedBy", std::move(inhibited_by)},
             {"mutedBy", json::array()}};
  return true;
}

json Api::alert_json(const routing::Alert& a, json status, const std::vector<std::string>& receivers) const {
  json rs = json::array();
  for (const std::string& r : receivers) rs.push_back(json{{"name", r}});
  json o{{"annotations", labels_json(a.annotations)},
         {"endsAt", api_time(a.ends_at)},
         {"fingerprint", fingerprint_string(a.fingerprint())},
         {"receivers", std::move(rs)},
         {"startsAt", api_time(a.starts_at)},
         {"status", std::move(status)},
         {"updatedAt", api_time(a.updated_at)},
         {"labels", labels_json(a.labels)}};
  if (!a.generator_url.empty()) o["generatorURL"] = a.generator_url;
  return o;
}

Response Api::get_alerts(const Request& req) const {
  auto q = alert_query(req, false);
  if (!q) return string_answer(400, q.error().message);
  auto cfg = ctx_.router.config();
  auto root = ctx_.router.route_tree();
  const Millis now = ctx_.clock.now();
  std::vector<std::pair<uint64_t, json>> found;
  for (const auto& a : ctx_.router.alerts().list()) {
    if (a->ends_at != 0 && a->ends_at < now) continue;
    std::vector<std::string> receivers;
    for (const routing::Route* r : root->match(a->labels)) receivers.push_back(r->options().receiver);
    if (q->receiver && std::ranges::none_of(receivers, [&](const std::string& r) { return q->receiver->matches(r); }))
      continue;
    if (!q->receiver_matchers.empty() &&
        std::ranges::none_of(receivers, [&](const std::string& r) { return receiver_labels_match(*q, r, *cfg); }))
      continue;
    if (!filter_matches(q->filter, a->labels)) continue;
    json status;
    if (!status_passes(*q, *a, status)) continue;
    found.emplace_back(a->fingerprint(), alert_json(*a, std::move(status), receivers));
  }
  std::ranges::sort(found, {}, &std::pair<uint64_t, json>::first);
  json out = json::array();
  for (auto& [fp, j] : found) out.push_back(std::move(j));
  return ok(out);
}

Response Api::groups(const Request& req) const {
  auto q = alert_query(req, true);
  if (!q) return string_answer(400, q.error().message);
  auto cfg = ctx_.router.config();
  auto root = ctx_.router.route_tree();  // keeps the groups' routes alive
  auto intervals = cfg->time_interval_set();
  const Millis now = ctx_.clock.now();

  struct Found {
    const routing::Dispatcher::GroupInfo* group;
    std::vector<std::pair<const routing::Alert*, json>> alerts;  // with their status
    json muted_by;
  };
  auto groups = ctx_.router.groups();
  std::vector<Found> found;
  std::map<uint64_t, std::vector<std::string>> receivers;  // per alert, over all groups shown
  for (const auto& g : groups) {
    const routing::RouteOptions& opts = g.route->options();
    if (q->receiver && !q->receiver->matches(opts.receiver)) continue;
    if (!receiver_labels_match(*q, opts.receiver, *cfg)) continue;
    // Muted by a time interval: inside a mute interval, or outside every
    // active one.
    json muted_by = json::array();
    if (auto in = intervals.active(opts.mute_time_intervals, now)) {
      for (auto& n : *in) muted_by.push_back(n);
    }
    if (!opts.active_time_intervals.empty()) {
      auto in = intervals.active(opts.active_time_intervals, now);
      if (in && in->empty())
        for (const auto& n : opts.active_time_intervals) muted_by.push_back(n);
    }
    if (!q->muted && !muted_by.empty()) continue;
    Found f{&g, {}, std::move(muted_by)};
    for (const auto& a : g.alerts) {
      if (a->ends_at != 0 && a->ends_at < now) continue;
      if (!filter_matches(q->filter, a->labels)) continue;
      json status;
      if (!status_passes(*q, *a, status)) continue;
      status["mutedBy"] = f.muted_by;
      receivers[a->fingerprint()].push_back(opts.receiver);
      f.alerts.emplace_back(a.get(), std::move(status));
    }
    if (!f.alerts.empty()) found.push_back(std::move(f));
  }
  for (auto& [fp, rs] : receivers) std::sort(rs.begin(), rs.end());
  std::ranges::sort(found, [](const Found& a, const Found& b) {
    if (a.group->labels == b.group->labels)
      return a.group->route->options().receiver < b.group->route->options().receiver;
    return routing::labels_before(a.group->labels, b.group->labels);
  });
  json out = json::array();
  for (Found& f : found) {
    std::ranges::sort(f.alerts, [](const auto& a, const auto& b) { return routing::alert_before(*a.first, *b.first); });
    json alerts = json::array();
    for (auto& [a, status] : f.alerts) alerts.push_back(alert_json(*a, std::move(status), receivers[a->fingerprint()]));
    out.push_back(json{{"labels", labels_json(f.group->labels)},
                       {"routeLabels", labels_json(f.group->route->options().labels)},
                       {"receiver", json{{"name", f.group->route->options().receiver}}},
                       {"alerts", std::move(alerts)}});
  }
  return ok(out);
}

std::vector<std::string> Api::store(std::vector<routing::Alert> alerts) const {
  const Millis now = ctx_.clock.now();
  const Millis resolve_timeout = ctx_.router.config()->global.resolve_timeout;
  std::vector<std::string> errors;
  std::vector<routing::Alert> valid;
  for (routing::Alert& a : alerts) {
    // Without an end the alert ends a resolve timeout from now: a start
    // after that is a start after the end, as upstream checks it.
    if (a.ends_at == 0 && a.starts_at > now + resolve_timeout) {
      errors.emplace_back("start time must be before end time");
      continue;
    }
    valid.push_back(std::move(a));
  }
  size_t stored = valid.size();
  for (const Error& e : ctx_.router.put_alerts(std::move(valid))) {
    errors.push_back(e.message);
    --stored;
  }
  if (stored > 0 && ctx_.on_alerts) ctx_.on_alerts();
  return errors;
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
    a.annotations = Labels(*ann).to_vector();
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

Response Api::post_alerts(const Request& req) const {
  auto body = parse_body(req, ctx_.max_body);
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
  auto errors = store(std::move(alerts));
  if (!errors.empty()) return string_answer(400, fmt::format("{}", fmt::join(errors, "; ")));
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
  auto errors = store(std::move(alerts));
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
  return json{{"id", s.id},
              {"status", json{{"state", routing::silence_state_string(shown_state(s, now))}}},
              {"updatedAt", api_time(s.updated_at)},
              {"matchers", std::move(matchers)},
              {"startsAt", api_time(s.starts_at)},
              {"endsAt", api_time(s.ends_at)},
              {"createdBy", s.created_by},
              {"comment", s.comment},
              {"annotations", json::object()}};
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
  if (!id) return string_answer(id.error().message == "silence not found" ? 404 : 400, id.error().message);
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
  if (!r) return r.error().message == "silence not found" ? Response::json(404, "") : string_answer(500, r.error().message);
  return ok_empty();
}

std::string Api::config_original() const {
  if (ctx_.config_original) return ctx_.config_original();
  const std::string& path = ctx_.router.config()->path;
  if (path.empty()) return "";
  auto text = read_file(path);
  if (!text) return "";
  auto shown = routing::redacted_config_yaml(*text);
  return shown ? *shown : std::string();
}

Response Api::status(const Request&) const {
  json version{{"version", build::kVersion}, {"revision", build::kCommit}, {"branch", ""},
               {"buildUser", ""},           {"buildDate", build::kDate},  {"goVersion", "none (C++, " __VERSION__ ")"}};
  return ok(json{{"cluster", json{{"status", "disabled"}, {"peers", json::array()}}},
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

}  // namespace

void add_alertmanager_api(Routes& routes, AlertmanagerApiContext ctx) {
  auto api = std::make_shared<const Api>(std::move(ctx));
  auto bind = [api](Response (Api::*fn)(const Request&) const) {
    return [api, fn](const Request& req) { return ((*api).*fn)(req); };
  };
  routes.add("GET", "/api/v2/status", bind(&Api::status));
  routes.add("GET", "/api/v2/receivers", bind(&Api::receivers));
  routes.add("GET", "/api/v2/alerts", bind(&Api::get_alerts));
  routes.add("POST", "/api/v2/alerts", bind(&Api::post_alerts));
  routes.add("GET", "/api/v2/alerts/groups", bind(&Api::groups));
  routes.add("GET", "/api/v2/silences", bind(&Api::get_silences));
  routes.add("POST", "/api/v2/silences", bind(&Api::post_silence));
  routes.add("GET", "/api/v2/silence/{silenceID}", bind(&Api::get_silence));
  routes.add("DELETE", "/api/v2/silence/{silenceID}", bind(&Api::delete_silence));
  routes.add("POST", "/api/v1/intake/webhook", bind(&Api::webhook));
}

}  // namespace vigil::server
