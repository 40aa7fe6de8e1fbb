#include "routing/config.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "config/http_config.h"
#include "config/schema.h"
#include "model/file.h"
#include "model/names.h"
#include "model/yaml.h"
#include "routing/config_specs.h"
#include "routing/receivers.h"

namespace vigil::routing {

using config::ConfigValue;
using config::SchemaDecoder;
using config::check_http_config;
using config::check_tls_config;
using config::resolve_http_paths;

namespace {

using Errors = std::vector<Error>;

// Guards the route tree against stack exhaustion; YAML nesting is bounded
// too, but routes nest two YAML levels each.
constexpr int kMaxRouteDepth = 400;

void report(Errors& errors, const ConfigValue& at, std::string msg) {
  errors.push_back(Error{std::move(msg), at.line, at.column});
}

Position pos_of(const ConfigValue& v) { return {v.line, v.column}; }

std::vector<std::string> strings(const ConfigValue* list) {
  std::vector<std::string> out;
  if (list == nullptr || !list->is_list()) return out;
  for (const ConfigValue& v : list->items()) out.push_back(v.as_string());
  return out;
}

std::vector<Label> label_list(const ConfigValue* map) {
  std::vector<Label> out;
  if (map == nullptr || !map->is_map()) return out;
  for (const auto& [k, v] : map->entries()) out.push_back({k, v.as_string()});
  return out;
}

// Builds the typed sections from the decoded tree, with the checks upstream
// makes while decoding them.
class Builder {
 public:
  Builder(const LoadOptions& opts, Errors& errors, Errors* warnings = nullptr)
      : opts_(opts), errors_(errors), warnings_(warnings) {}

  // match, match_re and matchers (or source_/target_ variants) of one object.
  Matchers matchers(const ConfigValue& o, std::string_view match_key, std::string_view re_key,
                    std::string_view matchers_key) {
    std::vector<Matcher> ms;
    if (const ConfigValue* m = o.find(match_key); m && m->is_map()) {
      for (const auto& [name, value] : m->entries()) {
        if (!is_legacy_label_name(name)) {
          report(errors_, value, fmt::format("invalid label name \"{}\"", name));
          continue;
        }
        if (auto mm = make_matcher(MatchType::kEqual, name, value.as_string())) ms.push_back(std::move(*mm));
      }
    }
    if (const ConfigValue* m = o.find(re_key); m && m->is_map()) {
      for (const auto& [name, value] : m->entries()) {
        if (!is_legacy_label_name(name)) {
          report(errors_, value, fmt::format("invalid label name \"{}\"", name));
          continue;
        }
        if (value.is_null()) {
          report(errors_, value, fmt::format("invalid regexp value for \"{}\"", name));
          continue;
        }
        // Upstream keeps the anchored expression as the matcher's value.
        auto mm = make_matcher(MatchType::kRegex, name, "^(?:" + value.as_string() + ")$");
        if (!mm) {
          report(errors_, value, fmt::format("{}: {}", re_key, mm.error().message));
          continue;
        }
        ms.push_back(std::move(*mm));
      }
    }
    if (const ConfigValue* list = o.find(matchers_key); list && list->is_list()) {
      for (const ConfigValue& line : list->items()) {
        std::string warning;
        auto parsed = parse_matchers(line.as_string(), opts_.matcher_syntax, &warning);
        if (!parsed) {
          report(errors_, line, parsed.error().message);
          continue;
        }
        if (!warning.empty() && warnings_ != nullptr) report(*warnings_, line, warning);
        for (Matcher& m : *parsed) ms.push_back(std::move(m));
      }
    }
    return Matchers(std::move(ms));
  }

