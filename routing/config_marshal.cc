#include "routing/config_marshal.h"

#include <yaml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "model/duration.h"
#include "model/yaml.h"
#include "routing/matchers.h"

namespace vigil::routing {

namespace {

constexpr std::string_view kSecret = "<secret>";

// ---- the tree written out ----

// A value as Go's yaml.v2 sees it: a Go string (its style chosen by yaml.v2's
// rules), a number, bool or null (written plain), a mapping in field or key
// order, or a sequence (block, or flow for upstream's `,flow` fields).
struct Out {
  enum class Kind { Null, Str, Raw, Map, Seq } kind = Kind::Null;
  std::string s;
  bool flow = false;
  std::vector<std::pair<std::string, Out>> map;
  std::vector<Out> seq;

  static Out str(std::string v) { Out o; o.kind = Kind::Str; o.s = std::move(v); return o; }
  static Out raw(std::string v) { Out o; o.kind = Kind::Raw; o.s = std::move(v); return o; }
  static Out boolean(bool b) { return raw(b ? "true" : "false"); }
  static Out mapping() { Out o; o.kind = Kind::Map; return o; }
  static Out sequence(bool flow = false) { Out o; o.kind = Kind::Seq; o.flow = flow; return o; }

  void put(std::string key, Out v) { map.emplace_back(std::move(key), std::move(v)); }
  void put(std::string key, std::optional<Out> v) {
    if (v) map.emplace_back(std::move(key), std::move(*v));
  }
  const Out* get(std::string_view key) const {
    for (const auto& [k, v] : map)
      if (k == key) return &v;
    return nullptr;
  }
  Out* get(std::string_view key) {
    for (auto& [k, v] : map)
      if (k == key) return &v;
    return nullptr;
  }
};

// ---- how yaml.v2 reads and writes scalars ----

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// ParseInt/ParseUint with base 0, after yaml.v2 removed the underscores.
bool go_int_syntax(std::string_view s) {
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  if (s.empty()) return false;
  auto all = [&](std::string_view d, auto ok) {
    return !d.empty() && std::all_of(d.begin(), d.end(), ok);
  };
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
    return all(s.substr(2), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
    return all(s.substr(2), [](char c) { return c >= '0' && c <= '7'; });
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
    return all(s.substr(2), [](char c) { return c == '0' || c == '1'; });
  if (s.size() > 1 && s[0] == '0') return all(s.substr(1), [](char c) { return c >= '0' && c <= '7'; });
  return all(s, is_digit);
}

// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
bool yaml_style_float(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t digits = 0;
  while (i < s.size() && is_digit(s[i])) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t frac = 0;
    while (i < s.size() && is_digit(s[i])) ++i, ++frac;
    if (digits == 0 && frac == 0) return false;
  } else if (digits == 0) {
    return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exp = 0;
    while (i < s.size() && is_digit(s[i])) ++i, ++exp;
    if (exp == 0) return false;
  }
  return i == s.size();
}

// `[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?`: YAML 1.1 sexagesimal.
bool base60_float(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (i >= s.size() || !is_digit(s[i])) return false;
  while (i < s.size() && (is_digit(s[i]) || s[i] == '_')) ++i;
  int groups = 0;
  while (i < s.size() && s[i] == ':') {
    ++i;
    size_t start = i;
    while (i < s.size() && is_digit(s[i]) && i - start < 2) ++i;
    size_t n = i - start;
    if (n == 0) return false;
    if (n == 2 && s[start] > '5') return false;
    ++groups;
  }
  if (groups == 0) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && (is_digit(s[i]) || s[i] == '_')) ++i;
  }
  return i == s.size();
}

// A date, or a date and time, as yaml.v2 reads timestamps.
bool looks_like_timestamp(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && is_digit(s[i])) ++i;
  if (i != 4 || i == s.size() || s[i] != '-') return false;
  auto number = [&](size_t max) {
    size_t start = i;
    while (i < s.size() && is_digit(s[i]) && i - start < max) ++i;
    return i > start;
  };
  ++i;
  if (!number(2) || i >= s.size() || s[i] != '-') return false;
  ++i;
  if (!number(2)) return false;
  if (i == s.size()) return true;
  if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return false;
  ++i;
  if (!number(2) || i >= s.size() || s[i] != ':') return false;
  ++i;
  if (!number(2) || i >= s.size() || s[i] != ':') return false;
  ++i;
  if (!number(2)) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i])) ++i;
  }
  if (i == s.size()) return true;
  if (s[i] == 'Z') return i + 1 == s.size();
  if (s[i] != '+' && s[i] != '-') return false;
  ++i;
  if (!number(2) || i >= s.size() || s[i] != ':') return false;
  ++i;
  return number(2) && i == s.size();
}

const char* const kYaml11Words[] = {"y",     "Y",     "yes",  "Yes",  "YES",  "true",  "True",   "TRUE",
                                    "on",    "On",    "ON",   "n",    "N",    "no",    "No",     "NO",
                                    "false", "False", "FALSE", "off", "Off",  "OFF",   "",       "~",
                                    "null",  "Null",  "NULL", ".nan", ".NaN", ".NAN",  ".inf",   ".Inf",
                                    ".INF",  "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", "<<"};

// Whether yaml.v2 would read the text back as a string when written plain.
bool resolves_to_string(std::string_view s) {
  for (const char* w : kYaml11Words)
    if (s == w) return false;
  if (s.empty()) return false;
  char c = s[0];
  if (c == '.') return !yaml_style_float(s);
  if (c == '+' || c == '-' || is_digit(c)) {
    if (looks_like_timestamp(s)) return false;
    std::string plain;
    for (char ch : s)
      if (ch != '_') plain += ch;
    if (go_int_syntax(plain) || yaml_style_float(plain)) return false;
    if (plain.starts_with("0b") || plain.starts_with("-0b")) return false;
    if (base60_float(s)) return false;
  }
  return true;
}

std::optional<bool> yaml11_bool(std::string_view s) {
  static const char* const yes[] = {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"};
  static const char* const no[] = {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"};
  for (const char* w : yes)
    if (s == w) return true;
  for (const char* w : no)
    if (s == w) return false;
  return std::nullopt;
}

// yaml.v2's order of mapping keys: runs of digits compare as numbers,
// letters before other characters.
bool go_key_less(std::string_view a, std::string_view b) {
  auto letter = [](unsigned char c) { return std::isalpha(c) != 0 || c >= 0x80; };
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i] == b[i]) continue;
    bool al = letter(static_cast<unsigned char>(a[i])), bl = letter(static_cast<unsigned char>(b[i]));
    if (al && bl) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]);
    if (al || bl) return bl;
    int64_t an = 0, bn = 0;
    if (a[i] == '0' || b[i] == '0') {
      for (size_t j = i; j-- > 0 && is_digit(a[j]);) {
        if (a[j] != '0') {
          an = 1;
          bn = 1;
          break;
        }
      }
    }
    size_t ai = i, bi = i;
    for (; ai < a.size() && is_digit(a[ai]); ++ai) an = an * 10 + (a[ai] - '0');
    for (; bi < b.size() && is_digit(b[bi]); ++bi) bn = bn * 10 + (b[bi] - '0');
    if (an != bn) return an < bn;
    if (ai != bi) return ai < bi;
    return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]);
  }
  return a.size() < b.size();
}

// Keys of interface{} maps that yaml.v2 read as something else than a
// string (`n: 1` has the key false) carry this prefix and their kind.
constexpr char kRawKey = '\x01';

// Go's reflect.Kind order for the keys yaml.v2 can hold: bool, int, float, string.
int key_rank(const std::string& k) {
  if (k.empty() || k[0] != kRawKey) return 24;
  return k[1] - '0';
}

void sort_keys(Out& m) {
  std::sort(m.map.begin(), m.map.end(), [](const auto& x, const auto& y) {
    int rx = key_rank(x.first), ry = key_rank(y.first);
    if (rx != ry) return rx < ry;
    if (rx == 24) return go_key_less(x.first, y.first);
    std::string_view a = std::string_view(x.first).substr(2), b = std::string_view(y.first).substr(2);
    if (rx == 1) return a == "false" && b == "true";
    return std::strtod(std::string(a).c_str(), nullptr) < std::strtod(std::string(b).c_str(), nullptr);
  });
}

// Go's float formatting ('g', shortest) as yaml.v2 writes floats.
std::string go_float(double v) {
  if (std::isnan(v)) return ".nan";
  if (std::isinf(v)) return v > 0 ? "+.inf" : "-.inf";
  char buf[64];
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s = buf;
  // C writes e+05, Go e+05 too for 'g'; both use at least two exponent digits.
  return s;
}

// ---- paths ----

std::string clean_path(std::string_view p) {
  bool abs = !p.empty() && p[0] == '/';
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    std::string_view part = p.substr(i, j - i);
    if (part.empty() || part == ".") {
    } else if (part == "..") {
      if (!parts.empty() && parts.back() != "..") parts.pop_back();
      else if (!abs) parts.emplace_back("..");
    } else {
      parts.emplace_back(part);
    }
    i = j + 1;
  }
  std::string out = abs ? "/" : "";
  for (size_t k = 0; k < parts.size(); ++k) {
    if (k) out += '/';
    out += parts[k];
  }
  if (out.empty()) out = ".";
  return out;
}

std::string join_dir(std::string_view dir, std::string_view path) {
  if (path.empty() || path[0] == '/' || dir.empty()) return std::string(path);
  return clean_path(std::string(dir) + "/" + std::string(path));
}

