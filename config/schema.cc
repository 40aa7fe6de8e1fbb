#include "config/schema.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>

#include <fmt/format.h>

#include "model/duration.h"

namespace vigil::config {

namespace {

using Kind = YamlNode::Kind;

constexpr int kMaxMergeDepth = 16;

// Go's yaml.v2 reads YAML 1.1 booleans.
std::optional<bool> yaml11_bool(std::string_view v) {
  for (std::string_view t : {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"})
    if (v == t) return true;
  for (std::string_view f : {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"})
    if (v == f) return false;
  return std::nullopt;
}

std::optional<double> parse_float(std::string_view text) {
  std::string s(text);
  if (s == ".inf" || s == "+.inf" || s == ".Inf" || s == ".INF") return HUGE_VAL;
  if (s == "-.inf" || s == "-.Inf" || s == "-.INF") return -HUGE_VAL;
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return NAN;
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size()) return std::nullopt;
  return d;
}

bool contains_template(std::string_view s) { return s.find("{{") != std::string_view::npos; }

// What Go's text/template parser says about the shape of actions; bodies are
// left to the template engine.
Result<void> check_template_actions(std::string_view s) {
  size_t i = 0;
  while ((i = s.find("{{", i)) != std::string_view::npos) {
    size_t end = s.find("}}", i + 2);
    if (end == std::string_view::npos) return fail("invalid template syntax: template: :1: unclosed action");
    i = end + 2;
  }
  return {};
}

bool valid_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("-._~!$&'()*+,;=:[]%").find(c) !=
                                                           std::string_view::npos ||
         static_cast<unsigned char>(c) >= 0x80;
}

}  // namespace

Result<void> check_url(std::string_view raw, bool require_http) {
  auto parse_error = [&](std::string_view why) {
    return fail(fmt::format("parse \"{}\": {}", raw, why));
  };
  for (char c : raw)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return parse_error("net/url: invalid control character in URL");
  std::string_view s = raw.substr(0, raw.find('#'));
  std::string scheme;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (std::isalpha(static_cast<unsigned char>(c))) continue;
    if (i > 0 && (std::isdigit(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.')) continue;
    if (c == ':') {
      if (i == 0) return parse_error("missing protocol scheme");
      scheme = std::string(s.substr(0, i));
      s.remove_prefix(i + 1);
    }
    break;
  }
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view host;
  if (s.starts_with("//")) {
    std::string_view authority = s.substr(2);
    authority = authority.substr(0, authority.find_first_of("/?"));
    if (size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
    host = authority;
    std::string_view port;
    if (host.starts_with('[')) {
      size_t close = host.find(']');
      if (close == std::string_view::npos) return parse_error("missing ']' in host");
      std::string_view after = host.substr(close + 1);
      if (!after.empty() && after[0] != ':')
        return parse_error(fmt::format("invalid port \"{}\" after host", after));
      port = after.empty() ? "" : after.substr(1);
    } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
      port = host.substr(colon + 1);
      for (char c : host.substr(0, colon))
        if (!valid_host_char(c) || c == ':')
          return parse_error(fmt::format("invalid character \"{}\" in host name", std::string(1, c)));
    } else {
      for (char c : host)
        if (!valid_host_char(c))
          return parse_error(fmt::format("invalid character \"{}\" in host name", std::string(1, c)));
    }
    for (char c : port)
      if (!std::isdigit(static_cast<unsigned char>(c)))
        return parse_error(fmt::format("invalid port \":{}\" after host", port));
  }
  if (!require_http) return {};
  if (scheme != "http" && scheme != "https") return fail(fmt::format("unsupported scheme \"{}\" for URL", scheme));
  if (host.empty()) return fail("missing host for URL");
  return {};
}

Result<void> check_host_port(std::string_view s) {
  auto addr_error = [&](std::string_view why) { return fail(fmt::format("address {}: {}", s, why)); };
  size_t i = s.rfind(':');
  if (i == std::string_view::npos) return addr_error("missing port in address");
  size_t j = 0, k = 0;
  if (s[0] == '[') {
    size_t end = s.find(']');
    if (end == std::string_view::npos) return addr_error("missing ']' in address");
    if (end + 1 == s.size()) return addr_error("missing port in address");
    if (end + 1 != i) {
      if (s[end + 1] == ':') return addr_error("too many colons in address");
      return addr_error("missing port in address");
    }
    j = 1, k = end + 1;
  } else if (s.substr(0, i).find(':') != std::string_view::npos) {
    return addr_error("too many colons in address");
  }
  if (s.substr(j).find('[') != std::string_view::npos) return addr_error("unexpected '[' in address");
  if (s.substr(k).find(']') != std::string_view::npos) return addr_error("unexpected ']' in address");
  if (i + 1 == s.size()) return fail(fmt::format("address \"{}\": port cannot be empty", s));
  return {};
}

const FieldSpec* ObjectSpec::field(std::string_view name) const {
  for (const FieldSpec& f : fields)
    if (f.name == name) return &f;
  return nullptr;
}

SchemaDecoder::SchemaDecoder(const YamlDocument& doc, std::vector<Error>& errors)
    : doc_(doc), errors_(errors), budget_(4 * doc.node_count() + 10000) {}

void SchemaDecoder::error(const YamlNode& at, std::string msg) {
  errors_.push_back(Error{std::move(msg), at.line, at.column});
}

// Aliases let a small file stand for a huge one: stop once decoding has
// visited far more nodes than the file holds, as Go's yaml does.
bool SchemaDecoder::over_budget(const YamlNode& at) {
  if (budget_ > 0) {
    --budget_;
    return false;
  }
  if (!exhausted_) error(at, "document contains excessive aliasing");
  exhausted_ = true;
  return true;
}

std::vector<SchemaDecoder::Entry> SchemaDecoder::entries(const YamlNode& map, bool is_struct,
                                                        std::string_view type) {
  std::vector<Entry> out;
  std::vector<std::string_view> seen;
  collect(map, is_struct, type, out, seen, 0);
  return out;
}

// A mapping's entries in file order with `<<` merge keys expanded: keys
// written in the mapping win over merged ones, earlier merges over later.
void SchemaDecoder::collect(const YamlNode& map, bool is_struct, std::string_view type,
                            std::vector<Entry>& out, std::vector<std::string_view>& seen, int depth) {
  std::vector<const YamlNode*> merges;
  const auto c = doc_.children(map);
  for (size_t i = 0; i + 1 < c.size(); i += 2) {
    const YamlNode& k = *c[i];
    std::string_view key = k.kind == Kind::Scalar ? doc_.value(k) : "";
    if (key == "<<" && !k.quoted) {
      merges.push_back(c[i + 1]);
      continue;
    }
    if (k.kind != Kind::Scalar && k.kind != Kind::Null) {
      error(k, fmt::format("cannot unmarshal {} into string", doc_.describe(k)));
      continue;
    }
    bool repeated = std::find(seen.begin(), seen.end(), key) != seen.end();
    if (repeated) {
      if (depth == 0) {
        error(k, is_struct ? fmt::format("field {} already set in type {}", key, type)
                           : fmt::format("key \"{}\" already set in map", key));
      }
      continue;
    }
    seen.push_back(key);
    out.push_back({key, &k, c[i + 1]});
  }
  for (const YamlNode* m : merges) {
    if (depth >= kMaxMergeDepth) {
      error(*m, "merge keys nested too deeply");
      return;
    }
    if (m->kind == Kind::Mapping) {
      collect(*m, is_struct, type, out, seen, depth + 1);
    } else if (m->kind == Kind::Sequence) {
      for (const YamlNode* item : doc_.children(*m)) {
        if (item->kind == Kind::Mapping) collect(*item, is_struct, type, out, seen, depth + 1);
        else error(*item, "map merge requires map or sequence of maps as the value");
      }
    } else {
      error(*m, "map merge requires map or sequence of maps as the value");
    }
  }
}

ConfigValue SchemaDecoder::defaults(const ObjectSpec& spec) {
  ConfigValue obj = ConfigValue::map();
  for (const FieldSpec& f : spec.fields) {
    if (f.def == nullptr) continue;
    std::string_view def = f.def;
    ConfigValue v;
    switch (f.type) {
      case FieldType::kObject: v = defaults(*f.object); break;
      case FieldType::kBool: v = ConfigValue::boolean(def == "true"); break;
      case FieldType::kInt:
      case FieldType::kUInt: v = ConfigValue::integer(yaml_int(def).value_or(0)); break;
      case FieldType::kDuration: v = ConfigValue::integer(parse_duration(def).value_or(0)); break;
      case FieldType::kGoDuration: v = ConfigValue::integer(parse_go_duration(def).value_or(0)); break;
      default:
        v = ConfigValue::string(std::string(def));
        v.secret = f.type == FieldType::kSecret || f.type == FieldType::kSecretUrl;
    }
    obj.set(std::string(f.name), std::move(v));
  }
  return obj;
}

ConfigValue SchemaDecoder::object(const YamlNode& n, const ObjectSpec& spec) {
  ConfigValue obj = defaults(spec);
  obj.line = n.line;
  obj.column = n.column;
  if (n.kind == Kind::Null) return obj;
  if (n.kind == Kind::Scalar && !spec.scalar_field.empty()) {
    obj.set(std::string(spec.scalar_field), value(n, *spec.field(spec.scalar_field)));
    return obj;
  }
  if (n.kind != Kind::Mapping) {
    error(n, fmt::format("cannot unmarshal {} into {}", doc_.describe(n), spec.type_name));
    return obj;
  }
  for (const Entry& e : entries(n, true, spec.type_name)) {
    if (over_budget(*e.value)) break;
    const FieldSpec* f = spec.field(e.key);
    if (f == nullptr) {
      error(*e.key_node, fmt::format("field {} not found in type {}", e.key, spec.type_name));
      continue;
    }
    obj.set(std::string(e.key), value(*e.value, *f));
  }
  return obj;
}

ConfigValue SchemaDecoder::value(const YamlNode& n, const FieldSpec& f) {
  ConfigValue v;
  switch (f.type) {
    case FieldType::kObject:
      // A null object is absent: upstream keeps a nil pointer (or a zero struct).
      if (n.kind == Kind::Null) break;
      v = object(n, *f.object);
      break;
    case FieldType::kObjectList:
      v = list(n, f, FieldType::kObject);
      break;
    case FieldType::kStringList:
      v = list(n, f, FieldType::kString);
      break;
    case FieldType::kSecretList:
      v = list(n, f, FieldType::kSecret);
      break;
    case FieldType::kStringMap:
      v = string_map(n, f, FieldType::kString);
      break;
    case FieldType::kObjectMap:
      v = string_map(n, f, FieldType::kObject);
      break;
    case FieldType::kSecretListMap:
      v = string_map(n, f, FieldType::kSecretList);
      break;
    case FieldType::kAny:
      v = any(n);
      break;
    default:
      v = scalar(n, f);
  }
  v.line = n.line;
  v.column = n.column;
  return v;
}

ConfigValue SchemaDecoder::list(const YamlNode& n, const FieldSpec& f, FieldType item) {
  // A null list is Go's nil slice: absent, which is not the same as [].
  if (n.kind == Kind::Null) return ConfigValue();
  ConfigValue out = ConfigValue::list();
  if (n.kind != Kind::Sequence) {
    error(n, fmt::format("{}: cannot unmarshal {} into a list", f.name, doc_.describe(n)));
    return out;
  }
  FieldSpec item_spec{f.name, item, nullptr, f.object};
  for (const YamlNode* c : doc_.children(n)) {
    if (over_budget(*c)) break;
    // A null item of an object list stays null: upstream's nil pointer.
    ConfigValue v = item == FieldType::kObject && c->kind == Kind::Null ? ConfigValue()
                                                                        : value(*c, item_spec);
    v.line = c->line;
    v.column = c->column;
    out.items().push_back(std::move(v));
  }
  return out;
}

ConfigValue SchemaDecoder::string_map(const YamlNode& n, const FieldSpec& f, FieldType item) {
  if (n.kind == Kind::Null) return ConfigValue();
  ConfigValue out = ConfigValue::map();
  if (n.kind != Kind::Mapping) {
    error(n, fmt::format("{}: cannot unmarshal {} into a map", f.name, doc_.describe(n)));
    return out;
  }
  FieldSpec item_spec{f.name, item, nullptr, f.object};
  for (const Entry& e : entries(n, false, "")) {
    if (over_budget(*e.value)) break;
    out.set(std::string(e.key), value(*e.value, item_spec));
  }
  return out;
}

ConfigValue SchemaDecoder::any(const YamlNode& n) {
  switch (n.kind) {
    case Kind::Null:
    case Kind::Alias:
      return ConfigValue();
    case Kind::Sequence: {
      ConfigValue out = ConfigValue::list();
      for (const YamlNode* c : doc_.children(n)) {
        if (over_budget(*c)) break;
        out.items().push_back(any(*c));
      }
      return out;
    }
    case Kind::Mapping: {
      ConfigValue out = ConfigValue::map();
      for (const Entry& e : entries(n, false, "")) {
        if (over_budget(*e.value)) break;
        ConfigValue v = any(*e.value);
        v.line = e.value->line;
        v.column = e.value->column;
        out.set(std::string(e.key), std::move(v));
      }
      return out;
    }
    case Kind::Scalar:
      break;
  }
  std::string_view text = doc_.value(n);
  if (!n.quoted) {
    if (auto b = yaml11_bool(text)) return ConfigValue::boolean(*b);
    if (auto i = yaml_int(text)) return ConfigValue::integer(*i);
    if (doc_.resolved_tag(n) == "!!float")
      if (auto d = parse_float(text)) return ConfigValue::number(*d);
  }
  return ConfigValue::string(std::string(text));
}

ConfigValue SchemaDecoder::scalar(const YamlNode& n, const FieldSpec& f) {
  auto mismatch = [&](std::string_view into) {
    error(n, fmt::format("{}: cannot unmarshal {} into {}", f.name, doc_.describe(n), into));
    return ConfigValue();
  };
  auto invalid = [&](const std::string& msg) {
    error(n, fmt::format("{}: {}", f.name, msg));
    return ConfigValue();
  };
  // Go's yaml zeroes a field written as null.
  if (n.kind == Kind::Null) {
    switch (f.type) {
      case FieldType::kBool: return ConfigValue::boolean(false);
      case FieldType::kInt: case FieldType::kUInt: case FieldType::kGoDuration:
        return ConfigValue::integer(0);
      case FieldType::kFloat: return ConfigValue::number(0);
      default:
        return ConfigValue();  // "" or a nil pointer: read back as absent
    }
  }
  if (n.kind != Kind::Scalar) {
    switch (f.type) {
      case FieldType::kBool: return mismatch("bool");
      case FieldType::kInt: return mismatch("int");
      case FieldType::kUInt: return mismatch("uint64");
      case FieldType::kFloat: return mismatch("float64");
      default: return mismatch("string");
    }
  }
  const std::string text(doc_.value(n));
  switch (f.type) {
    case FieldType::kBool: {
      auto b = n.quoted ? std::nullopt : yaml11_bool(text);
      return b ? ConfigValue::boolean(*b) : mismatch("bool");
    }
    case FieldType::kInt:
    case FieldType::kUInt: {
      auto i = n.quoted ? std::nullopt : yaml_int(text);
      if (!i && !n.quoted && doc_.resolved_tag(n) == "!!float") {
        auto d = parse_float(text);
        if (d && std::isfinite(*d) && *d == std::trunc(*d) && std::fabs(*d) < 9.2e18)
          i = static_cast<int64_t>(*d);
      }
      if (!i) return mismatch(f.type == FieldType::kInt ? "int" : "uint64");
      if (f.type == FieldType::kUInt && *i < 0) return mismatch("uint64");
      return ConfigValue::integer(*i);
    }
    case FieldType::kFloat: {
      auto d = n.quoted ? std::nullopt : parse_float(text);
      return d ? ConfigValue::number(*d) : mismatch("float64");
    }
    case FieldType::kDuration: {
      auto d = parse_duration(text);
      return d ? ConfigValue::integer(*d) : invalid(d.error().message);
    }
    case FieldType::kGoDuration: {
      if (!n.quoted)
        if (auto i = yaml_int(text)) return ConfigValue::integer(*i / 1000000);
      auto d = parse_go_duration(text);
      return d ? ConfigValue::integer(*d) : invalid(d.error().message);
    }
    case FieldType::kUrl:
    case FieldType::kSecretUrl:
    case FieldType::kAnyUrl: {
      bool secret = f.type == FieldType::kSecretUrl;
      // A dumped config shows secret URLs as <secret>; it must load again.
      if (!(secret && text == "<secret>")) {
        if (auto ok = check_url(text, f.type != FieldType::kAnyUrl); !ok) {
          // Secret URLs are not repeated in errors.
          std::string msg = ok.error().message;
          if (secret) {
            for (size_t p; (p = msg.find(text)) != std::string::npos && !text.empty();)
              msg.replace(p, text.size(), "<secret>");
          }
          return invalid(msg);
        }
      }
      ConfigValue v = ConfigValue::string(text);
      v.secret = secret;
      return v;
    }
    case FieldType::kTemplateUrl: {
      if (!text.empty() && text != "<secret>") {
        if (contains_template(text)) {
          if (auto ok = check_template_actions(text); !ok) return invalid(ok.error().message);
        } else if (auto ok = check_url(text, true); !ok) {
          return invalid("invalid URL: " + ok.error().message);
        }
      }
      ConfigValue v = ConfigValue::string(text);
      v.secret = true;
      return v;
    }
    case FieldType::kHostPort: {
      if (!text.empty())
        if (auto ok = check_host_port(text); !ok) return invalid(ok.error().message);
      return ConfigValue::string(text);
    }
    case FieldType::kTlsVersion: {
      if (text != "TLS10" && text != "TLS11" && text != "TLS12" && text != "TLS13")
        return invalid("unknown TLS version: " + text);
      return ConfigValue::string(text);
    }
    default: {
      ConfigValue v = ConfigValue::string(text);
      v.secret = f.type == FieldType::kSecret;
      return v;
    }
  }
}

}  // namespace vigil::config