  RouteConfig route(const ConfigValue& o, int depth) {
    RouteConfig r;
    r.position = pos_of(o);
    if (depth > kMaxRouteDepth) {
      report(errors_, o, fmt::format("routes nested deeper than {} levels", kMaxRouteDepth));
      return r;
    }
    r.receiver = std::string(o.str("receiver"));
    if (const ConfigValue* rv = o.find("receiver")) r.receiver_position = pos_of(*rv);
    r.matchers = matchers(o, "match", "match_re", "matchers");
    if (const ConfigValue* labels = o.find("labels"); labels && labels->is_map()) {
      for (const auto& [k, v] : labels->entries())
        if (!is_valid_label_name(k, opts_.matcher_syntax))
          report(errors_, v, fmt::format("invalid label name \"{}\" in route labels", k));
      r.labels = label_list(labels);
    }
    if (const ConfigValue* gb = o.find("group_by"); gb && gb->is_list()) {
      std::vector<std::string> names;
      for (const ConfigValue& v : gb->items()) {
        const std::string& l = v.as_string();
        if (l == "...") {
          r.group_by_all = true;
        } else if (!is_valid_label_name(l, opts_.matcher_syntax)) {
          report(errors_, v, fmt::format("invalid label name \"{}\" in group_by list", l));
        } else if (std::find(names.begin(), names.end(), l) != names.end()) {
          report(errors_, v, fmt::format("duplicated label \"{}\" in group_by", l));
        } else {
          names.push_back(l);
        }
      }
      if (r.group_by_all && !names.empty())
        report(errors_, *gb, "cannot have wildcard group_by (`...`) and other labels at the same time");
      if (!r.group_by_all || !names.empty() || gb->items().empty()) r.group_by = std::move(names);
    }
    r.mute_time_intervals = strings(o.find("mute_time_intervals"));
    r.active_time_intervals = strings(o.find("active_time_intervals"));
    r.continue_matching = o.flag("continue");
    auto duration = [&](std::string_view key, bool nonzero) -> std::optional<Millis> {
      const ConfigValue* v = o.find(key);
      if (v == nullptr || v->is_null()) return std::nullopt;  // null: a nil pointer upstream
      if (nonzero && v->as_int() == 0) report(errors_, *v, fmt::format("{} cannot be zero", key));
      return v->as_int();
    };
    r.group_wait = duration("group_wait", false);
    r.group_interval = duration("group_interval", true);
    r.repeat_interval = duration("repeat_interval", true);
    if (const ConfigValue* children = o.find("routes"); children && children->is_list()) {
      for (const ConfigValue& c : children->items()) {
        // Upstream crashes on a null route; say what is wrong instead.
        if (c.is_null()) report(errors_, c, "empty route in routes");
        else r.routes.push_back(route(c, depth + 1));
      }
    }
    return r;
  }

  InhibitRuleConfig inhibit_rule(const ConfigValue& o) {
    InhibitRuleConfig ir;
    ir.position = pos_of(o);
    ir.name = std::string(o.str("name"));
    ir.source = matchers(o, "source_match", "source_match_re", "source_matchers");
    ir.target = matchers(o, "target_match", "target_match_re", "target_matchers");
    ir.equal = strings(o.find("equal"));
    if (const ConfigValue* eq = o.find("equal"); eq && eq->is_list())
      for (const ConfigValue& v : eq->items())
        if (!is_valid_label_name(v.as_string(), opts_.matcher_syntax))
          report(errors_, v, fmt::format("invalid label name \"{}\" in equal list", v.as_string()));
    return ir;
  }

  std::optional<std::vector<InclusiveRange>> ranges(const ConfigValue& o, std::string_view key,
                                                    Result<InclusiveRange> (*parse)(std::string_view)) {
    const ConfigValue* list = o.find(key);
    if (list == nullptr || !list->is_list()) return std::nullopt;
    std::vector<InclusiveRange> out;
    for (const ConfigValue& v : list->items()) {
      auto r = parse(v.as_string());
      if (!r) report(errors_, v, fmt::format("{}: {}", key, r.error().message));
      else out.push_back(*r);
    }
    return out;
  }

  TimeInterval time_interval(const ConfigValue& o) {
    TimeInterval ti;
    if (const ConfigValue* times = o.find("times"); times && times->is_list()) {
      ti.times.emplace();
      for (const ConfigValue& t : times->items()) {
        auto r = parse_time_range(t.str("start_time"), t.str("end_time"));
        if (!r) report(errors_, t, fmt::format("times: {}", r.error().message));
        else ti.times->push_back(*r);
      }
    }
    ti.weekdays = ranges(o, "weekdays", parse_weekday_range);
    ti.days_of_month = ranges(o, "days_of_month", parse_day_of_month_range);
    ti.months = ranges(o, "months", parse_month_range);
    ti.years = ranges(o, "years", parse_year_range);
    if (const ConfigValue* loc = o.find("location"); loc && !loc->is_null()) {
      ti.location_name = loc->as_string();
      auto tz = load_location(ti.location_name);
      if (!tz) report(errors_, *loc, fmt::format("location: {}", tz.error().message));
      else ti.location = *tz;
    }
    return ti;
  }

