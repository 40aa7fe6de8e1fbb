#include "notifiers/render.h"

#include <openssl/evp.h>

#include <fmt/format.h>

#include "model/json_object.h"

namespace vigil::notifiers {

using config::ConfigValue;

std::string Renderer::text(std::string_view tmpl) {
  if (error_ || tmpl.empty()) return "";
  auto r = t_.execute_text(tmpl, data_);
  if (!r) {
    error_ = r.error();
    return "";
  }
  return std::move(*r);
}

std::string Renderer::html(std::string_view tmpl) {
  if (error_ || tmpl.empty()) return "";
  auto r = t_.execute_html(tmpl, data_);
  if (!r) {
    error_ = r.error();
    return "";
  }
  return std::move(*r);
}

Json Renderer::tree(const ConfigValue& v) {
  using Kind = ConfigValue::Kind;
  switch (v.kind()) {
    case Kind::Null: return nullptr;
    case Kind::Bool: return v.as_bool();
    case Kind::Int: return v.as_int();
    case Kind::Float: return v.as_float();
    case Kind::String: {
      std::string s = text(v.as_string());
      // Parsed with std::map objects, then moved over in one pass: ordered_json's
      // parser compares each key with all before it, and rendered text can be a
      // label set. Members come out sorted by key, as Go marshals a map.
      Json parsed = nlohmann::json::parse(s, nullptr, false);
      if (!parsed.is_discarded() && !parsed.is_string() && !parsed.is_null()) return parsed;
      return s;
    }
    case Kind::List: {
      Json out = Json::array();
      for (const auto& item : v.items()) out.push_back(tree(item));
      return out;
    }
    case Kind::Map: {
      Json out = Json::object();
      for (const auto& [k, item] : v.entries()) out[text(k)] = tree(item);
      return out;
    }
  }
  return nullptr;
}

std::string json_time(const templates::GoTime& t) {
  return templates::go_time_format(t, "2006-01-02T15:04:05.999999999Z07:00");
}

Json data_json(const templates::NotificationData& d) {
  auto kv = [](const templates::KV& m) { return object_of_distinct(m); };
  Json alerts = Json::array();
  for (const auto& a : d.alerts) {
    alerts.push_back(Json{{"status", a.status},
                          {"labels", kv(a.labels)},
                          {"annotations", kv(a.annotations)},
                          {"startsAt", json_time(a.starts_at)},
                          {"endsAt", json_time(a.ends_at)},
                          {"generatorURL", a.generator_url},
                          {"fingerprint", a.fingerprint}});
  }
  return Json{{"receiver", d.receiver},
              {"status", d.status},
              {"alerts", std::move(alerts)},
              {"notification_reason", d.notification_reason},
              {"groupLabels", kv(d.group_labels)},
              {"commonLabels", kv(d.common_labels)},
              {"commonAnnotations", kv(d.common_annotations)},
              {"routeLabels", kv(d.route_labels)},  // Alertmanager 0.34
              {"externalURL", d.external_url}};
}

namespace {

// Length of the UTF-8 sequence starting with byte c (1 for invalid bytes).
size_t utf8_len(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c >> 5) == 0x6) return 2;
  if ((c >> 4) == 0xE) return 3;
  if ((c >> 3) == 0x1E) return 4;
  return 1;
}

}  // namespace

std::string truncate_runes(std::string_view s, size_t n, bool* truncated) {
  std::vector<size_t> starts;
  for (size_t i = 0; i < s.size(); i += utf8_len(static_cast<unsigned char>(s[i]))) starts.push_back(i);
  if (truncated) *truncated = starts.size() > n;
  if (starts.size() <= n) return std::string(s);
  if (n <= 3) return std::string(s.substr(0, n < starts.size() ? starts[n] : s.size()));
  return std::string(s.substr(0, starts[n - 1])) + "…";
}

std::string truncate_bytes(std::string_view s, size_t n, bool* truncated) {
  if (truncated) *truncated = s.size() > n;
  if (s.size() <= n) return std::string(s);
  if (n < 3) return std::string(n, '.');
  if (n == 3) return "…";
  size_t keep = 0;
  for (size_t i = 0; i < s.size();) {
    size_t len = utf8_len(static_cast<unsigned char>(s[i]));
    if (i + len > n - 3) break;
    i += len;
    keep = i;
  }
  return std::string(s.substr(0, keep)) + "…";
}

std::string sha256_hex(std::string_view s) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), digest, &len, EVP_sha256(), nullptr);
  std::string out;
  for (unsigned int i = 0; i < len; ++i) out += fmt::format("{:02x}", digest[i]);
  return out;
}

std::string go_escape_json(std::string_view plain) {
  // In valid JSON these bytes occur only inside strings, so they can be
  // replaced wherever they are.
  std::string out;
  out.reserve(plain.size() + 16);
  for (size_t i = 0; i < plain.size(); ++i) {
    char c = plain[i];
    if (c == '<') out += "\\u003c";
    else if (c == '>') out += "\\u003e";
    else if (c == '&') out += "\\u0026";
    else if (c == '\xE2' && i + 2 < plain.size() && plain[i + 1] == '\x80' &&
             (plain[i + 2] == '\xA8' || plain[i + 2] == '\xA9')) {
      out += plain[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string go_json_value(const Json& j) {
  return go_escape_json(j.dump(-1, ' ', false, Json::error_handler_t::replace));
}

std::string go_json(const Json& j) { return go_json_value(j) + "\n"; }

std::string go_json(const nlohmann::json& j) {
  return go_escape_json(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)) + "\n";
}

}  // namespace vigil::notifiers