// ---- reading the input ----

class Input {
 public:
  explicit Input(const YamlDocument& doc) : doc_(doc) {}

  // The value of `key` in a mapping (merge keys followed), nullptr when absent.
  const YamlNode* get(const YamlNode* m, std::string_view key) const {
    if (!m || m->kind != YamlNode::Kind::Mapping) return nullptr;
    auto kids = doc_.children(*m);
    const YamlNode* merged = nullptr;
    for (size_t i = 0; i + 1 < kids.size(); i += 2) {
      if (kids[i]->kind != YamlNode::Kind::Scalar) continue;
      std::string_view k = doc_.value(*kids[i]);
      if (k == key) return kids[i + 1];
      if (k == "<<" && !kids[i]->quoted && !merged) {
        const YamlNode* v = kids[i + 1];
        if (v->kind == YamlNode::Kind::Mapping) {
          merged = get(v, key);
        } else if (v->kind == YamlNode::Kind::Sequence) {
          for (const YamlNode* item : doc_.children(*v))
            if ((merged = get(item, key))) break;
        }
      }
    }
    return merged;
  }

  // Keys and values of a mapping, merge keys expanded (explicit keys win).
  std::vector<std::pair<std::string, const YamlNode*>> entries(const YamlNode* m) const {
    std::vector<std::pair<std::string, const YamlNode*>> out;
    if (!m || m->kind != YamlNode::Kind::Mapping) return out;
    auto add = [&](std::string k, const YamlNode* v) {
      for (auto& e : out)
        if (e.first == k) return;
      out.emplace_back(std::move(k), v);
    };
    auto kids = doc_.children(*m);
    for (size_t i = 0; i + 1 < kids.size(); i += 2) {
      std::string k = kids[i]->kind == YamlNode::Kind::Scalar ? std::string(doc_.value(*kids[i])) : "";
      if (k == "<<" && !kids[i]->quoted) continue;
      add(std::move(k), kids[i + 1]);
    }
    for (size_t i = 0; i + 1 < kids.size(); i += 2) {
      if (kids[i]->kind != YamlNode::Kind::Scalar || doc_.value(*kids[i]) != "<<" || kids[i]->quoted) continue;
      const YamlNode* v = kids[i + 1];
      std::vector<const YamlNode*> sources;
      if (v->kind == YamlNode::Kind::Mapping) sources.push_back(v);
      else if (v->kind == YamlNode::Kind::Sequence) sources = doc_.children(*v);
      for (const YamlNode* s : sources)
        for (auto& [k, val] : entries(s)) add(k, val);
    }
    return out;
  }

  std::vector<const YamlNode*> items(const YamlNode* n) const {
    if (!n || n->kind != YamlNode::Kind::Sequence) return {};
    return doc_.children(*n);
  }

  static bool is_null(const YamlNode* n) {
    return !n || n->kind == YamlNode::Kind::Null;
  }
  // A scalar's text; "" for null (Go's zero value) and for containers.
  std::string text(const YamlNode* n) const {
    if (!n || n->kind != YamlNode::Kind::Scalar) return "";
    if (!n->quoted && is_null_word(doc_.value(*n))) return "";
    return std::string(doc_.value(*n));
  }
  bool null_value(const YamlNode* n) const {
    if (!n || n->kind == YamlNode::Kind::Null) return true;
    return n->kind == YamlNode::Kind::Scalar && !n->quoted && is_null_word(doc_.value(*n));
  }
  bool quoted(const YamlNode* n) const { return n && n->quoted; }
  const YamlDocument& doc() const { return doc_; }

 private:
  static bool is_null_word(std::string_view s) {
    return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
  }
  const YamlDocument& doc_;
};

// ---- building the tree from the input, struct by struct ----

class Builder {
 public:
  Builder(const YamlDocument& doc, std::string_view base_dir) : in_(doc), dir_(base_dir) {}

  Out config(const YamlNode* root);

 private:
  // A struct being written: its input mapping and the output.
  struct S {
    const Input& in;
    const YamlNode* m;
    Out out = Out::mapping();

    const YamlNode* n(std::string_view k) const { return in.get(m, k); }
    bool has(std::string_view k) const { return n(k) != nullptr; }
    bool set(std::string_view k) const { return !in.null_value(n(k)); }
    std::string text(std::string_view k, std::string_view def = "") const {
      const YamlNode* v = n(k);
      return v ? in.text(v) : std::string(def);
    }
    // string field
    void str(std::string_view k, bool omitempty = true, std::string_view def = "") {
      put_str(k, text(k, def), omitempty);
    }
    void put_str(std::string_view k, std::string v, bool omitempty = true) {
      if (omitempty && v.empty()) return;
      out.put(std::string(k), Out::str(std::move(v)));
    }
    bool boolean_value(std::string_view k, bool def = false) const {
      const YamlNode* v = n(k);
      if (!v) return def;
      return yaml11_bool(in.text(v)).value_or(false);
    }
    void boolean(std::string_view k, bool omitempty = true, bool def = false) {
      bool b = boolean_value(k, def);
      if (omitempty && !b) return;
      out.put(std::string(k), Out::boolean(b));
    }
    std::optional<Out> bool_ptr(std::string_view k) const {
      if (!set(k)) return std::nullopt;
      return Out::boolean(boolean_value(k));
    }
    // commoncfg.Secret
    static std::optional<Out> secret_of(const std::string& v, bool omitempty = true) {
      if (v.empty()) return omitempty ? std::nullopt : std::optional<Out>(Out());
      return Out::str(std::string(kSecret));
    }
    void secret(std::string_view k, bool omitempty = true) { out.put(std::string(k), secret_of(text(k), omitempty)); }
    // *commoncfg.Secret
    std::optional<Out> secret_ptr(std::string_view k) const {
      if (!set(k)) return std::nullopt;
      return secret_of(text(k), false);
    }
    // *SecretURL: "<secret>" when set
    std::optional<Out> secret_url(std::string_view k) const {
      if (!set(k)) return std::nullopt;
      return Out::str(std::string(kSecret));
    }
    std::optional<Out> url(std::string_view k) const {
      if (!set(k)) return std::nullopt;
      return Out::str(normalize_url(text(k)));
    }
    std::optional<Out> int_value(std::string_view k, bool omitempty = true) const {
      std::string v = text(k);
      auto parsed = yaml_int(v);
      int64_t i = parsed.value_or(0);
      if (omitempty && i == 0) return std::nullopt;
      return Out::raw(std::to_string(i));
    }
    // time.Duration (and Pushover's duration): Go's form
    std::optional<Out> go_duration(std::string_view k, bool omitempty, std::string_view def = "") const {
      std::string v = text(k, def);
      int64_t ms = 0;
      if (!v.empty()) {
        if (auto d = parse_go_duration(v)) ms = *d;
      }
      if (omitempty && ms == 0) return std::nullopt;
      return Out::str(format_go_duration(ms * 1000000));
    }
    // model.Duration
    std::optional<Out> duration(std::string_view k, bool omitempty, std::string_view def = "") const {
      std::string v = text(k, def);
      int64_t ms = 0;
      if (!v.empty()) {
        if (auto d = parse_duration(v)) ms = *d;
      }
      if (omitempty && ms == 0) return std::nullopt;
      return Out::str(format_duration(ms));
    }
    std::optional<Out> duration_ptr(std::string_view k) const {
      if (!set(k)) return std::nullopt;
      return duration(k, false);
    }
    std::optional<Out> string_map(std::string_view k) const { return string_map_of(in, n(k)); }
    std::optional<Out> string_list(std::string_view k, bool omitempty = true, bool flow = false) const {
      Out seq = Out::sequence(flow);
      for (const YamlNode* item : in.items(n(k))) seq.seq.push_back(Out::str(in.text(item)));
      if (omitempty && seq.seq.empty()) return std::nullopt;
      return seq;
    }
  };

  static std::optional<Out> string_map_of(const Input& in, const YamlNode* node) {
    Out m = Out::mapping();
    for (auto& [k, v] : in.entries(node)) m.put(k, Out::str(in.text(v)));
    if (m.map.empty()) return std::nullopt;
    sort_keys(m);
    return m;
  }