  TimeIntervalConfig named_intervals(const ConfigValue& o, bool mute) {
    TimeIntervalConfig tc;
    tc.position = pos_of(o);
    tc.name = std::string(o.str("name"));
    if (tc.name.empty())
      report(errors_, o, mute ? "missing name in mute time interval" : "missing name in time interval");
    if (const ConfigValue* list = o.find("time_intervals"); list && list->is_list())
      for (const ConfigValue& v : list->items())
        tc.intervals.push_back(v.is_null() ? TimeInterval{} : time_interval(v));
    return tc;
  }

  ReceiverConfig receiver(const ConfigValue& o, const ConfigValue& global) {
    ReceiverConfig rc;
    rc.position = pos_of(o);
    rc.name = std::string(o.str("name"));
    if (rc.name.empty()) report(errors_, o, "missing name in receiver");
    rc.labels = label_list(o.find("labels"));
    bool named = false;
    for (const Label& l : rc.labels) {
      if (l.name != "name") continue;
      named = true;
      if (l.value != rc.name)
        report(errors_, *o.find("labels")->find("name"),
               fmt::format("receiver label \"name\" must match receiver name \"{}\", got \"{}\"",
                           rc.name, l.value));
    }
    if (!named) rc.labels.push_back({"name", rc.name});
    rc.integrations = build_integrations(o, global, errors_);
    return rc;
  }

  void check_tracing(const ConfigValue& t) {
    if (!t.is_map()) return;
    std::string_view type = t.str("client_type");
    if (type != "http" && type != "grpc")
      report(errors_, t, fmt::format("expected tracing client type to be to be http or grpc, but got {}", type));
    if (!t.has("endpoint")) report(errors_, t, "tracing endpoint must be set");
    std::string_view c = t.str("compression");
    if (!c.empty() && c != "gzip")
      report(errors_, t, fmt::format("invalid compression type {} provided, valid options: gzip", c));
    if (const ConfigValue* tls = t.find("tls_config")) check_tls_config(*tls, errors_);
  }

  void check_event_recorder(ConfigValue& er) {
    if (!er.is_map()) return;
    auto each = [&](std::string_view key, auto fn) {
      if (ConfigValue* list = er.find(key); list && list->is_list())
        for (ConfigValue& o : list->items()) fn(o);
    };
    each("file_outputs", [&](ConfigValue& o) {
      if (!o.has("path")) report(errors_, o, "event_recorder file output requires a path");
    });
    each("webhook_outputs", [&](ConfigValue& o) {
      if (!o.has("url")) report(errors_, o, "event_recorder webhook output requires a url");
      if (o.num("batch_max_events") < 0 || o.num("batch_max_bytes") < 0 || o.num("batch_flush_interval") < 0)
        report(errors_, o, "event_recorder webhook batch settings cannot be negative");
      if (!o.flag("batch") && (o.num("batch_max_events") != 0 || o.num("batch_max_bytes") != 0 ||
                               o.num("batch_flush_interval") != 0))
        report(errors_, o, "event_recorder webhook batch settings require batch: true");
      if (ConfigValue* h = o.find("http_config")) check_http_config(*h, errors_);
    });
    each("kafka_outputs", [&](ConfigValue& o) {
      const ConfigValue* brokers = o.find("brokers");
      if (brokers == nullptr || !brokers->is_list() || brokers->items().empty())
        report(errors_, o, "event_recorder kafka: at least one broker is required");
      if (!o.has("topic")) report(errors_, o, "event_recorder kafka output requires a topic");
      if (const ConfigValue* tls = o.find("tls_config")) check_tls_config(*tls, errors_);
    });
  }

