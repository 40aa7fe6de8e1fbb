#include "server/prometheus_api.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cmath>
#include <optional>
#include <set>
#include <utility>

#include <openssl/evp.h>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "model/build_info.h"
#include "model/duration.h"
#include "model/go_format.h"
#include "model/json_object.h"
#include "model/timestamp.h"
#include "net/http_client.h"
#include "net/url.h"
#include "promql/parser.h"

namespace vigil::server {

using storage::target_health_name;

using json = nlohmann::ordered_json;

std::string prom_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Prometheus' jsonutil.MarshalFloat: Go's shortest form, with an exponent
  // below 1e-6 and from 1e21 ("1e-07", "1e+21").
  const double a = std::fabs(v);
  return go_format_float(v, a != 0 && (a < 1e-6 || a >= 1e21) ? 'e' : 'f', -1);
}

double prom_time(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

Result<int64_t> parse_time_param(std::string_view s) {
  double secs = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), secs);
  if (ec == std::errc() && p == s.data() + s.size() && std::isfinite(secs)) {
    return static_cast<int64_t>(std::llround(secs * 1000.0));
  }
  auto t = parse_rfc3339(s);
  if (!t) return fail(fmt::format("cannot parse \"{}\" to a valid timestamp", s));
  return *t;
}

Result<int64_t> parse_duration_param(std::string_view s) {
  double secs = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), secs);
  if (ec == std::errc() && p == s.data() + s.size()) {
    if (!std::isfinite(secs) || secs * 1000.0 > 9e18) return fail(fmt::format("cannot parse \"{}\" to a valid duration. It overflows int64", s));
    return static_cast<int64_t>(std::llround(secs * 1000.0));
  }
  auto d = parse_duration(s);
  if (!d) return fail(fmt::format("cannot parse \"{}\" to a valid duration", s));
  return *d;
}

namespace {

Response ok(json data) {
  json out;
  out["status"] = "success";
  out["data"] = std::move(data);
  return Response::json(200, out.dump(-1, ' ', false, json::error_handler_t::replace));
}

Response error(int status, std::string_view type, std::string_view message) {
  json out;
  out["status"] = "error";
  out["errorType"] = type;
  out["error"] = message;
  return Response::json(status, out.dump(-1, ' ', false, json::error_handler_t::replace));
}

Response bad_data(std::string_view message) { return error(400, "bad_data", message); }

json labels_json(const Labels& ls) { return object_of_distinct(ls); }


Result<int64_t> time_or(const Request& r, std::string_view name, int64_t dflt) {
  auto v = r.param(name);
  if (!v || v->empty()) return dflt;
  auto t = parse_time_param(*v);
  if (!t) return fail(fmt::format("invalid parameter \"{}\": {}", name, t.error().message));
  return *t;
}

}  // namespace

Result<std::vector<std::vector<Matcher>>> selectors(const Request& r) {
  std::vector<std::vector<Matcher>> out;
  for (const auto& m : r.params_named("match[]")) {
    auto e = promql::parse_expr(m);
    if (!e) return fail(fmt::format("invalid parameter \"match[]\": {}", promql::format_parse_error(e.error())));
    if ((*e)->kind != promql::ExprKind::kVectorSelector) {
      return fail(fmt::format("invalid parameter \"match[]\": \"{}\" is not a series selector", m));
    }
    out.push_back(static_cast<const promql::VectorSelector&>(**e).matchers);
  }
  return out;
}