  static std::string normalize_url(std::string u) {
    size_t colon = u.find(':');
    if (colon != std::string::npos) {
      bool scheme = colon > 0;
      for (size_t i = 0; i < colon; ++i)
        if (!std::isalnum(static_cast<unsigned char>(u[i])) && u[i] != '+' && u[i] != '-' && u[i] != '.') scheme = false;
      if (scheme)
        for (size_t i = 0; i < colon; ++i) u[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(u[i])));
    }
    return u;
  }
  // Opsgenie, WeChat and VictorOps URLs get a trailing slash on their path.
  static std::string with_trailing_slash(const std::string& u) {
    size_t start = u.find("://");
    start = start == std::string::npos ? 0 : start + 3;
    size_t path = u.find('/', start);
    size_t end = u.find_first_of("?#", start);
    if (end == std::string::npos) end = u.size();
    if (path != std::string::npos && path < end) {
      if (u[end - 1] == '/') return u;
      return u.substr(0, end) + "/" + u.substr(end);
    }
    return u.substr(0, end) + "/" + u.substr(end);
  }

  // interface{} data: scalars resolved as yaml.v2 resolves them.
  Out any_value(const YamlNode* n) const {
    const YamlDocument& d = in_.doc();
    if (!n || n->kind == YamlNode::Kind::Null) return Out();
    if (n->kind == YamlNode::Kind::Mapping) {
      Out m = Out::mapping();
      auto kids = d.children(*n);
      for (auto& [k, v] : in_.entries(n)) {
        const YamlNode* key_node = nullptr;
        for (size_t i = 0; i + 1 < kids.size(); i += 2)
          if (kids[i]->kind == YamlNode::Kind::Scalar && d.value(*kids[i]) == k) key_node = kids[i];
        Out key = key_node ? any_value(key_node) : Out::str(k);
        if (key.kind == Out::Kind::Raw) {
          char rank = key.s == "true" || key.s == "false" ? '1' : key.s.find_first_of(".ein") == std::string::npos ? '2' : 'D';
          m.put(std::string(1, kRawKey) + rank + key.s, any_value(v));
        } else {
          m.put(k, any_value(v));
        }
      }
      sort_keys(m);
      return m;
    }
    if (n->kind == YamlNode::Kind::Sequence) {
      Out s = Out::sequence();
      for (const YamlNode* c : d.children(*n)) s.seq.push_back(any_value(c));
      return s;
    }
    std::string v(d.value(*n));
    if (n->quoted || !d.tag(*n).empty()) return Out::str(v);
    if (in_.null_value(n)) return Out();
    if (auto b = yaml11_bool(v)) return Out::boolean(*b);
    if (resolves_to_string(v)) return Out::str(v);
    std::string plain;
    for (char c : v)
      if (c != '_') plain += c;
    if (auto i = yaml_int(plain)) return Out::raw(std::to_string(*i));
    if (yaml_style_float(plain) || v[0] == '.' || v.find(".inf") != std::string::npos ||
        v.find(".Inf") != std::string::npos || v.find(".INF") != std::string::npos) {
      if (v == ".nan" || v == ".NaN" || v == ".NAN") return Out::raw(".nan");
      if (v.find("inf") != std::string::npos || v.find("Inf") != std::string::npos || v.find("INF") != std::string::npos)
        return Out::raw(v[0] == '-' ? "-.inf" : "+.inf");
      return Out::raw(go_float(std::strtod(plain.c_str(), nullptr)));
    }
    return Out::str(v);
  }

  Out tls_config(const YamlNode* n, bool resolve) const;
  std::optional<Out> tls_value(const YamlNode* n, bool resolve) const;  // a value field: omitted when zero
  Out http_config(const YamlNode* n, bool resolve, const Out* authorization = nullptr) const;
  void proxy(S& s, bool resolve) const;
  std::optional<Out> headers(const YamlNode* n, bool resolve) const;
  Out global(const YamlNode* n);
  Out route(const YamlNode* n) const;
  std::optional<Out> matchers(const YamlNode* n) const;
  std::optional<Out> regexps(const YamlNode* n) const;
  Out inhibit_rule(const YamlNode* n) const;
  Out receiver(const YamlNode* n);
  Out time_interval(const YamlNode* n) const;
  Out named_intervals(const YamlNode* n) const;
  std::optional<Out> tracing(const YamlNode* n) const;

  // Each integration.
  Out integration_http(const S& s, bool resolve = true) const {
    if (s.set("http_config")) return http_config(s.n("http_config"), resolve);
    return global_http_;
  }
  Out webhook(const YamlNode* n) const;
  Out email(const YamlNode* n, bool active) const;
  Out pagerduty(const YamlNode* n) const;
  Out slack(const YamlNode* n) const;
  Out opsgenie(const YamlNode* n);
  Out wechat(const YamlNode* n);
  Out pushover(const YamlNode* n) const;
  Out victorops(const YamlNode* n);
  Out sns(const YamlNode* n) const;
  Out telegram(const YamlNode* n) const;
  Out discord(const YamlNode* n) const;
  Out webex(const YamlNode* n) const;
  Out msteams(const YamlNode* n) const;
  Out msteamsv2(const YamlNode* n) const;
  Out jira(const YamlNode* n) const;
  Out incidentio(const YamlNode* n) const;
  Out rocketchat(const YamlNode* n) const;
  Out mattermost(const YamlNode* n) const;

  // A global setting as written out, nullptr when it is not set.
  const Out* g(std::string_view k) const { return global_out_.get(k); }
  std::optional<Out> g_opt(std::string_view k) const {
    const Out* v = g(k);
    return v ? std::optional<Out>(*v) : std::nullopt;
  }
  std::string g_text(std::string_view k) const {
    const Out* v = g(k);
    return v ? v->s : "";
  }

  Input in_;
  std::string dir_;
  const YamlNode* global_in_ = nullptr;
  Out global_out_ = Out::mapping();
  Out global_http_ = Out::mapping();
  std::vector<std::string> slashed_globals_;
  std::set<std::string> active_receivers_;  // the receivers routes name

  void collect_receivers(const YamlNode* route) {
    std::string r = in_.text(in_.get(route, "receiver"));
    if (!r.empty()) active_receivers_.insert(r);
    for (const YamlNode* child : in_.items(in_.get(route, "routes"))) collect_receivers(child);
  }
  std::optional<Out> event_recorder(const YamlNode* n) const;
};

std::optional<Out> Builder::tls_value(const YamlNode* n, bool resolve) const {
  if (in_.null_value(n)) return std::nullopt;
  Out t = tls_config(n, resolve);
  // Omitted when every field is zero (insecure_skip_verify is always written).
  if (t.map.size() == 1 && t.map[0].first == "insecure_skip_verify" && t.map[0].second.s == "false") return std::nullopt;
  return t;
}

Out Builder::tls_config(const YamlNode* n, bool resolve) const {
  S s{in_, n};
  s.str("ca");
  s.str("cert");
  s.secret("key");
  for (const char* k : {"ca_file", "cert_file", "key_file"}) {
    std::string v = s.text(k);
    s.put_str(k, resolve ? join_dir(dir_, v) : v);
  }
  s.str("ca_ref");
  s.str("cert_ref");
  s.str("key_ref");
  s.str("server_name");
  s.boolean("insecure_skip_verify", false);
  s.str("min_version");
  s.str("max_version");
  return std::move(s.out);
}

void Builder::proxy(S& s, bool) const {
  if (s.set("proxy_url")) s.put_str("proxy_url", s.text("proxy_url"));
  s.str("no_proxy");
  s.boolean("proxy_from_environment");
  Out h = Out::mapping();
  for (auto& [k, v] : in_.entries(s.n("proxy_connect_header"))) {
    Out list = Out::sequence();
    for (const YamlNode* item : in_.items(v)) list.seq.push_back(*S::secret_of(in_.text(item), false));
    h.put(k, std::move(list));
  }
  if (!h.map.empty()) {
    sort_keys(h);
    s.out.put("proxy_connect_header", std::move(h));
  }
}

std::optional<Out> Builder::headers(const YamlNode* n, bool resolve) const {
  if (in_.null_value(n)) return std::nullopt;
  Out m = Out::mapping();
  for (auto& [k, v] : in_.entries(n)) {
    S h{in_, v};
    h.out.put("values", h.string_list("values"));
    Out secrets = Out::sequence();
    for (const YamlNode* item : in_.items(h.n("secrets"))) secrets.seq.push_back(*S::secret_of(in_.text(item), false));
    if (!secrets.seq.empty()) h.out.put("secrets", std::move(secrets));
    Out files = Out::sequence();
    for (const YamlNode* item : in_.items(h.n("files")))
      files.seq.push_back(Out::str(resolve ? join_dir(dir_, in_.text(item)) : in_.text(item)));
    if (!files.seq.empty()) h.out.put("files", std::move(files));
    m.put(k, std::move(h.out));
  }
  sort_keys(m);
  return m;
}

Out Builder::http_config(const YamlNode* n, bool resolve, const Out* authorization) const {
  S s{in_, n};
  auto file = [&](S& o, const char* k) {
    std::string v = o.text(k);
    o.put_str(k, resolve ? join_dir(dir_, v) : v);
  };
  if (s.set("basic_auth")) {
    S b{in_, s.n("basic_auth")};
    b.str("username");
    file(b, "username_file");
    b.str("username_ref");
    b.secret("password");
    file(b, "password_file");
    b.str("password_ref");
    s.out.put("basic_auth", std::move(b.out));
  }
  if (authorization) {
    s.out.put("authorization", *authorization);
  } else if (s.set("authorization") || !s.text("bearer_token").empty() || !s.text("bearer_token_file").empty()) {
    S a{in_, s.n("authorization")};
    std::string type = a.text("type");
    std::string creds = a.text("credentials"), creds_file = a.text("credentials_file");
    if (!s.set("authorization")) {
      creds = s.text("bearer_token");
      creds_file = s.text("bearer_token_file");
    }
    while (!type.empty() && std::isspace(static_cast<unsigned char>(type.front()))) type.erase(type.begin());
    while (!type.empty() && std::isspace(static_cast<unsigned char>(type.back()))) type.pop_back();
    if (type.empty()) type = "Bearer";
    a.put_str("type", type);
    a.out.put("credentials", S::secret_of(creds));
    a.put_str("credentials_file", resolve ? join_dir(dir_, creds_file) : creds_file);
    a.str("credentials_ref");
    s.out.put("authorization", std::move(a.out));
  }
  if (s.set("oauth2")) {
    S o{in_, s.n("oauth2")};
    o.str("client_id");
    o.secret("client_secret");
    file(o, "client_secret_file");
    o.str("client_secret_ref");
    o.str("client_certificate_key_id");
    o.secret("client_certificate_key");
    o.str("client_certificate_key_file");
    o.str("client_certificate_key_ref");
    o.str("grant_type");
    o.str("signature_algorithm");
    o.str("iss");
    o.str("audience");
    if (o.set("claims")) {
      Out c = any_value(o.n("claims"));
      if (c.kind == Out::Kind::Map && !c.map.empty()) o.out.put("claims", std::move(c));
    }
    o.out.put("scopes", o.string_list("scopes"));
    o.str("token_url");
    o.out.put("endpoint_params", o.string_map("endpoint_params"));
    o.out.put("tls_config", tls_value(o.n("tls_config"), resolve));
    proxy(o, resolve);
    s.out.put("oauth2", std::move(o.out));
  }
  s.out.put("tls_config", tls_value(s.n("tls_config"), resolve));
  s.boolean("follow_redirects", false, true);
  s.boolean("enable_http2", false, true);
  proxy(s, resolve);
  s.out.put("http_headers", headers(s.n("http_headers"), resolve));
  return std::move(s.out);
}