 private:
  const LoadOptions& opts_;
  Errors& errors_;
  Errors* warnings_;
};

void check_route_references(const RouteConfig& r, const std::set<std::string>& receivers,
                            const std::set<std::string>& intervals, Errors& errors) {
  for (const RouteConfig& child : r.routes) check_route_references(child, receivers, intervals, errors);
  if (!r.receiver.empty() && !receivers.contains(r.receiver))
    errors.push_back({fmt::format("undefined receiver \"{}\" used in route", r.receiver),
                      r.receiver_position.line, r.receiver_position.column});
  for (const auto* names : {&r.active_time_intervals, &r.mute_time_intervals})
    for (const std::string& ti : *names)
      if (!intervals.contains(ti))
        errors.push_back({fmt::format("undefined time interval \"{}\" used in route", ti),
                          r.position.line, r.position.column});
}

void sort_errors(Errors& errors) {
  std::stable_sort(errors.begin(), errors.end(), [](const Error& a, const Error& b) {
    if (a.line != b.line) return a.line < b.line;
    return a.column < b.column;
  });
}

// Settings upstream acts on that vigil reads, checks and does not act on
// yet, said where they are written so that nobody counts on them unknowingly.
void report_unhonoured(const ConfigValue& root, Errors& out) {
  auto say = [&out](const ConfigValue& where, std::string message) {
    out.push_back(Error{std::move(message), where.line, where.column});
  };
  if (const ConfigValue* er = root.find("event_recorder"); er && er->is_map())
    if (const ConfigValue* kafka = er->find("kafka_outputs"); kafka && kafka->is_list() && !kafka->items().empty())
      say(*kafka, "event_recorder kafka_outputs are not honoured: no events are sent to Kafka");
}

LoadResult build(const ConfigValue& root, const LoadOptions& opts) {
  LoadResult out;
  Errors& errors = out.errors;
  Config& cfg = out.config;
  Builder b(opts, errors, &out.warnings);

  ConfigValue global = root.find("global") && root.find("global")->is_map()
                           ? *root.find("global")
                           : SchemaDecoder::defaults(global_spec());
  check_global(global, errors);
  cfg.global.resolve_timeout = global.num("resolve_timeout");
  cfg.templates = strings(root.find("templates"));

  std::set<std::string> receiver_names;
  if (const ConfigValue* rs = root.find("receivers"); rs && rs->is_list()) {
    for (const ConfigValue& r : rs->items()) {
      // A `- ` item is a zero receiver upstream: no name, no checks.
      ReceiverConfig rc;
      if (r.is_null()) {
        rc.labels = {{"name", ""}};
        rc.position = pos_of(r);
      } else {
        rc = b.receiver(r, global);
      }
      if (!receiver_names.insert(rc.name).second)
        report(errors, r, fmt::format("notification config name \"{}\" is not unique", rc.name));
      if (opts.deliverable) {
        for (const IntegrationConfig& ic : rc.integrations) {
          if (opts.deliverable(ic.type)) continue;
          (opts.strict ? errors : out.warnings)
              .push_back(Error{fmt::format("receiver \"{}\": vigil cannot deliver to {}_configs yet; its "
                                           "notifications would fail",
                                           rc.name, ic.type),
                               ic.position.line, ic.position.column});
        }
      }
      cfg.receivers.push_back(std::move(rc));
    }
  }

  std::set<std::string> interval_names;
  for (auto [key, mute] : {std::pair{"mute_time_intervals", true}, {"time_intervals", false}}) {
    const ConfigValue* list = root.find(key);
    if (list == nullptr || !list->is_list()) continue;
    for (const ConfigValue& v : list->items()) {
      TimeIntervalConfig tc;
      if (v.is_null()) tc.position = pos_of(v);
      else tc = b.named_intervals(v, mute);
      if (!interval_names.insert(tc.name).second)
        report(errors, v, fmt::format("{} \"{}\" is not unique", mute ? "mute time interval" : "time interval", tc.name));
      cfg.time_intervals.push_back(std::move(tc));
    }
  }

  if (const ConfigValue* irs = root.find("inhibit_rules"); irs && irs->is_list())
    for (const ConfigValue& ir : irs->items()) {
      InhibitRuleConfig rule;
      if (ir.is_null()) rule.position = pos_of(ir);
      else rule = b.inhibit_rule(ir);
      cfg.inhibit_rules.push_back(std::move(rule));
    }

  if (const ConfigValue* t = root.find("tracing"); t && !t->is_null()) {
    cfg.tracing = *t;
    b.check_tracing(cfg.tracing);
  }
  if (const ConfigValue* er = root.find("event_recorder"); er && !er->is_null()) {
    cfg.event_recorder = *er;
    b.check_event_recorder(cfg.event_recorder);
  }

  const ConfigValue* route = root.find("route");
  if (route == nullptr || route->is_null()) {
    report(errors, root, "no routes provided");
  } else {
    cfg.route = b.route(*route, 0);
    const RouteConfig& r = cfg.route;
    if (r.receiver.empty()) report(errors, *route, "root route must specify a default receiver");
    if (!r.matchers.empty()) report(errors, *route, "root route must not have any matchers");
    if (!r.mute_time_intervals.empty()) report(errors, *route, "root route must not have any mute time intervals");
    if (!r.active_time_intervals.empty()) report(errors, *route, "root route must not have any active time intervals");
    if (r.continue_matching) report(errors, *route, "cannot have continue in root route");
    check_route_references(r, receiver_names, interval_names, errors);
  }
  if (opts.deliverable) report_unhonoured(root, opts.strict ? errors : out.warnings);
  cfg.global.settings = std::move(global);
  sort_errors(errors);
  sort_errors(out.warnings);
  return out;
}

}  // namespace

const ReceiverConfig* Config::receiver(std::string_view name) const {
  for (const ReceiverConfig& r : receivers)
    if (r.name == name) return &r;
  return nullptr;
}

TimeIntervals Config::time_interval_set() const {
  TimeIntervals set;
  for (const TimeIntervalConfig& t : time_intervals) set.add(t.name, t.intervals);
  return set;
}

LoadResult parse_config(std::string_view text, const LoadOptions& opts) {
  LoadResult out;
  auto doc = parse_yaml(text);
  if (!doc) {
    out.errors.push_back(doc.error());
    return out;
  }
  const YamlNode* root = doc->root();
  // An empty file never reaches upstream's checks: only this one.
  if (root == nullptr || root->kind == YamlNode::Kind::Null) {
    out.errors.push_back({"no route provided in config", 0, 0});
    return out;
  }
  std::vector<Error> errors;
  SchemaDecoder decoder(*doc, errors);
  ConfigValue tree = decoder.object(*root, config_spec());
  if (!errors.empty()) {
    // Upstream stops at the first section that does not decode.
    sort_errors(errors);
    out.errors = std::move(errors);
    return out;
  }
  return build(tree, opts);
}

LoadResult load_config(const std::string& path, const LoadOptions& opts) {
  LoadResult out;
  auto text = read_file(path);
  if (!text) {
    out.errors.push_back(text.error());
    return out;
  }
  out = parse_config(*text, opts);
  out.config.path = path;
  if (!out.ok()) return out;
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? std::string(".")
                          : slash == 0               ? std::string("/")
                                                     : path.substr(0, slash);
  for (std::string& t : out.config.templates)
    if (!t.empty() && t.front() != '/') t = fmt::format("{}/{}", dir, t);
  if (ConfigValue* h = out.config.global.settings.find("http_config")) resolve_http_paths(*h, dir);
  for (ReceiverConfig& r : out.config.receivers)
    for (IntegrationConfig& ic : r.integrations)
      if (ConfigValue* h = ic.settings.is_map() ? ic.settings.find("http_config") : nullptr)
        // Upstream does not resolve incident.io's own http_config (only the
        // global one it may share).
        if (ic.type != "incidentio" || h->line == 0) resolve_http_paths(*h, dir);
  if (ConfigValue& er = out.config.event_recorder; er.is_map()) {
    if (ConfigValue* files = er.find("file_outputs"); files && files->is_list())
      for (ConfigValue& f : files->items())
        if (ConfigValue* p = f.is_map() ? f.find("path") : nullptr; p && !p->as_string().empty() && p->as_string().front() != '/')
          *p = ConfigValue::string(fmt::format("{}/{}", dir, p->as_string()));
    if (ConfigValue* hooks = er.find("webhook_outputs"); hooks && hooks->is_list())
      for (ConfigValue& w : hooks->items())
        if (ConfigValue* h = w.is_map() ? w.find("http_config") : nullptr) resolve_http_paths(*h, dir);
  }
  return out;
}


}  // namespace vigil::routing
