#include "templates/notification_data.h"

#include <algorithm>
#include <cctype>
#include <string_view>
#include <unordered_set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace vigil::templates {

KV to_kv(const Labels& labels) {
  KV kv;
  for (const auto& l : labels) kv.emplace(l.name, l.value);
  return kv;
}

namespace {

std::string quote_meta(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\.+*?()|[]{}^$").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

const Type* strings_type() {
  static const Type* t = [] {
    Type* st = make_mutable_type(Kind::kSlice, "template.Strings", "[]string", string_type());
    st->methods.push_back({"Join", {{string_type()}}, [](const CallArgs& c) -> Result<Value> {
                             std::string out;
                             const auto& items = c.args[0].items();
                             for (size_t i = 0; i < items.size(); ++i) {
                               if (i > 0) out += c.args[1].as_string();
                               out += items[i].as_string();
                             }
                             return Value::string(std::move(out));
                           }});
    return st;
  }();
  return t;
}

const Type* pair_type() {
  static const Type* t = [] {
    Type* pt = make_mutable_type(Kind::kStruct, "template.Pair", "struct { Name string; Value string }");
    pt->fields = {"Name", "Value"};
    return pt;
  }();
  return t;
}

Value pair_field_list(const Value& pairs, size_t field) {
  std::vector<Value> out;
  for (const auto& p : pairs.items()) out.push_back(p.items()[field]);
  return Value::slice(std::move(out), strings_type());
}

const Type* pairs_type() {
  static const Type* t = [] {
    Type* pt = make_mutable_type(Kind::kSlice, "template.Pairs", "[]template.Pair", pair_type());
    pt->methods.push_back({"Names", {}, [](const CallArgs& c) -> Result<Value> {
                             return pair_field_list(c.args[0], 0);
                           }});
    pt->methods.push_back({"Values", {}, [](const CallArgs& c) -> Result<Value> {
                             return pair_field_list(c.args[0], 1);
                           }});
    pt->methods.push_back({"String", {}, [](const CallArgs& c) -> Result<Value> {
                             std::string out;
                             for (const auto& p : c.args[0].items()) {
                               if (!out.empty()) out += ", ";
                               out += p.items()[0].as_string() + "=" + p.items()[1].as_string();
                             }
                             return Value::string(std::move(out));
                           }});
    return pt;
  }();
  return t;
}

// KV.SortedPairs: "alertname" first, then by name.
Value sorted_pairs(const Value& kv) {
  std::vector<Value> pairs;
  const Value* alertname = kv.find("alertname");
  if (alertname) {
    pairs.push_back(Value::structure({Value::string("alertname"), *alertname}, pair_type()));
  }
  for (const auto& [k, v] : kv.entries()) {
    if (k == "alertname") continue;
    pairs.push_back(Value::structure({Value::string(k), v}, pair_type()));
  }
  return Value::slice(std::move(pairs), pairs_type());
}

const Type* kv_type();

Value kv_value(const KV& kv) {
  MapEntries entries;
  entries.reserve(kv.size());
  for (const auto& [k, v] : kv) entries.emplace_back(k, Value::string(v));
  return Value::map(std::move(entries), kv_type());
}

const Type* kv_type() {
  static const Type* t = [] {
    Type* kt = make_mutable_type(Kind::kMap, "template.KV", "map[string]string", string_type());
    kt->methods.push_back({"SortedPairs", {}, [](const CallArgs& c) -> Result<Value> {
                             return sorted_pairs(c.args[0]);
                           }});
    kt->methods.push_back({"Names", {}, [](const CallArgs& c) -> Result<Value> {
                             return pair_field_list(sorted_pairs(c.args[0]), 0);
                           }});
    kt->methods.push_back({"Values", {}, [](const CallArgs& c) -> Result<Value> {
                             return pair_field_list(sorted_pairs(c.args[0]), 1);
                           }});
    kt->methods.push_back({"Remove", {{string_slice_type()}}, [](const CallArgs& c) -> Result<Value> {
                             // A set, not a scan per entry: `.CommonLabels.Remove
                             // .GroupLabels.Names` with group_by [...] removes every
                             // label from every label.
                             std::unordered_set<std::string_view> removed;
                             removed.reserve(c.args[1].items().size());
                             for (const auto& r : c.args[1].items()) removed.insert(r.as_string());
                             MapEntries kept;
                             for (const auto& [k, v] : c.args[0].entries()) {
                               if (!removed.contains(k)) kept.emplace_back(k, v);
                             }
                             return Value::map(std::move(kept), c.args[0].type());
                           }});
    kt->methods.push_back({"String", {}, [](const CallArgs& c) -> Result<Value> {
                             Value pairs = sorted_pairs(c.args[0]);
                             return (*pairs_type()->find_method("String")).fn(
                                 CallArgs{std::span<const Value>(&pairs, 1)});
                           }});
    return kt;
  }();
  return t;
}

const Type* alert_type() {
  static const Type* t = [] {
    Type* at = make_mutable_type(Kind::kStruct, "template.Alert",
                                 "struct { Status string; Labels template.KV; Annotations template.KV; "
                                 "StartsAt time.Time; EndsAt time.Time; GeneratorURL string; "
                                 "Fingerprint string }");
    at->fields = {"Status", "Labels", "Annotations", "StartsAt", "EndsAt", "GeneratorURL", "Fingerprint"};
    at->json_fields = {"status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"};
    return at;
  }();
  return t;
}

Value alerts_with_status(const Value& alerts, std::string_view status) {
  std::vector<Value> out;
  for (const auto& a : alerts.items()) {
    if (a.items()[0].as_string() == status) out.push_back(a);
  }
  return Value::slice(std::move(out), slice_of(alert_type()));
}

const Type* alerts_type() {
  static const Type* t = [] {
    Type* at = make_mutable_type(Kind::kSlice, "template.Alerts", "[]template.Alert", alert_type());
    at->methods.push_back({"Firing", {}, [](const CallArgs& c) -> Result<Value> {
                             return alerts_with_status(c.args[0], "firing");
                           }});
    at->methods.push_back({"Resolved", {}, [](const CallArgs& c) -> Result<Value> {
                             return alerts_with_status(c.args[0], "resolved");
                           }});
    return at;
  }();
  return t;
}

// Data's visible fields come first; GroupKey and TruncatedAlerts ride along
// after them and are reached through methods, so printing the data prints
// what Alertmanager prints. Last, unseen by templates: whether the route
// labels are rendered.
constexpr size_t kRouteLabelsItem = 7, kGroupKeyItem = 9, kTruncatedItem = 10, kRenderedItem = 11;

const Type* data_type() {
  static const Type* t = [] {
    Type* dt = make_mutable_type(Kind::kStruct, "template.Data",
                                 "struct { Receiver string; Status string; Alerts template.Alerts; "
                                 "NotificationReason string; GroupLabels template.KV; CommonLabels template.KV; "
                                 "CommonAnnotations template.KV; RouteLabels template.KV; ExternalURL string }");
    dt->fields = {"Receiver",     "Status",       "Alerts",            "NotificationReason", "GroupLabels",
                  "CommonLabels", "CommonAnnotations", "RouteLabels", "ExternalURL"};
    dt->json_fields = {"receiver",     "status",            "alerts",      "notification_reason", "groupLabels",
                       "commonLabels", "commonAnnotations", "routeLabels", "externalURL"};
    dt->methods.push_back({"GroupKey", {}, [](const CallArgs& c) -> Result<Value> {
                             return c.args[0].items()[kGroupKeyItem];
                           }});
    dt->methods.push_back({"TruncatedAlerts", {}, [](const CallArgs& c) -> Result<Value> {
                             return c.args[0].items()[kTruncatedItem];
                           }});
    return dt;
  }();
  return t;
}

}  // namespace

Value notification_value(const NotificationData& d) {
  std::vector<Value> alerts;
  alerts.reserve(d.alerts.size());
  for (const auto& a : d.alerts) {
    alerts.push_back(Value::structure(
        {Value::string(a.status), kv_value(a.labels), kv_value(a.annotations), time_value(a.starts_at),
         time_value(a.ends_at), Value::string(a.generator_url), Value::string(a.fingerprint)},
        alert_type()));
  }
  return Value::structure({Value::string(d.receiver), Value::string(d.status),
                           Value::slice(std::move(alerts), alerts_type()), Value::string(d.notification_reason),
                           kv_value(d.group_labels),
                           kv_value(d.common_labels), kv_value(d.common_annotations), kv_value(d.route_labels),
                           Value::string(d.external_url), Value::string(d.group_key),
                           Value::integer(d.truncated_alerts), Value::boolean(d.route_labels_rendered)},
                          data_type());
}

RouteLabelsOf route_labels_of(const Value& data) {
  if (data.type() != data_type()) return {};
  return {&data.items()[kRouteLabelsItem], data.items()[kRenderedItem].as_bool()};
}

NotificationData make_notification_data(std::string_view receiver, const Labels& group_labels,
                                        const std::vector<AlertInput>& alerts,
                                        std::string_view external_url, const GoTime& now) {
  NotificationData d;
  d.receiver = quote_meta(receiver);
  d.external_url = external_url;
  d.group_labels = to_kv(group_labels);
  d.status = "resolved";
  for (const auto& in : alerts) {
    NotificationAlert a;
    bool resolved = !in.ends_at.is_zero() && go_time_sub(in.ends_at, now) <= 0;
    a.status = resolved ? "resolved" : "firing";
    if (!resolved) d.status = "firing";
    a.labels = to_kv(in.labels);
    a.annotations = in.annotations;
    a.starts_at = in.starts_at;
    a.ends_at = in.ends_at;
    a.generator_url = in.generator_url;
    a.fingerprint = fmt::format("{:016x}", in.labels.fingerprint());
    d.alerts.push_back(std::move(a));
  }
  if (!d.alerts.empty()) {
    d.common_labels = d.alerts[0].labels;
    d.common_annotations = d.alerts[0].annotations;
    for (size_t i = 1; i < d.alerts.size(); ++i) {
      std::erase_if(d.common_labels, [&](const auto& kv) {
        auto it = d.alerts[i].labels.find(kv.first);
        return it == d.alerts[i].labels.end() || it->second != kv.second;
      });
      std::erase_if(d.common_annotations, [&](const auto& kv) {
        auto it = d.alerts[i].annotations.find(kv.first);
        return it == d.alerts[i].annotations.end() || it->second != kv.second;
      });
    }
  }
  return d;
}

NotificationData example_notification_data(const GoTime& now) {
  NotificationData d;
  d.receiver = "receiver";
  d.status = "alertstatus";
  NotificationAlert a1;
  a1.status = "firing";
  a1.labels = {{"label1", "value1"}, {"label2", "value2"}, {"instance", "foo.bar:1234"},
               {"commonlabelkey1", "commonlabelvalue1"}, {"commonlabelkey2", "commonlabelvalue2"}};
  a1.annotations = {{"annotation1", "value1"}, {"annotation2", "value2"},
                    {"commonannotationkey1", "commonannotationvalue1"},
                    {"commonannotationkey2", "commonannotationvalue2"}};
  a1.starts_at = go_time_add(now, -5 * 60 * 1'000'000'000LL);
  a1.ends_at = now;
  a1.generator_url = "https://generatorurl.com";
  a1.fingerprint = "fingerprint1";
  NotificationAlert a2;
  a2.status = "resolved";
  a2.labels = {{"foo", "bar"}, {"baz", "qux"}, {"commonlabelkey1", "commonlabelvalue1"},
               {"commonlabelkey2", "commonlabelvalue2"}};
  a2.annotations = {{"aaa", "bbb"}, {"ccc", "ddd"}, {"commonannotationkey1", "commonannotationvalue1"},
                    {"commonannotationkey2", "commonannotationvalue2"}};
  a2.starts_at = go_time_add(now, -10 * 60 * 1'000'000'000LL);
  a2.ends_at = now;
  a2.generator_url = "https://generatorurl.com";
  a2.fingerprint = "fingerprint2";
  d.alerts = {a1, a2};
  d.group_labels = {{"grouplabelkey1", "grouplabelvalue1"}, {"grouplabelkey2", "grouplabelvalue2"}};
  d.common_labels = {{"commonlabelkey1", "commonlabelvalue1"}, {"commonlabelkey2", "commonlabelvalue2"}};
  d.common_annotations = {{"commonannotationkey1", "commonannotationvalue1"},
                          {"commonannotationkey2", "commonannotationvalue2"}};
  d.external_url = "https://example.com";
  return d;
}

namespace {

using nlohmann::json;

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The member whose key equals `key` ignoring case (an exact match wins).
const json* member(const json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(std::string(key));
  if (it != obj.end()) return &*it;
  std::string lk = lower_ascii(key);
  for (auto i = obj.begin(); i != obj.end(); ++i) {
    if (lower_ascii(i.key()) == lk) return &*i;
  }
  return nullptr;
}

Result<std::string> get_string(const json& obj, std::string_view key) {
  const json* v = member(obj, key);
  if (!v || v->is_null()) return std::string();
  if (!v->is_string()) {
    return fail(fmt::format("json: cannot unmarshal {} into Go struct field .{} of type string",
                            v->type_name(), key));
  }
  return v->get<std::string>();
}

Result<KV> get_kv(const json& obj, std::string_view key) {
  KV kv;
  const json* v = member(obj, key);
  if (!v || v->is_null()) return kv;
  if (!v->is_object()) {
    return fail(fmt::format("json: cannot unmarshal {} into Go struct field .{} of type template.KV",
                            v->type_name(), key));
  }
  for (auto it = v->begin(); it != v->end(); ++it) {
    if (!it.value().is_string()) {
      return fail(fmt::format("json: cannot unmarshal {} into Go struct field .{} of type string",
                              it.value().type_name(), key));
    }
    kv[it.key()] = it.value().get<std::string>();
  }
  return kv;
}

Result<GoTime> get_time(const json& obj, std::string_view key) {
  const json* v = member(obj, key);
  if (!v || v->is_null()) return GoTime{};
  if (!v->is_string()) return fail(fmt::format("{}: a time must be an RFC 3339 string", key));
  return go_time_parse_rfc3339(v->get<std::string>());
}

Result<json> parse_json(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return fail("invalid JSON");
  return j;
}

}  // namespace

Result<NotificationData> notification_data_from_json(std::string_view text) {
  auto j = parse_json(text);
  if (!j) return std::unexpected(j.error());
  if (!j->is_object()) return fail("the data must be a JSON object laid out as template.Data");
  NotificationData d;
#define VIGIL_TRY(var, expr)                       \
  auto var = (expr);                               \
  if (!var) return std::unexpected(var.error());
  VIGIL_TRY(receiver, get_string(*j, "receiver"));
  VIGIL_TRY(status, get_string(*j, "status"));
  VIGIL_TRY(group_labels, get_kv(*j, "groupLabels"));
  VIGIL_TRY(common_labels, get_kv(*j, "commonLabels"));
  VIGIL_TRY(common_annotations, get_kv(*j, "commonAnnotations"));
  VIGIL_TRY(route_labels, get_kv(*j, "routeLabels"));
  VIGIL_TRY(external_url, get_string(*j, "externalURL"));
  VIGIL_TRY(group_key, get_string(*j, "groupKey"));
  d.receiver = *receiver;
  d.status = *status;
  d.group_labels = *group_labels;
  d.common_labels = *common_labels;
  d.common_annotations = *common_annotations;
  d.route_labels = *route_labels;
  d.external_url = *external_url;
  d.group_key = *group_key;
  if (const json* t = member(*j, "truncatedAlerts"); t && t->is_number_integer()) {
    d.truncated_alerts = t->get<int>();
  }
  if (const json* alerts = member(*j, "alerts"); alerts && !alerts->is_null()) {
    if (!alerts->is_array()) return fail("alerts must be a JSON array");
    for (const json& a : *alerts) {
      if (!a.is_object()) return fail("each alert must be a JSON object");
      NotificationAlert na;
      VIGIL_TRY(st, get_string(a, "status"));
      VIGIL_TRY(labels, get_kv(a, "labels"));
      VIGIL_TRY(annotations, get_kv(a, "annotations"));
      VIGIL_TRY(starts, get_time(a, "startsAt"));
      VIGIL_TRY(ends, get_time(a, "endsAt"));
      VIGIL_TRY(gen, get_string(a, "generatorURL"));
      VIGIL_TRY(fp, get_string(a, "fingerprint"));
      na.status = *st;
      na.labels = *labels;
      na.annotations = *annotations;
      na.starts_at = *starts;
      na.ends_at = *ends;
      na.generator_url = *gen;
      na.fingerprint = *fp;
      d.alerts.push_back(std::move(na));
    }
  }
  return d;
}

Result<NotificationData> notification_data_from_alerts_json(std::string_view text, const GoTime& now) {
  auto j = parse_json(text);
  if (!j) return std::unexpected(j.error());
  if (!j->is_array()) return fail("the alerts must be a JSON array of alerts");
  std::vector<AlertInput> inputs;
  for (const json& a : *j) {
    if (!a.is_object()) return fail("each alert must be a JSON object");
    VIGIL_TRY(labels, get_kv(a, "labels"));
    VIGIL_TRY(annotations, get_kv(a, "annotations"));
    VIGIL_TRY(starts, get_time(a, "startsAt"));
    VIGIL_TRY(ends, get_time(a, "endsAt"));
    VIGIL_TRY(gen, get_string(a, "generatorURL"));
    std::vector<LabelView> ls;
    ls.reserve(labels->size());
    for (const auto& [k, v] : *labels) ls.emplace_back(k, v);
    AlertInput in;
    in.labels = Labels(ls);
    in.annotations = *annotations;
    in.starts_at = member(a, "startsAt") ? *starts : now;
    in.ends_at = *ends;
    in.generator_url = *gen;
    inputs.push_back(std::move(in));
  }
#undef VIGIL_TRY
  return make_notification_data("receiver", Labels(), inputs, "https://example.com", now);
}

}  // namespace vigil::templates