Out Builder::global(const YamlNode* n) {
  S s{in_, n};
  s.out.put("resolve_timeout", s.duration("resolve_timeout", false, "5m"));
  global_http_ = s.set("http_config") || !s.has("http_config") ? http_config(s.n("http_config"), true) : Out();
  if (s.set("http_config") || !s.has("http_config")) s.out.put("http_config", global_http_);
  s.out.put("jira_api_url", s.url("jira_api_url"));
  s.str("smtp_from");
  s.str("smtp_hello", true, "localhost");
  {
    std::string hp = s.text("smtp_smarthost");
    s.put_str("smtp_smarthost", hp);
  }
  s.str("smtp_auth_username");
  s.secret("smtp_auth_password");
  s.str("smtp_auth_password_file");
  s.secret("smtp_auth_secret");
  s.str("smtp_auth_secret_file");
  s.str("smtp_auth_identity");
  s.boolean("smtp_require_tls", false, true);
  if (!s.has("smtp_tls_config")) s.out.put("smtp_tls_config", tls_config(nullptr, false));
  else if (s.set("smtp_tls_config")) s.out.put("smtp_tls_config", tls_config(s.n("smtp_tls_config"), false));
  s.out.put("smtp_force_implicit_tls", s.bool_ptr("smtp_force_implicit_tls"));
  s.out.put("slack_api_url", s.secret_url("slack_api_url"));
  s.str("slack_api_url_file");
  s.secret("slack_app_token");
  s.str("slack_app_token_file");
  auto url_default = [&](const char* k, const char* def) {
    if (!s.has(k)) s.put_str(k, def);
    else s.out.put(k, s.url(k));
  };
  url_default("slack_app_url", "https://slack.com/api/chat.postMessage");
  url_default("pagerduty_url", "https://events.pagerduty.com/v2/enqueue");
  url_default("opsgenie_api_url", "https://api.opsgenie.com/");
  s.secret("opsgenie_api_key");
  s.str("opsgenie_api_key_file");
  url_default("wechat_api_url", "https://qyapi.weixin.qq.com/cgi-bin/");
  s.secret("wechat_api_secret");
  s.str("wechat_api_secret_file");
  s.str("wechat_api_corp_id");
  url_default("victorops_api_url", "https://alert.victorops.com/integrations/generic/20131114/alert/");
  s.secret("victorops_api_key");
  s.str("victorops_api_key_file");
  url_default("telegram_api_url", "https://api.telegram.org");
  s.secret("telegram_bot_token");
  s.str("telegram_bot_token_file");
  url_default("webex_api_url", "https://webexapis.com/v1/messages");
  url_default("rocketchat_api_url", "https://open.rocket.chat/");
  s.out.put("rocketchat_token", s.secret_ptr("rocketchat_token"));
  s.str("rocketchat_token_file");
  s.out.put("rocketchat_token_id", s.secret_ptr("rocketchat_token_id"));
  s.str("rocketchat_token_id_file");
  s.out.put("mattermost_webhook_url", s.secret_url("mattermost_webhook_url"));
  s.str("mattermost_webhook_url_file");
  return std::move(s.out);
}

std::optional<Out> Builder::matchers(const YamlNode* n) const {
  std::vector<Matcher> all;
  for (const YamlNode* item : in_.items(n)) {
    auto parsed = parse_matchers(in_.text(item), MatcherSyntax::kFallback);
    if (parsed) all.insert(all.end(), parsed->begin(), parsed->end());
  }
  if (all.empty()) return std::nullopt;
  Matchers sorted(std::move(all));
  Out seq = Out::sequence();
  for (const Matcher& m : sorted) seq.seq.push_back(Out::str(format_matcher(m)));
  return seq;
}

std::optional<Out> Builder::regexps(const YamlNode* n) const {
  Out m = Out::mapping();
  for (auto& [k, v] : in_.entries(n)) {
    std::string re = in_.text(v);
    m.put(k, re.empty() ? Out() : Out::str(re));
  }
  if (m.map.empty()) return std::nullopt;
  sort_keys(m);
  return m;
}

Out Builder::route(const YamlNode* n) const {
  S s{in_, n};
  s.str("receiver");
  s.out.put("group_by", s.string_list("group_by"));
  s.out.put("match", s.string_map("match"));
  s.out.put("match_re", regexps(s.n("match_re")));
  s.out.put("matchers", matchers(s.n("matchers")));
  s.out.put("mute_time_intervals", s.string_list("mute_time_intervals"));
  s.out.put("active_time_intervals", s.string_list("active_time_intervals"));
  s.boolean("continue", false);
  Out routes = Out::sequence();
  for (const YamlNode* child : in_.items(s.n("routes")))
    if (!in_.null_value(child)) routes.seq.push_back(route(child));
  if (!routes.seq.empty()) s.out.put("routes", std::move(routes));
  s.out.put("group_wait", s.duration_ptr("group_wait"));
  s.out.put("group_interval", s.duration_ptr("group_interval"));
  s.out.put("repeat_interval", s.duration_ptr("repeat_interval"));
  return std::move(s.out);
}

Out Builder::inhibit_rule(const YamlNode* n) const {
  S s{in_, n};
  s.str("name");
  s.out.put("source_match", s.string_map("source_match"));
  s.out.put("source_match_re", regexps(s.n("source_match_re")));
  s.out.put("source_matchers", matchers(s.n("source_matchers")));
  s.out.put("target_match", s.string_map("target_match"));
  s.out.put("target_match_re", regexps(s.n("target_match_re")));
  s.out.put("target_matchers", matchers(s.n("target_matchers")));
  s.out.put("equal", s.string_list("equal"));
  return std::move(s.out);
}

#define TMPL(name) "{{ template \"" name "\" . }}"

Out Builder::webhook(const YamlNode* n) const {
  S s{in_, n};
  s.boolean("send_resolved", false, true);
  s.out.put("http_config", integration_http(s));
  s.out.put("url", S::secret_of(s.text("url")));
  s.str("url_file", false);
  s.out.put("max_alerts", s.int_value("max_alerts", false));
  s.out.put("timeout", s.go_duration("timeout", false));
  if (s.set("payload")) s.out.put("payload", any_value(s.n("payload")));
  return std::move(s.out);
}

Out Builder::email(const YamlNode* n, bool active) const {
  S s{in_, n};
  s.boolean("send_resolved", false, false);
  s.str("to");
  auto or_global = [&](const char* k, const char* gk) {
    std::string v = s.text(k);
    if (v.empty()) v = g_text(gk);
    s.put_str(k, v);
  };
  or_global("from", "smtp_from");
  or_global("hello", "smtp_hello");
  {
    std::string hp = s.text("smarthost");
    if (hp.empty()) hp = g_text("smtp_smarthost");
    s.put_str("smarthost", hp);
  }
  or_global("auth_username", "smtp_auth_username");
  std::string pw = s.text("auth_password"), pw_file = s.text("auth_password_file");
  if (pw.empty() && pw_file.empty()) {
    s.out.put("auth_password", g_opt("smtp_auth_password"));
    s.put_str("auth_password_file", g_text("smtp_auth_password_file"));
  } else {
    s.out.put("auth_password", S::secret_of(pw));
    s.put_str("auth_password_file", pw_file);
  }
  if (!s.text("auth_secret").empty()) s.out.put("auth_secret", S::secret_of(s.text("auth_secret")));
  else s.out.put("auth_secret", g_opt("smtp_auth_secret"));
  or_global("auth_secret_file", "smtp_auth_secret_file");
  or_global("auth_identity", "smtp_auth_identity");
  {
    Out h = Out::mapping();
    for (auto& [k, v] : in_.entries(s.n("headers"))) {
      std::string key = k;
      bool ok = std::all_of(key.begin(), key.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
      });
      if (ok) {
        bool upper = true;
        for (char& c : key) {
          c = static_cast<char>(upper ? std::toupper(static_cast<unsigned char>(c)) : std::tolower(static_cast<unsigned char>(c)));
          upper = c == '-';
        }
      }
      h.put(key, Out::str(in_.text(v)));
    }
    // Building the notifier of a receiver that routes use fills in the
    // Subject, To and From headers (upstream does it on the config itself).
    if (active) {
      if (!h.get("Subject")) h.put("Subject", Out::str("{{ template \"email.default.subject\" . }}"));
      if (!h.get("To")) h.put("To", Out::str(s.text("to")));
      if (!h.get("From")) {
        std::string from = s.text("from");
        h.put("From", Out::str(from.empty() ? g_text("smtp_from") : from));
      }
    }
    if (!h.map.empty()) {
      sort_keys(h);
      s.out.put("headers", std::move(h));
    }
  }
  s.str("html", true, TMPL("email.default.html"));
  s.str("text", true, "");
  if (s.set("require_tls")) s.out.put("require_tls", s.bool_ptr("require_tls"));
  else s.out.put("require_tls", g_opt("smtp_require_tls"));
  if (s.set("tls_config")) s.out.put("tls_config", tls_config(s.n("tls_config"), false));
  else s.out.put("tls_config", g_opt("smtp_tls_config"));
  if (s.set("force_implicit_tls")) s.out.put("force_implicit_tls", s.bool_ptr("force_implicit_tls"));
  else s.out.put("force_implicit_tls", g_opt("smtp_force_implicit_tls"));
  {
    S t{in_, s.n("threading")};
    t.boolean("enabled");
    t.str("thread_by_date");
    if (!t.out.map.empty()) s.out.put("threading", std::move(t.out));
  }
  return std::move(s.out);
}