namespace {

// Series refs matching any selector, with a sample within [start, end].
std::vector<storage::SeriesRef> select_any(const storage::MemoryStore& store,
                                           const std::vector<std::vector<Matcher>>& sels, int64_t start,
                                           int64_t end) {
  std::set<storage::SeriesRef> refs;
  for (const auto& ms : sels) {
    for (auto ref : store.select(ms)) {
      if (store.get(ref).has_sample_in(start, end)) refs.insert(ref);
    }
  }
  return {refs.begin(), refs.end()};
}

// A native histogram as Prometheus writes it: count, sum and the populated
// buckets as [boundary rule, lower, upper, count], the rule saying which
// bounds are inclusive (0: upper only, 1: lower only, 2: neither, 3: both).
json histogram_json(const FloatHistogram& h) {
  json buckets = json::array();
  for (const auto& b : h.buckets()) {
    if (b.count == 0) continue;
    int rule = b.lower_inclusive ? (b.upper_inclusive ? 3 : 1) : (b.upper_inclusive ? 0 : 2);
    buckets.push_back({rule, prom_value(b.lower), prom_value(b.upper), prom_value(b.count)});
  }
  json o = {{"count", prom_value(h.count)}, {"sum", prom_value(h.sum)}};
  if (!buckets.empty()) o["buckets"] = std::move(buckets);
  return o;
}

json value_json(const promql::Value& v) {
  json data;
  if (auto* vec = std::get_if<promql::Vector>(&v)) {
    data["resultType"] = "vector";
    json res = json::array();
    for (const auto& s : *vec) {
      if (s.h) {
        res.push_back({{"metric", labels_json(s.labels)}, {"histogram", {prom_time(s.t), histogram_json(*s.h)}}});
      } else {
        res.push_back({{"metric", labels_json(s.labels)}, {"value", {prom_time(s.t), prom_value(s.value)}}});
      }
    }
    data["result"] = std::move(res);
  } else if (auto* m = std::get_if<promql::Matrix>(&v)) {
    data["resultType"] = "matrix";
    json res = json::array();
    for (const auto& s : *m) {
      json values = json::array(), histograms = json::array();
      for (size_t i = 0; i < s.t.size(); ++i) {
        if (!s.h.empty() && s.h[i]) {
          histograms.push_back({prom_time(s.t[i]), histogram_json(*s.h[i])});
        } else {
          values.push_back({prom_time(s.t[i]), prom_value(s.v[i])});
        }
      }
      // As Prometheus: each array only when the series has such points.
      json series = {{"metric", labels_json(s.labels)}};
      if (!values.empty() || histograms.empty()) series["values"] = std::move(values);
      if (!histograms.empty()) series["histograms"] = std::move(histograms);
      res.push_back(std::move(series));
    }
    data["result"] = std::move(res);
  } else if (auto* sc = std::get_if<promql::Scalar>(&v)) {
    data["resultType"] = "scalar";
    // Prometheus writes a scalar with promql.Scalar's own MarshalJSON: never
    // an exponent, unlike samples.
    data["result"] = {prom_time(sc->t), go_format_float(sc->value, 'f', -1)};
  } else if (auto* st = std::get_if<promql::String>(&v)) {
    data["resultType"] = "string";
    data["result"] = {prom_time(st->t), st->value};
  }
  return data;
}

std::string health_name(const rules::RuleHealth& h) {
  if (h.last_eval == 0) return "unknown";
  return h.ok ? "ok" : "err";
}

json alert_json(const rules::Alert& a) {
  json o;
  o["labels"] = labels_json(a.labels);
  o["annotations"] = labels_json(a.annotations);
  o["state"] = std::string(rules::alert_state_name(a.state));
  o["activeAt"] = format_rfc3339(a.active_at);
  if (a.keep_firing_since != 0) o["keepFiringSince"] = format_rfc3339(a.keep_firing_since);
  o["value"] = go_format_float(a.value, 'e', -1);
  return o;
}

// The rule's own labels and annotations, unexpanded, as the rules API shows.
json pairs_json(const std::vector<Label>& ls) {
  json o = json::object();
  std::vector<Label> sorted(ls.begin(), ls.end());
  std::sort(sorted.begin(), sorted.end(), [](const Label& a, const Label& b) { return a.name < b.name; });
  for (const auto& l : sorted) o[l.name] = l.value;
  return o;
}

bool wanted(const std::vector<std::string>& filter, const std::string& v) {
  return filter.empty() || std::find(filter.begin(), filter.end(), v) != filter.end();
}

// What a /api/v1/rules request asks for, checked as Prometheus 3.x checks it.
struct RulesQuery {
  std::string type;  // "", "alert" or "record"
  std::vector<std::string> names, groups, files;
  std::vector<std::vector<Matcher>> match;  // ORed sets of ANDed matchers on the rule's labels
  bool exclude_alerts = false;
  int64_t group_limit = 0;  // 0: no pagination
  std::string next_token;
};

// Go's strconv.ParseBool, after the lower-casing Prometheus applies.
std::optional<bool> parse_go_bool(std::string_view s) {
  if (s == "1" || s == "t" || s == "true") return true;
  if (s == "0" || s == "f" || s == "false") return false;
  return std::nullopt;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Result<RulesQuery> parse_rules_query(const Request& r) {
  RulesQuery q;
  q.names = r.params_named("rule_name[]");
  q.groups = r.params_named("rule_group[]");
  q.files = r.params_named("file[]");
  // Parsed as Prometheus' ParseMetricSelector: a selector whose matchers all
  // match the empty string is refused by the check below, in its words.
  promql::ParseOptions selector;
  selector.allow_empty_selectors = true;
  for (const auto& m : r.params_named("match[]")) {
    auto e = promql::parse_expr(m, selector);
    if (!e) return fail(promql::format_parse_error(e.error()));
    if ((*e)->kind != promql::ExprKind::kVectorSelector) {
      return fail(fmt::format("\"{}\" is not a series selector", m));
    }
    const auto& ms = static_cast<const promql::VectorSelector&>(**e).matchers;
    bool all_match_empty = std::all_of(ms.begin(), ms.end(), [](const Matcher& x) { return x.matches(""); });
    if (all_match_empty) return fail("match[] must contain at least one non-empty matcher");
    q.match.push_back(ms);
  }
  q.type = lower(r.param("type").value_or(""));
  if (!q.type.empty() && q.type != "alert" && q.type != "record") {
    return fail(fmt::format("invalid parameter \"type\": not supported value \"{}\"", q.type));
  }
  if (std::string ex = lower(r.param("exclude_alerts").value_or("")); !ex.empty()) {
    auto b = parse_go_bool(ex);
    if (!b) {
      return fail(fmt::format("invalid parameter \"exclude_alerts\": error converting exclude_alerts: "
                              "strconv.ParseBool: parsing \"{}\": invalid syntax",
                              ex));
    }
    q.exclude_alerts = *b;
  }
  std::string limit = r.param("group_limit").value_or("");
  q.next_token = r.param("group_next_token").value_or("");
  if (!q.next_token.empty() && limit.empty()) {
    return fail("invalid parameter \"group_next_token\": group_limit needs to be present in order to paginate "
                "over the groups");
  }
  if (!limit.empty()) {
    // Go's strconv.ParseInt(s, 10, 32): an optional sign, then digits only.
    int64_t n = 0;
    std::string_view digits = limit;
    if (digits.front() == '+' || digits.front() == '-') digits.remove_prefix(1);
    const auto parsed =
        std::from_chars(limit.data() + (limit.front() == '+' ? 1 : 0), limit.data() + limit.size(), n);
    const bool syntax = !digits.empty() && std::all_of(digits.begin(), digits.end(), [](char c) {
      return c >= '0' && c <= '9';
    });
    if (!syntax) {
      return fail(fmt::format("invalid parameter \"group_limit\": group_limit needs to be a valid number: "
                              "strconv.ParseInt: parsing \"{}\": invalid syntax",
                              limit));
    }
    if (parsed.ec != std::errc() || n > INT32_MAX || n < INT32_MIN) {
      return fail(fmt::format("invalid parameter \"group_limit\": group_limit needs to be a valid number: "
                              "strconv.ParseInt: parsing \"{}\": value out of range",
                              limit));
    }
    if (n <= 0) return fail("invalid parameter \"group_limit\": group_limit needs to be greater than 0");
    q.group_limit = n;
  }
  return q;
}

// Prometheus' group_next_token: the hex SHA-1 of "file;group".
std::string group_token(const std::string& file, const std::string& group) {
  const std::string in = file + ";" + group;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(in.data(), in.size(), digest, &len, EVP_sha1(), nullptr);
  std::string out;
  for (unsigned int i = 0; i < len; ++i) out += fmt::format("{:02x}", digest[i]);
  return out;
}

// A rule's labels as the API shows and match[] sees them: the group's
// labels, overridden by the rule's own.
std::vector<Label> rule_labels(const rules::RuleGroup& g, const rules::Rule& rule) {
  std::vector<Label> out = rule.labels;
  for (const auto& gl : g.labels) {
    bool overridden = std::any_of(out.begin(), out.end(), [&](const Label& l) { return l.name == gl.name; });
    if (!overridden) out.push_back(gl);
  }
  return out;
}

bool matches_any(const std::vector<std::vector<Matcher>>& sets, const std::vector<Label>& ls) {
  if (sets.empty()) return true;
  auto get = [&ls](const std::string& name) -> std::string_view {
    for (const auto& l : ls) {
      if (l.name == name) return l.value;
    }
    return {};
  };
  return std::any_of(sets.begin(), sets.end(), [&](const std::vector<Matcher>& ms) {
    return std::all_of(ms.begin(), ms.end(), [&](const Matcher& m) { return m.matches(get(m.name())); });
  });
}

json rule_json(const rules::RuleStatus& rs, const std::vector<Label>& labels, bool exclude_alerts) {
  const rules::Rule& rule = *rs.rule;
  json o;
  if (rule.is_alert()) {
    std::string state = "inactive";
    for (const auto& a : rs.alerts) {
      if (a.state == rules::AlertState::kFiring) {
        state = "firing";
        break;
      }
      if (a.state == rules::AlertState::kPending) state = "pending";
    }
    o["state"] = state;
    o["name"] = rule.name;
    o["query"] = rule.expr;
    o["duration"] = static_cast<double>(rule.for_duration) / 1000.0;
    o["keepFiringFor"] = static_cast<double>(rule.keep_firing_for) / 1000.0;
    o["labels"] = pairs_json(labels);
    o["annotations"] = pairs_json(rule.annotations);
    if (!exclude_alerts) {
      json alerts = json::array();
      for (const auto& a : rs.alerts) {
        if (a.state != rules::AlertState::kInactive) alerts.push_back(alert_json(a));
      }
      o["alerts"] = std::move(alerts);
    }
  } else {
    o["name"] = rule.name;
    o["query"] = rule.expr;
    o["labels"] = pairs_json(labels);
  }
  o["health"] = health_name(rs.health);
  o["lastError"] = rs.health.last_error;
  o["evaluationTime"] = rs.health.last_duration_seconds;
  o["lastEvaluation"] = rs.health.last_eval ? format_rfc3339(rs.health.last_eval) : "0001-01-01T00:00:00Z";
  o["type"] = rule.is_alert() ? "alerting" : "recording";
  return o;
}

// Prometheus 3.x's rules endpoint: groups ordered by file, then name; rule
// filters by name, group, file, type and match[] on the rule's labels; a group
// whose rules are all filtered out is left out; group_limit pages through the
// groups, the token naming the first group of the next page.
Response rules_handler(const PrometheusApiContext& ctx, const Request& r) {
  auto q = parse_rules_query(r);
  if (!q) return bad_data(q.error().message);
  auto statuses = ctx.rules->status();
  std::stable_sort(statuses.begin(), statuses.end(), [](const rules::GroupStatus& a, const rules::GroupStatus& b) {
    if (a.file->path != b.file->path) return a.file->path < b.file->path;
    return a.group->name < b.group->name;
  });
  json groups = json::array();
  std::string next_token;
  bool found_token = q->next_token.empty();
  for (const auto& g : statuses) {
    if (!found_token) {
      if (group_token(g.file->path, g.group->name) != q->next_token) continue;
      found_token = true;
    }
    if (!wanted(q->groups, g.group->name) || !wanted(q->files, g.file->path)) continue;
    json rules = json::array();
    for (const auto& rs : g.rules) {
      const rules::Rule& rule = *rs.rule;
      if (!wanted(q->names, rule.name)) continue;
      if (q->type == "alert" && !rule.is_alert()) continue;
      if (q->type == "record" && rule.is_alert()) continue;
      std::vector<Label> labels = rule_labels(*g.group, rule);
      if (!matches_any(q->match, labels)) continue;
      rules.push_back(rule_json(rs, labels, q->exclude_alerts));
    }
    if (rules.empty()) continue;
    if (q->group_limit > 0 && std::cmp_equal(groups.size(), q->group_limit)) {
      next_token = group_token(g.file->path, g.group->name);
      break;
    }
    json go;
    go["name"] = g.group->name;
    go["file"] = g.file->path;
    go["rules"] = std::move(rules);
    go["interval"] = static_cast<double>(g.interval) / 1000.0;
    go["limit"] = g.group->limit;
    go["evaluationTime"] = g.last_duration_seconds;
    go["lastEvaluation"] = g.last_eval ? format_rfc3339(g.last_eval) : "0001-01-01T00:00:00Z";
    groups.push_back(std::move(go));
  }
  if (!found_token) {
    return bad_data(fmt::format("invalid parameter \"group_next_token\": invalid group_next_token '{}'. were rule "
                                "groups changed?",
                                q->next_token));
  }
  json data;
  data["groups"] = std::move(groups);
  if (!next_token.empty()) data["groupNextToken"] = next_token;
  return ok(std::move(data));
}

Response alerts_handler(const PrometheusApiContext& ctx) {
  json alerts = json::array();
  for (const auto& g : ctx.rules->status()) {
    for (const auto& rs : g.rules) {
      for (const auto& a : rs.alerts) {
        if (a.state != rules::AlertState::kInactive) alerts.push_back(alert_json(a));
      }
    }
  }
  return ok({{"alerts", std::move(alerts)}});
}

Response not_embedded() {
  return error(422, "execution",
               "this vigil evaluates rules through a remote Prometheus (--datasource.url): query that server");
}

promql::EngineOptions with_timeout(promql::EngineOptions opts, const Request& r, Result<void>& err) {
  if (auto t = r.param("timeout"); t && !t->empty()) {
    auto d = parse_duration_param(*t);
    if (!d) {
      err = fail(fmt::format("invalid parameter \"timeout\": {}", d.error().message));
      return opts;
    }
    auto ms = std::chrono::milliseconds(*d);
    if (ms < opts.timeout) opts.timeout = ms;
  }
  return opts;
}

// The engine's error as Prometheus' API answers it: a timeout 503, a
// cancellation (shutdown) 499, anything else (too many samples included) 422.
Response query_error(const Error& e) {
  std::string_view m = e.message;
  if (m.starts_with("query timed out in ")) return error(503, "timeout", m);
  if (m.starts_with("query was canceled in ")) return error(499, "canceled", m);
  return error(422, "execution", m);
}

Response query_handler(const PrometheusApiContext& ctx, const Request& r) {
  if (!ctx.store) return ctx.datasource ? ctx.datasource("/api/v1/query", r) : not_embedded();
  auto q = r.param("query");
  if (!q) return bad_data("invalid parameter \"query\": query must not be empty");
  auto t = time_or(r, "time", ctx.clock->now());
  if (!t) return bad_data(t.error().message);
  Result<void> terr;
  auto opts = with_timeout(ctx.engine, r, terr);
  if (!terr) return bad_data(terr.error().message);
  auto e = promql::parse_expr(*q);
  if (!e) return bad_data("invalid parameter \"query\": " + promql::format_parse_error(e.error()));
  promql::Engine engine(opts);
  std::shared_lock lock(*ctx.store_mu);
  auto res = engine.instant(*ctx.store, **e, *t);
  lock.unlock();
  if (!res) return query_error(res.error());
  json data = value_json(res->value);
  Response out = ok(std::move(data));
  return out;
}

Response query_range_handler(const PrometheusApiContext& ctx, const Request& r) {
  if (!ctx.store) return ctx.datasource ? ctx.datasource("/api/v1/query_range", r) : not_embedded();
  auto q = r.param("query");
  if (!q) return bad_data("invalid parameter \"query\": query must not be empty");
  auto sp = r.param("start"), ep = r.param("end"), stp = r.param("step");
  if (!sp) return bad_data("invalid parameter \"start\": missing");
  if (!ep) return bad_data("invalid parameter \"end\": missing");
  if (!stp) return bad_data("invalid parameter \"step\": missing");
  auto start = parse_time_param(*sp);
  if (!start) return bad_data("invalid parameter \"start\": " + start.error().message);
  auto end = parse_time_param(*ep);
  if (!end) return bad_data("invalid parameter \"end\": " + end.error().message);
  if (*end < *start) return bad_data("end timestamp must not be before start time");
  auto step = parse_duration_param(*stp);
  if (!step) return bad_data("invalid parameter \"step\": " + step.error().message);
  if (*step <= 0) {
    return bad_data("zero or negative query resolution step widths are not accepted. Try a positive integer");
  }
  if ((*end - *start) / *step > 11000) {
    return bad_data("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)");
  }
  Result<void> terr;
  auto opts = with_timeout(ctx.engine, r, terr);
  if (!terr) return bad_data(terr.error().message);
  auto e = promql::parse_expr(*q);
  if (!e) return bad_data("invalid parameter \"query\": " + promql::format_parse_error(e.error()));
  if ((*e)->type() != promql::ValueType::kVector && (*e)->type() != promql::ValueType::kScalar) {
    return bad_data(fmt::format("invalid expression type \"{}\" for range query, must be Scalar or instant Vector",
                                promql::documented_type_name((*e)->type())));
  }
  promql::Engine engine(opts);
  std::shared_lock lock(*ctx.store_mu);
  auto res = engine.range(*ctx.store, **e, *start, *end, *step);
  lock.unlock();
  if (!res) return query_error(res.error());
  return ok(value_json(res->value));
}

constexpr int64_t kMinTime = std::numeric_limits<int64_t>::min() / 2;
constexpr int64_t kMaxTime = std::numeric_limits<int64_t>::max() / 2;

Response series_handler(const PrometheusApiContext& ctx, const Request& r) {
  if (!ctx.store) return not_embedded();
  auto sels = selectors(r);
  if (!sels) return bad_data(sels.error().message);
  if (sels->empty()) return bad_data("no match[] parameter provided");
  auto start = time_or(r, "start", kMinTime);
  if (!start) return bad_data(start.error().message);
  auto end = time_or(r, "end", kMaxTime);
  if (!end) return bad_data(end.error().message);
  json out = json::array();
  std::shared_lock lock(*ctx.store_mu);
  for (auto ref : select_any(*ctx.store, *sels, *start, *end)) out.push_back(labels_json(ctx.store->get(ref).labels));
  return ok(std::move(out));
}

Response labels_handler(const PrometheusApiContext& ctx, const Request& r, const std::string* name) {
  if (!ctx.store) return not_embedded();
  auto sels = selectors(r);
  if (!sels) return bad_data(sels.error().message);
  auto start = time_or(r, "start", kMinTime);
  if (!start) return bad_data(start.error().message);
  auto end = time_or(r, "end", kMaxTime);
  if (!end) return bad_data(end.error().message);
  std::set<std::string> out;
  std::shared_lock lock(*ctx.store_mu);
  if (sels->empty() && *start == kMinTime && *end == kMaxTime) {
    if (name) {
      for (auto& v : ctx.store->label_values(*name)) out.insert(std::move(v));
    } else {
      for (auto& n : ctx.store->label_names()) out.insert(std::move(n));
    }
  } else {
    if (sels->empty()) sels->push_back(std::vector<Matcher>{*Matcher::make(MatchType::kRegex, "__name__", ".+")});
    for (auto ref : select_any(*ctx.store, *sels, *start, *end)) {
      for (const auto& l : ctx.store->get(ref).labels) {
        if (name) {
          if (l.name == *name) out.insert(std::string(l.value));
        } else {
          out.insert(std::string(l.name));
        }
      }
    }
  }
  lock.unlock();
  json arr = json::array();
  for (const auto& s : out) arr.push_back(s);
  return ok(std::move(arr));
}

Response targets_handler(const PrometheusApiContext& ctx, const Request& r) {
  std::string state = r.param("state").value_or("any");
  json active = json::array(), dropped = json::array();
  if (ctx.scraper) {
    for (const auto& t : ctx.scraper->active_targets()) {
      json o;
      o["discoveredLabels"] = labels_json(t.discovered_labels);
      o["labels"] = labels_json(t.labels);
      o["scrapePool"] = t.scrape_pool;
      o["scrapeUrl"] = t.scrape_url;
      o["globalUrl"] = t.global_url;
      o["lastError"] = t.last_error;
      o["lastScrape"] = t.last_scrape ? format_rfc3339(t.last_scrape) : "0001-01-01T00:00:00Z";
      o["lastScrapeDuration"] = static_cast<double>(t.last_scrape_duration) / 1000.0;
      o["health"] = std::string(target_health_name(t.health));
      o["scrapeInterval"] = format_duration(t.scrape_interval);
      o["scrapeTimeout"] = format_duration(t.scrape_timeout);
      active.push_back(std::move(o));
    }
    for (const auto& t : ctx.scraper->dropped_targets()) {
      dropped.push_back({{"discoveredLabels", labels_json(t.discovered_labels)}, {"scrapePool", t.scrape_pool}});
    }
  }
  json data = json::object();
  if (state != "dropped") data["activeTargets"] = std::move(active);
  if (state != "active") data["droppedTargets"] = std::move(dropped);
  return ok(std::move(data));
}

}  // namespace

void add_prometheus_api(Routes& routes, PrometheusApiContext c) {
  auto ctx = std::make_shared<PrometheusApiContext>(std::move(c));
  routes.add("GET", "/api/v1/rules", [ctx](const Request& r) { return rules_handler(*ctx, r); });
  routes.add("GET", "/api/v1/alerts", [ctx](const Request&) { return alerts_handler(*ctx); });
  for (const char* m : {"GET", "POST"}) {
    routes.add(m, "/api/v1/query", [ctx](const Request& r) { return query_handler(*ctx, r); });
    routes.add(m, "/api/v1/query_range", [ctx](const Request& r) { return query_range_handler(*ctx, r); });
    routes.add(m, "/api/v1/series", [ctx](const Request& r) { return series_handler(*ctx, r); });
    routes.add(m, "/api/v1/labels", [ctx](const Request& r) { return labels_handler(*ctx, r, nullptr); });
  }
  routes.add("GET", "/api/v1/label/{name}/values", [ctx](const Request& r) {
    const std::string& name = r.path_params.at("name");
    return labels_handler(*ctx, r, &name);
  });
  routes.add("GET", "/api/v1/targets", [ctx](const Request& r) { return targets_handler(*ctx, r); });
  // Grafana asks for these when it adds a data source.
  routes.add("GET", "/api/v1/status/buildinfo", [](const Request&) {
    return ok({{"version", build::kVersion}, {"revision", build::kCommit}, {"branch", ""}, {"buildUser", ""},
               {"buildDate", build::kDate}, {"goVersion", ""}, {"application", "vigil"}});
  });
  routes.add("GET", "/api/v1/metadata", [](const Request&) { return ok(json::object()); });
}

Result<std::function<Response(std::string_view path, const Request&)>> datasource_proxy(
    const rules::RemoteQueryOptions& opts) {
  config::ConfigValue http = config::http_config_of(opts.http);
  auto made = net::HttpClient::create(&http);
  if (!made) return fail("datasource: " + made.error().message);
  std::shared_ptr<net::HttpClient> client = *made;
  std::string base = opts.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  Millis timeout = opts.timeout;
  return [client, base, timeout](std::string_view path, const Request& r) {
    net::HttpRequest req;
    req.method = "POST";
    req.url = base + std::string(path);
    req.content_type = "application/x-www-form-urlencoded";
    for (const auto& [k, v] : r.params) {
      if (!req.body.empty()) req.body += '&';
      req.body += net::url_query_escape(k) + "=" + net::url_query_escape(v);
    }
    req.timeout = timeout;
    req.max_body = size_t{256} << 20;
    req.redact_body = false;  // query results are data
    auto resp = client->send(req);
    if (!resp) return error(503, "unavailable", "datasource: " + resp.error().message);
    if (resp->truncated) return error(503, "unavailable", "datasource: the answer is larger than 256 MiB");
    Response out = Response::json(static_cast<int>(resp->status), std::move(resp->body));
    if (!resp->content_type.empty()) out.content_type = resp->content_type;
    return out;
  };
}

}  // namespace vigil::server