Out Builder::pagerduty(const YamlNode* n) const {
  S s{in_, n};
  s.boolean("send_resolved", false, true);
  s.out.put("http_config", integration_http(s));
  s.secret("service_key");
  s.str("service_key_file");
  s.secret("routing_key");
  s.str("routing_key_file");
  if (s.set("url")) s.out.put("url", s.url("url"));
  else s.out.put("url", g_opt("pagerduty_url"));
  std::string client = s.text("client", TMPL("pagerduty.default.client"));
  s.put_str("client", client);
  s.str("client_url", true, TMPL("pagerduty.default.clientURL"));
  s.str("description", true, "{{ template \"pagerduty.default.description\" .}}");
  {
    Out d = Out::mapping();
    for (auto& [k, v] : in_.entries(s.n("details"))) d.put(k, any_value(v));
    const std::pair<const char*, const char*> defaults[] = {
        {"firing", "{{ .Alerts.Firing | toJson }}"},
        {"resolved", "{{ .Alerts.Resolved | toJson }}"},
        {"num_firing", "{{ .Alerts.Firing | len }}"},
        {"num_resolved", "{{ .Alerts.Resolved | len }}"}};
    for (auto& [k, v] : defaults)
      if (!d.get(k)) d.put(k, Out::str(v));
    sort_keys(d);
    s.out.put("details", std::move(d));
  }
  Out images = Out::sequence();
  for (const YamlNode* item : in_.items(s.n("images"))) {
    S i{in_, item};
    i.str("src");
    i.str("alt");
    i.str("href");
    images.seq.push_back(std::move(i.out));
  }
  if (!images.seq.empty()) s.out.put("images", std::move(images));
  Out links = Out::sequence();
  for (const YamlNode* item : in_.items(s.n("links"))) {
    S l{in_, item};
    l.str("href");
    l.str("text");
    links.seq.push_back(std::move(l.out));
  }
  if (!links.seq.empty()) s.out.put("links", std::move(links));
  std::string source = s.text("source");
  s.put_str("source", source.empty() ? client : source);
  s.str("severity");
  s.str("class");
  s.str("component");
  s.str("group");
  s.out.put("timeout", s.go_duration("timeout", false));
  return std::move(s.out);
}

Out Builder::slack(const YamlNode* n) const {
  S s{in_, n};
  s.boolean("send_resolved", false, false);
  std::optional<Out> app_url = s.set("app_url") ? s.url("app_url") : g_opt("slack_app_url");
  std::string token = s.text("app_token"), token_file = s.text("app_token_file");
  const YamlNode* own_http = s.set("http_config") ? s.n("http_config") : nullptr;
  bool own_auth = own_http && !in_.null_value(in_.get(own_http, "authorization"));
  bool api_url_set = s.set("api_url");
  std::optional<Out> token_out = S::secret_of(token);
  if (token.empty() && token_file.empty() && !own_auth && !api_url_set) {
    token_out = g_opt("slack_app_token");
    token_file = g_text("slack_app_token_file");
  }
  std::optional<Out> api_url = s.secret_url("api_url");
  std::string api_url_file = s.text("api_url_file");
  if (!api_url && api_url_file.empty()) {
    api_url = g_opt("slack_api_url");
    api_url_file = g_text("slack_api_url_file");
  }
  std::optional<Out> auth;
  if (token_out || !token_file.empty()) {
    Out a = Out::mapping();
    a.put("type", Out::str("Bearer"));
    a.put("credentials", token_out);
    if (!token_file.empty()) a.put("credentials_file", Out::str(join_dir(dir_, token_file)));
    auth = std::move(a);
    api_url = Out::str(std::string(kSecret));
  }
  const YamlNode* http_node = own_http ? own_http : in_.get(global_in_, "http_config");
  if (auth) s.out.put("http_config", http_config(http_node, true, &*auth));
  else s.out.put("http_config", integration_http(s));
  s.out.put("api_url", api_url);
  s.put_str("api_url_file", api_url_file);
  s.out.put("app_token", token_out);
  s.put_str("app_token_file", token_file);
  s.out.put("app_url", app_url);
  s.str("channel");
  s.str("username", true, TMPL("slack.default.username"));
  s.str("color", true, TMPL("slack.default.color"));
  s.str("title", true, TMPL("slack.default.title"));
  s.str("title_link", true, TMPL("slack.default.titlelink"));
  s.str("pretext", true, TMPL("slack.default.pretext"));
  s.str("text", true, TMPL("slack.default.text"));
  s.str("message_text");
  Out fields = Out::sequence();
  for (const YamlNode* item : in_.items(s.n("fields"))) {
    S f{in_, item};
    f.str("title");
    f.str("value");
    f.out.put("short", f.bool_ptr("short"));
    fields.seq.push_back(std::move(f.out));
  }
  if (!fields.seq.empty()) s.out.put("fields", std::move(fields));
  s.boolean("short_fields", false);
  s.str("footer", true, TMPL("slack.default.footer"));
  s.str("fallback", true, TMPL("slack.default.fallback"));
  s.str("callback_id", true, TMPL("slack.default.callbackid"));
  s.str("icon_emoji", true, TMPL("slack.default.iconemoji"));
  s.str("icon_url", true, TMPL("slack.default.iconurl"));
  s.str("image_url");
  s.str("thumb_url");
  s.boolean("link_names", false);
  s.out.put("mrkdwn_in", s.string_list("mrkdwn_in"));
  Out actions = Out::sequence();
  for (const YamlNode* item : in_.items(s.n("actions"))) {
    S a{in_, item};
    bool by_url = !a.text("url").empty();
    a.str("type");
    a.str("text");
    a.str("url");
    a.str("style");
    if (!by_url) {
      a.str("name");
      a.str("value");
      if (a.set("confirm")) {
        S c{in_, a.n("confirm")};
        c.str("text");
        c.str("title");
        c.str("ok_text");
        c.str("dismiss_text");
        a.out.put("confirm", std::move(c.out));
      }
    }
    actions.seq.push_back(std::move(a.out));
  }
  if (!actions.seq.empty()) s.out.put("actions", std::move(actions));
  s.boolean("update_message", false);
  s.out.put("timeout", s.go_duration("timeout", false));
  return std::move(s.out);
}

Out Builder::opsgenie(const YamlNode* n) {
  S s{in_, n};
  s.boolean("send_resolved", false, true);
  s.out.put("http_config", integration_http(s));
  if (!s.text("api_key").empty()) s.secret("api_key");
  else s.out.put("api_key", g_opt("opsgenie_api_key"));
  std::string key_file = s.text("api_key_file");
  s.put_str("api_key_file", key_file.empty() ? g_text("opsgenie_api_key_file") : key_file);
  if (s.set("api_url")) {
    s.put_str("api_url", with_trailing_slash(normalize_url(s.text("api_url"))));
  } else if (const Out* gu = g("opsgenie_api_url")) {
    s.put_str("api_url", with_trailing_slash(gu->s));
    slashed_globals_.emplace_back("opsgenie_api_url");
  }
  s.str("message", true, TMPL("opsgenie.default.message"));
  s.str("description", true, TMPL("opsgenie.default.description"));
  s.str("source", true, TMPL("opsgenie.default.source"));
  s.out.put("details", s.string_map("details"));
  s.str("entity");
  Out responders = Out::sequence();
  for (const YamlNode* item : in_.items(s.n("responders"))) {
    S r{in_, item};
    r.str("id");
    r.str("name");
    r.str("username");
    r.str("type");  // upstream lowercases a copy: the config keeps what was written
    responders.seq.push_back(std::move(r.out));
  }
  if (!responders.seq.empty()) s.out.put("responders", std::move(responders));
  s.str("actions");
  s.str("tags");
  s.str("note");
  s.str("priority");
  s.boolean("update_alerts");
  return std::move(s.out);
}

Out Builder::wechat(const YamlNode* n) {
  S s{in_, n};
  s.boolean("send_resolved", false, false);
  s.out.put("http_config", integration_http(s));
  std::string secret = s.text("api_secret"), secret_file = s.text("api_secret_file");
  if (secret.empty() && secret_file.empty()) {
    s.out.put("api_secret", g_opt("wechat_api_secret"));
    s.put_str("api_secret_file", g_text("wechat_api_secret_file"));
  } else {
    s.out.put("api_secret", S::secret_of(secret));
    s.put_str("api_secret_file", secret_file);
  }
  std::string corp = s.text("corp_id");
  s.put_str("corp_id", corp.empty() ? g_text("wechat_api_corp_id") : corp);
  s.str("message", true, TMPL("wechat.default.message"));
  if (s.set("api_url")) {
    s.put_str("api_url", with_trailing_slash(normalize_url(s.text("api_url"))));
  } else if (const Out* gu = g("wechat_api_url")) {
    s.put_str("api_url", with_trailing_slash(gu->s));
    slashed_globals_.emplace_back("wechat_api_url");
  }
  s.str("to_user", true, TMPL("wechat.default.to_user"));
  s.str("to_party", true, TMPL("wechat.default.to_party"));
  s.str("to_tag", true, TMPL("wechat.default.to_tag"));
  s.str("agent_id", true, TMPL("wechat.default.agent_id"));
  std::string type = s.text("message_type");
  s.put_str("message_type", type.empty() ? "text" : type);
  return std::move(s.out);
}

Out Builder::pushover(const YamlNode* n) const {
  S s{in_, n};
  s.boolean("send_resolved", false, true);
  s.out.put("http_config", integration_http(s));
  s.secret("user_key");
  s.str("user_key_file");
  s.secret("token");
  s.str("token_file");
  s.str("title", true, TMPL("pushover.default.title"));
  s.str("message", true, TMPL("pushover.default.message"));
  s.str("url", true, TMPL("pushover.default.url"));
  s.str("url_title");
  s.str("device");
  s.str("sound");
  s.str("priority", true, "{{ if eq .Status \"firing\" }}2{{ else }}0{{ end }}");
  s.out.put("retry", s.go_duration("retry", true, "1m"));
  s.out.put("expire", s.go_duration("expire", true, "1h"));
  s.out.put("ttl", s.go_duration("ttl", true));
  s.boolean("html");
  s.boolean("monospace");
  return std::move(s.out);
}

Out Builder::victorops(const YamlNode* n) {
  S s{in_, n};
  s.boolean("send_resolved", false, true);
  s.out.put("http_config", integration_http(s));
  if (!s.text("api_key").empty()) s.secret("api_key");
  else s.out.put("api_key", g_opt("victorops_api_key"));
  std::string key_file = s.text("api_key_file");
  s.put_str("api_key_file", key_file.empty() ? g_text("victorops_api_key_file") : key_file);
  if (s.set("api_url")) {
    s.put_str("api_url", with_trailing_slash(normalize_url(s.text("api_url"))));
  } else if (const Out* gu = g("victorops_api_url")) {
    s.put_str("api_url", with_trailing_slash(gu->s));
    slashed_globals_.emplace_back("victorops_api_url");
  } else {
    s.out.put("api_url", Out());
  }
  s.str("routing_key", false);
  s.str("message_type", false, "CRITICAL");
  s.str("state_message", false, TMPL("victorops.default.state_message"));
  s.str("entity_display_name", false, TMPL("victorops.default.entity_display_name"));
  s.str("monitoring_tool", false, TMPL("victorops.default.monitoring_tool"));
  s.out.put("custom_fields", s.string_map("custom_fields"));
  return std::move(s.out);
}

Out Builder::sns(const YamlNode* n) const {
  S s{in_, n};
  s.boolean("send_resolved", false, true);
  s.out.put("http_config", integration_http(s));
  s.str("api_url");
  {
    S v{in_, s.n("sigv4")};
    v.str("region");
    v.str("access_key");
    v.secret("secret_key");
    v.str("profile");
    v.str("role_arn");
    v.str("external_id");
    v.boolean("use_fips_sts_endpoint");
    v.str("service_name");
    s.out.put("sigv4", std::move(v.out));
  }
  s.str("topic_arn");
  s.str("phone_number");
  s.str("target_arn");
  s.str("subject", true, TMPL("sns.default.subject"));
  s.str("message", true, TMPL("sns.default.message"));
  s.out.put("attributes", s.string_map("attributes"));
  s.boolean("use_aws_http_client");
  return std::move(s.out);
}

Out Builder::telegram(const YamlNode* n) const {
  S s{in_, n};
  s.boolean("send_resolved", false, true);
  s.out.put("http_config", integration_http(s));
  if (s.set("api_url")) s.out.put("api_url", s.url("api_url"));
  else if (const Out* gu = g("telegram_api_url")) s.out.put("api_url", *gu);
  else s.out.put("api_url", Out());
  std::string token = s.text("bot_token"), token_file = s.text("bot_token_file");
  if (token.empty() && token_file.empty()) {
    s.out.put("bot_token", g_opt("telegram_bot_token"));
    s.put_str("bot_token_file", g_text("telegram_bot_token_file"));
  } else {
    s.out.put("bot_token", S::secret_of(token));
    s.put_str("bot_token_file", token_file);
  }
  s.out.put("chat_id", s.int_value("chat_id"));
  s.str("chat_id_file");
  s.out.put("message_thread_id", s.int_value("message_thread_id"));
  s.str("message", true, TMPL("telegram.default.message"));
  s.boolean("disable_notifications");
  s.str("parse_mode", true, "HTML");
  return std::move(s.out);
}

Out Builder::discord(const YamlNode* n) const {
  S s{in_, n};
  s.boolean("send_resolved", false, true);
  s.out.put("http_config", integration_http(s));
  s.out.put("webhook_url", s.secret_url("webhook_url"));
  s.str("webhook_url_file");
  s.str("content");
  s.str("title", true, TMPL("discord.default.title"));
  s.str("message", true, TMPL("discord.default.message"));
  s.str("username");
  s.str("avatar_url");
  return std::move(s.out);
}

Out Builder::webex(const YamlNode* n) const {
  S s{in_, n};
  s.boolean("send_resolved", false, true);
  s.out.put("http_config", integration_http(s));
  if (s.set("api_url")) s.out.put("api_url", s.url("api_url"));
  else s.out.put("api_url", g_opt("webex_api_url"));
  s.str("message", true, TMPL("webex.default.message"));
  s.str("room_id", false);
  return std::move(s.out);
}

Out Builder::msteams(const YamlNode* n) const {
  S s{in_, n};
  s.boolean("send_resolved", false, true);
  s.out.put("http_config", integration_http(s));
  s.out.put("webhook_url", s.secret_url("webhook_url"));
  s.str("webhook_url_file");
  s.str("title", true, TMPL("msteams.default.title"));
  s.str("summary", true, TMPL("msteams.default.summary"));
  s.str("text", true, TMPL("msteams.default.text"));
  return std::move(s.out);
}

Out Builder::msteamsv2(const YamlNode* n) const {
  S s{in_, n};
  s.boolean("send_resolved", false, true);
  s.out.put("http_config", integration_http(s));
  s.out.put("webhook_url", s.secret_url("webhook_url"));
  s.str("webhook_url_file");
  s.str("title", true, TMPL("msteamsv2.default.title"));
  s.str("text", true, TMPL("msteamsv2.default.text"));
  return std::move(s.out);
}

Out Builder::jira(const YamlNode* n) const {
  S s{in_, n};
  s.boolean("send_resolved", false, true);
  s.out.put("http_config", integration_http(s));
  if (s.set("api_url")) s.out.put("api_url", s.url("api_url"));
  else s.out.put("api_url", g_opt("jira_api_url"));
  s.str("api_type", true, "auto");
  s.str("project");
  auto field = [&](const char* k, const char* def) {
    const YamlNode* v = s.n(k);
    Out f = Out::mapping();
    std::string tmpl = def;
    std::optional<Out> enable;
    if (v && v->kind == YamlNode::Kind::Scalar) {
      tmpl = in_.text(v);
    } else if (v && v->kind == YamlNode::Kind::Mapping) {
      S o{in_, v};
      if (o.has("template")) tmpl = o.text("template");
      enable = o.bool_ptr("enable_update");
    }
    if (!tmpl.empty()) f.put("template", Out::str(tmpl));
    f.put("enable_update", enable);
    if (!f.map.empty()) s.out.put(k, std::move(f));
  };
  field("summary", TMPL("jira.default.summary"));
  field("description", TMPL("jira.default.description"));
  s.out.put("labels", s.string_list("labels"));
  s.str("priority", true, TMPL("jira.default.priority"));
  s.str("issue_type");
  s.str("reopen_transition");
  s.str("resolve_transition");
  s.str("wont_fix_resolution");
  s.out.put("reopen_duration", s.duration("reopen_duration", true));
  if (s.set("fields")) {
    Out f = any_value(s.n("fields"));
    if (f.kind == Out::Kind::Map && !f.map.empty()) s.out.put("fields", std::move(f));
  }
  return std::move(s.out);
}

Out Builder::incidentio(const YamlNode* n) const {
  S s{in_, n};
  s.boolean("send_resolved", false, true);
  s.out.put("http_config", integration_http(s, false));
  if (s.set("url")) s.out.put("url", s.url("url"));
  else s.out.put("url", Out());
  s.str("url_file", false);
  s.secret("alert_source_token");
  s.str("alert_source_token_file");
  s.out.put("max_alerts", s.int_value("max_alerts", false));
  s.out.put("timeout", s.go_duration("timeout", false));
  return std::move(s.out);
}

Out Builder::rocketchat(const YamlNode* n) const {
  S s{in_, n};
  s.boolean("send_resolved", false, false);
  s.out.put("http_config", integration_http(s));
  if (s.set("api_url")) s.out.put("api_url", s.url("api_url"));
  else s.out.put("api_url", g_opt("rocketchat_api_url"));
  auto ptr_or_global = [&](const char* k, const char* gk) {
    if (s.set(k)) s.out.put(k, s.secret_ptr(k));
    else s.out.put(k, g_opt(gk));
  };
  auto str_or_global = [&](const char* k, const char* gk) {
    std::string v = s.text(k);
    s.put_str(k, v.empty() ? g_text(gk) : v);
  };
  ptr_or_global("token_id", "rocketchat_token_id");
  str_or_global("token_id_file", "rocketchat_token_id_file");
  ptr_or_global("token", "rocketchat_token");
  str_or_global("token_file", "rocketchat_token_file");
  s.str("channel");
  s.str("color", true, "{{ if eq .Status \"firing\" }}red{{ else }}green{{ end }}");
  s.str("title", true, TMPL("rocketchat.default.title"));
  s.str("title_link", true, TMPL("rocketchat.default.titlelink"));
  s.str("text", true, TMPL("rocketchat.default.text"));
  Out fields = Out::sequence();
  for (const YamlNode* item : in_.items(s.n("fields"))) {
    S f{in_, item};
    std::optional<Out> short_v = f.bool_ptr("short");
    f.out.put("short", short_v ? *short_v : Out());
    f.str("title", false);
    f.str("value", false);
    fields.seq.push_back(std::move(f.out));
  }
  if (!fields.seq.empty()) s.out.put("fields", std::move(fields));
  s.boolean("short_fields", false);
  s.str("emoji", true, TMPL("rocketchat.default.emoji"));
  s.str("icon_url", true, TMPL("rocketchat.default.iconurl"));
  s.str("image_url");
  s.str("thumb_url");
  s.boolean("link_names", false);
  Out actions = Out::sequence();
  for (const YamlNode* item : in_.items(s.n("actions"))) {
    S a{in_, item};
    a.str("type", false);
    a.str("text", false);
    a.str("url", false);
    a.str("imageurl", false);
    a.boolean("iswebview", false);
    a.str("webviewheightratio", false);
    a.str("msg", false);
    a.boolean("msginchatwindow", false);
    a.str("msgprocessingtype", false);
    actions.seq.push_back(std::move(a.out));
  }
  if (!actions.seq.empty()) s.out.put("actions", std::move(actions));
  return std::move(s.out);
}

Out Builder::mattermost(const YamlNode* n) const {
  S s{in_, n};
  s.boolean("send_resolved", false, true);
  s.out.put("http_config", integration_http(s));
  std::optional<Out> url = s.secret_url("webhook_url");
  std::string url_file = s.text("webhook_url_file");
  if (!url && url_file.empty()) {
    url = g_opt("mattermost_webhook_url");
    url_file = g_text("mattermost_webhook_url_file");
  }
  s.out.put("webhook_url", url);
  s.put_str("webhook_url_file", url_file);
  auto fields_of = [&](S& o) {
    Out fields = Out::sequence();
    for (const YamlNode* item : in_.items(o.n("fields"))) {
      S f{in_, item};
      f.str("title");
      f.str("value");
      f.out.put("short", f.bool_ptr("short"));
      fields.seq.push_back(std::move(f.out));
    }
    if (!fields.seq.empty()) o.out.put("fields", std::move(fields));
  };
  s.str("channel");
  s.str("username", true, TMPL("mattermost.default.username"));
  s.str("text", true, TMPL("mattermost.default.text"));
  s.str("fallback", true, TMPL("mattermost.default.fallback"));
  s.str("color", true, TMPL("mattermost.default.color"));
  s.str("pretext");
  s.str("author_name");
  s.str("author_link");
  s.str("author_icon");
  s.str("title", true, TMPL("mattermost.default.title"));
  s.str("title_link", true, TMPL("mattermost.default.titlelink"));
  fields_of(s);
  s.str("thumb_url");
  s.str("footer");
  s.str("footer_icon");
  s.str("image_url");
  s.str("icon_url");
  s.str("icon_emoji");
  Out attachments = Out::sequence();
  for (const YamlNode* item : in_.items(s.n("attachments"))) {
    S a{in_, item};
    for (const char* k : {"fallback", "color", "pretext", "text", "author_name", "author_link", "author_icon", "title",
                          "title_link"})
      a.str(k);
    fields_of(a);
    for (const char* k : {"thumb_url", "footer", "footer_icon", "image_url"}) a.str(k);
    attachments.seq.push_back(std::move(a.out));
  }
  if (!attachments.seq.empty()) s.out.put("attachments", std::move(attachments));
  s.str("type");
  if (s.set("props")) {
    S p{in_, s.n("props")};
    p.str("card");
    s.out.put("props", std::move(p.out));
  }
  if (s.set("priority")) {
    S p{in_, s.n("priority")};
    p.str("priority");
    p.boolean("requested_ack");
    p.boolean("persistent_notifications");
    s.out.put("priority", std::move(p.out));
  }
  return std::move(s.out);
}

Out Builder::receiver(const YamlNode* n) {
  S s{in_, n};
  s.str("name", false);
  {
    Out labels = s.string_map("labels").value_or(Out::mapping());
    if (!labels.get("name")) labels.put("name", Out::str(s.text("name")));
    sort_keys(labels);
    s.out.put("labels", std::move(labels));
  }
  auto list = [&](const char* key, auto build) {
    Out seq = Out::sequence();
    for (const YamlNode* item : in_.items(s.n(key)))
      if (!in_.null_value(item)) seq.seq.push_back(build(item));
    if (!seq.seq.empty()) s.out.put(key, std::move(seq));
  };
  list("discord_configs", [&](const YamlNode* i) { return discord(i); });
  bool active = active_receivers_.count(s.text("name")) > 0;
  list("email_configs", [&](const YamlNode* i) { return email(i, active); });
  list("incidentio_configs", [&](const YamlNode* i) { return incidentio(i); });
  list("pagerduty_configs", [&](const YamlNode* i) { return pagerduty(i); });
  list("slack_configs", [&](const YamlNode* i) { return slack(i); });
  list("webhook_configs", [&](const YamlNode* i) { return webhook(i); });
  list("opsgenie_configs", [&](const YamlNode* i) { return opsgenie(i); });
  list("wechat_configs", [&](const YamlNode* i) { return wechat(i); });
  list("pushover_configs", [&](const YamlNode* i) { return pushover(i); });
  list("victorops_configs", [&](const YamlNode* i) { return victorops(i); });
  list("sns_configs", [&](const YamlNode* i) { return sns(i); });
  list("telegram_configs", [&](const YamlNode* i) { return telegram(i); });
  list("webex_configs", [&](const YamlNode* i) { return webex(i); });
  list("msteams_configs", [&](const YamlNode* i) { return msteams(i); });
  list("msteamsv2_configs", [&](const YamlNode* i) { return msteamsv2(i); });
  list("jira_configs", [&](const YamlNode* i) { return jira(i); });
  list("rocketchat_configs", [&](const YamlNode* i) { return rocketchat(i); });
  list("mattermost_configs", [&](const YamlNode* i) { return mattermost(i); });
  return std::move(s.out);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "monday:friday", "1:5", "may:august" as upstream reads them and writes
// them back: ranges of equal ends collapse, months become numbers.
std::string range_text(std::string_view in, const std::vector<std::string_view>& names, int first) {
  auto value = [&](std::string_view v) -> std::string {
    if (names.empty()) {
      auto i = yaml_int(v);
      return i ? std::to_string(*i) : std::string(v);
    }
    std::string l = lower(std::string(v));
    for (size_t k = 0; k < names.size(); ++k)
      if (l == names[k]) return std::to_string(static_cast<int>(k) + first);
    return l;
  };
  std::string text(in);
  size_t colon = text.find(':', 1);
  std::string a = colon == std::string::npos ? value(text) : value(std::string_view(text).substr(0, colon));
  std::string b = colon == std::string::npos ? a : value(std::string_view(text).substr(colon + 1));
  return a == b ? a : a + ":" + b;
}

Out Builder::time_interval(const YamlNode* n) const {
  static const std::vector<std::string_view> kWeekdays{"sunday", "monday", "tuesday", "wednesday",
                                                       "thursday", "friday", "saturday"};
  static const std::vector<std::string_view> kMonths{"january", "february", "march",     "april",
                                                     "may",     "june",     "july",      "august",
                                                     "september", "october", "november", "december"};
  S s{in_, n};
  Out times = Out::sequence();
  for (const YamlNode* item : in_.items(s.n("times"))) {
    S t{in_, item};
    auto hhmm = [](std::string v) {
      size_t colon = v.find(':');
      if (colon == std::string::npos) return v;
      int h = std::atoi(v.substr(0, colon).c_str()), m = std::atoi(v.substr(colon + 1).c_str());
      return fmt::format("{:02d}:{:02d}", h, m);
    };
    Out r = Out::mapping();
    r.put("start_time", Out::str(hhmm(t.text("start_time"))));
    r.put("end_time", Out::str(hhmm(t.text("end_time"))));
    times.seq.push_back(std::move(r));
  }
  if (!times.seq.empty()) s.out.put("times", std::move(times));
  auto ranges = [&](const char* key, const std::vector<std::string_view>& names, int first) {
    Out seq = Out::sequence(true);
    for (const YamlNode* item : in_.items(s.n(key)))
      seq.seq.push_back(Out::str(names.empty() || key[0] != 'w' ? range_text(in_.text(item), names, first)
                                                                 : [&] {
                                                                     std::string t = lower(in_.text(item));
                                                                     size_t c = t.find(':');
                                                                     if (c != std::string::npos && t.substr(0, c) == t.substr(c + 1))
                                                                       return t.substr(0, c);
                                                                     return t;
                                                                   }()));
    if (!seq.seq.empty()) s.out.put(key, std::move(seq));
  };
  ranges("weekdays", kWeekdays, 0);
  ranges("days_of_month", {}, 0);
  ranges("months", kMonths, 1);
  ranges("years", {}, 0);
  if (s.set("location")) s.str("location", false);
  return std::move(s.out);
}

Out Builder::named_intervals(const YamlNode* n) const {
  Out seq = Out::sequence();
  for (const YamlNode* item : in_.items(n)) {
    S s{in_, item};
    s.str("name", false);
    Out list = Out::sequence();
    for (const YamlNode* ti : in_.items(s.n("time_intervals"))) list.seq.push_back(time_interval(ti));
    s.out.put("time_intervals", list.seq.empty() && !s.set("time_intervals") ? Out() : std::move(list));
    seq.seq.push_back(std::move(s.out));
  }
  return seq;
}

std::optional<Out> Builder::tracing(const YamlNode* n) const {
  if (in_.null_value(n)) return std::nullopt;
  S s{in_, n};
  s.str("client_type", true, "grpc");
  s.str("endpoint");
  if (s.set("sampling_fraction")) {
    double f = std::strtod(s.text("sampling_fraction").c_str(), nullptr);
    if (f != 0) s.out.put("sampling_fraction", Out::raw(go_float(f)));
  }
  s.boolean("insecure");
  if (s.set("tls_config")) s.out.put("tls_config", tls_config(s.n("tls_config"), false));
  s.out.put("headers", headers(s.n("headers"), false));
  s.str("compression");
  s.out.put("timeout", s.duration("timeout", true));
  return std::move(s.out);
}

Out Builder::config(const YamlNode* root) {
  S s{in_, root};
  global_in_ = s.set("global") ? s.n("global") : nullptr;
  global_out_ = global(global_in_);
  Out global_slot = Out::mapping();
  Out route_out;
  bool has_route = s.set("route");
  if (has_route) {
    route_out = route(s.n("route"));
    collect_receivers(s.n("route"));
  }
  Out inhibit = Out::sequence();
  for (const YamlNode* item : in_.items(s.n("inhibit_rules"))) inhibit.seq.push_back(inhibit_rule(item));
  Out receivers = Out::sequence();
  for (const YamlNode* item : in_.items(s.n("receivers"))) receivers.seq.push_back(receiver(item));
  // Integrations that share the global URL add the trailing slash to it too.
  for (const std::string& k : slashed_globals_)
    if (Out* v = global_out_.get(k)) v->s = with_trailing_slash(v->s);
  s.out.put("global", global_out_);
  if (has_route) s.out.put("route", std::move(route_out));
  if (!inhibit.seq.empty()) s.out.put("inhibit_rules", std::move(inhibit));
  if (!receivers.seq.empty()) s.out.put("receivers", std::move(receivers));
  Out templates = Out::sequence();
  for (const YamlNode* item : in_.items(s.n("templates"))) templates.seq.push_back(Out::str(join_dir(dir_, in_.text(item))));
  s.out.put("templates", std::move(templates));
  Out mute = named_intervals(s.n("mute_time_intervals"));
  if (!mute.seq.empty()) s.out.put("mute_time_intervals", std::move(mute));
  Out active = named_intervals(s.n("time_intervals"));
  if (!active.seq.empty()) s.out.put("time_intervals", std::move(active));
  s.out.put("tracing", tracing(s.n("tracing")));
  s.out.put("event_recorder", event_recorder(s.n("event_recorder")));
  return std::move(s.out);
}

std::optional<Out> Builder::event_recorder(const YamlNode* n) const {
  S s{in_, n};
  Out files = Out::sequence();
  for (const YamlNode* item : in_.items(s.n("file_outputs"))) {
    S f{in_, item};
    f.put_str("path", join_dir(dir_, f.text("path")), false);
    files.seq.push_back(std::move(f.out));
  }
  if (!files.seq.empty()) s.out.put("file_outputs", std::move(files));
  Out hooks = Out::sequence();
  for (const YamlNode* item : in_.items(s.n("webhook_outputs"))) {
    S w{in_, item};
    std::optional<Out> url = w.secret_url("url");
    w.out.put("url", url ? *url : Out());
    if (w.set("http_config")) w.out.put("http_config", http_config(w.n("http_config"), true));
    w.out.put("timeout", w.duration("timeout", true));
    w.out.put("workers", w.int_value("workers"));
    w.out.put("max_retries", w.int_value("max_retries"));
    w.out.put("retry_backoff", w.duration("retry_backoff", true));
    hooks.seq.push_back(std::move(w.out));
  }
  if (!hooks.seq.empty()) s.out.put("webhook_outputs", std::move(hooks));
  Out kafka = Out::sequence();
  for (const YamlNode* item : in_.items(s.n("kafka_outputs"))) {
    S k{in_, item};
    k.out.put("brokers", k.string_list("brokers", false));
    if (k.out.get("brokers")->seq.empty() && !k.set("brokers")) *k.out.get("brokers") = Out();
    k.str("topic", false);
    k.str("client_id");
    k.str("format");
    k.str("acks");
    k.str("compression");
    k.out.put("buffer_size", k.int_value("buffer_size"));
    if (k.set("tls_config")) k.out.put("tls_config", tls_config(k.n("tls_config"), true));
    kafka.seq.push_back(std::move(k.out));
  }
  if (!kafka.seq.empty()) s.out.put("kafka_outputs", std::move(kafka));
  if (s.out.map.empty()) return std::nullopt;
  return std::move(s.out);
}

// ---- writing with libyaml's emitter (the one yaml.v2 is a port of) ----

class Emitter {
 public:
  Emitter() {
    yaml_emitter_initialize(&e_);
    yaml_emitter_set_output(&e_, &Emitter::write, &out_);
    yaml_emitter_set_unicode(&e_, 1);
  }
  ~Emitter() { yaml_emitter_delete(&e_); }
  Emitter(const Emitter&) = delete;
  Emitter& operator=(const Emitter&) = delete;

  Result<std::string> run(const Out& root) {
    yaml_event_t ev;
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    if (!emit(&ev)) return fail("yaml: cannot start the stream");
    yaml_document_start_event_initialize(&ev, nullptr, nullptr, nullptr, 1);
    if (!emit(&ev)) return fail("yaml: cannot start the document");
    if (!node(root)) return fail(std::string("yaml: ") + (e_.problem ? e_.problem : "emitter error"));
    yaml_document_end_event_initialize(&ev, 1);
    if (!emit(&ev)) return fail("yaml: cannot end the document");
    yaml_stream_end_event_initialize(&ev);
    if (!emit(&ev)) return fail("yaml: cannot end the stream");
    yaml_emitter_flush(&e_);
    return std::move(out_);
  }

 private:
  static int write(void* data, unsigned char* buffer, size_t size) {
    static_cast<std::string*>(data)->append(reinterpret_cast<const char*>(buffer), size);
    return 1;
  }
  bool emit(yaml_event_t* ev) { return yaml_emitter_emit(&e_, ev) != 0; }

  bool scalar(const std::string& v, yaml_scalar_style_t style) {
    yaml_event_t ev;
    yaml_scalar_event_initialize(&ev, nullptr, nullptr, reinterpret_cast<yaml_char_t*>(const_cast<char*>(v.data())),
                                 static_cast<int>(v.size()), 1, 1, style);
    return emit(&ev);
  }
  // A Go string: literal when it spans lines, plain when it reads back as
  // the same string, double-quoted otherwise (the emitter may still pick
  // another style when the chosen one cannot hold the text).
  bool string(const std::string& v) {
    yaml_scalar_style_t style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    if (v.find('\n') != std::string::npos) style = YAML_LITERAL_SCALAR_STYLE;
    else if (resolves_to_string(v) && !base60_float(v)) style = YAML_PLAIN_SCALAR_STYLE;
    return scalar(v, style);
  }

  bool node(const Out& n) {
    yaml_event_t ev;
    switch (n.kind) {
      case Out::Kind::Null: return scalar("null", YAML_PLAIN_SCALAR_STYLE);
      case Out::Kind::Raw: return scalar(n.s, YAML_PLAIN_SCALAR_STYLE);
      case Out::Kind::Str: return string(n.s);
      case Out::Kind::Map:
        yaml_mapping_start_event_initialize(&ev, nullptr, nullptr, 1, YAML_BLOCK_MAPPING_STYLE);
        if (!emit(&ev)) return false;
        for (const auto& [k, v] : n.map) {
          bool ok = !k.empty() && k[0] == kRawKey ? scalar(k.substr(2), YAML_PLAIN_SCALAR_STYLE) : string(k);
          if (!ok || !node(v)) return false;
        }
        yaml_mapping_end_event_initialize(&ev);
        return emit(&ev);
      case Out::Kind::Seq:
        yaml_sequence_start_event_initialize(&ev, nullptr, nullptr, 1,
                                             n.flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE);
        if (!emit(&ev)) return false;
        for (const Out& c : n.seq)
          if (!node(c)) return false;
        yaml_sequence_end_event_initialize(&ev);
        return emit(&ev);
    }
    return false;
  }

  yaml_emitter_t e_;
  std::string out_;
};

}  // namespace

Result<std::string> marshal_config_yaml(std::string_view config_text, std::string_view base_dir) {
  auto doc = parse_yaml(config_text);
  if (!doc) return std::unexpected(doc.error());
  const YamlNode* root = doc->root();
  Builder b(*doc, base_dir);
  Out tree = b.config(root);
  return Emitter().run(tree);
}

}  // namespace vigil::routing
