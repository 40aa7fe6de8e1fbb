#include "templates/escape.h"

#include <cmath>

#include <fmt/format.h>

#include "model/go_format.h"
#include "model/names.h"
#include "templates/go_fmt.h"
#include "templates/go_time.h"
#include "templates/unicode.h"

namespace vigil::templates {

namespace {

// The markup escapes shared by text/template's html and encoding/xml's
// EscapeText; they differ in NUL (html) and tab/newline/return (xml).
std::string escape_markup(std::string_view s, bool xml) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '\0': xml ? out += c : out += "\xEF\xBF\xBD"; break;
      case '\t': xml ? out += "&#x9;" : out += c; break;
      case '\n': xml ? out += "&#xA;" : out += c; break;
      case '\r': xml ? out += "&#xD;" : out += c; break;
      default: out += c;
    }
  }
  return out;
}

// "\u00XX" for a byte below 0x80, with the given hex digits' case.
void append_u00(std::string& out, unsigned char c, const char* hex) {
  out += "\\u00";
  out += hex[c >> 4];
  out += hex[c & 15];
}

}  // namespace

std::string html_escape(std::string_view s) { return escape_markup(s, false); }

std::string xml_escape(std::string_view s) { return escape_markup(s, true); }

std::string js_escape(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '\\': out += "\\\\"; break;
        case '\'': out += "\\'"; break;
        case '"': out += "\\\""; break;
        case '<': out += "\\u003C"; break;
        case '>': out += "\\u003E"; break;
        case '&': out += "\\u0026"; break;
        case '=': out += "\\u003D"; break;
        default:
          if (c < ' ') {
            append_u00(out, c, hex);
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    uint32_t cp;
    int n = utf8_decode(s, i, &cp);
    if (n == 0) {
      cp = 0xFFFD;
      n = 1;
    }
    bool printable = !(cp >= 0x80 && cp < 0xA0) && cp != 0xAD && cp != 0x2028 && cp != 0x2029 &&
                     cp != 0xFEFF && cp != 0xFFFD;
    if (printable) {
      out.append(s.substr(i, n));
    } else {
      out += fmt::format("\\u{:04X}", cp);
    }
    i += n;
  }
  return out;
}

const Type* safe_html_type() {
  static const Type* t = make_type(Kind::kString, "template.HTML", "string");
  return t;
}

const Type* safe_url_type() {
  static const Type* t = make_type(Kind::kString, "template.URL", "string");
  return t;
}

namespace {

enum class St {
  kText, kTag, kAttrName, kAfterName, kBeforeValue, kAttr, kURL, kJS, kJSDqStr, kJSSqStr,
  kJSLineCmt, kJSBlockCmt, kCSS, kCSSDqStr, kCSSSqStr, kCSSBlockCmt, kCSSURL, kHTMLCmt, kRCDATA,
};
enum class Delim { kNone, kDouble, kSingle, kSpace };
enum class UrlPart { kNone, kPreQuery, kQuery };
enum class Elem { kNone, kScript, kStyle, kRCDATA };
enum class Attr { kNone, kScript, kStyle, kURL };

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
bool is_alpha(char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if ((s[i] | 0x20) != prefix[i]) return false;
  }
  return true;
}

// Go's html/template attrType: which attributes hold URLs, scripts, styles.
Attr attr_kind(std::string name) {
  for (char& c : name) c = static_cast<char>(c | 0x20);
  if (auto colon = name.find(':'); colon != std::string::npos) {
    if (name.substr(0, colon) == "xmlns") return Attr::kURL;
    name = name.substr(colon + 1);
  }
  if (name.starts_with("data-")) name = name.substr(5);
  if (name.starts_with("on")) return Attr::kScript;
  if (name == "style") return Attr::kStyle;
  static const char* kUrlAttrs[] = {"action", "archive", "background", "cite", "classid", "codebase",
                                     "data", "formaction", "href", "icon", "longdesc", "manifest",
                                     "poster", "profile", "src", "usemap", "xmlns"};
  for (const char* a : kUrlAttrs) {
    if (name == a) return Attr::kURL;
  }
  if (name.find("src") != std::string::npos || name.find("uri") != std::string::npos ||
      name.find("url") != std::string::npos) {
    return Attr::kURL;
  }
  return Attr::kNone;
}

std::string replace_html(std::string_view s, bool escape_amp, bool nospace) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '\0': out += nospace ? "&#xfffd;" : "\xEF\xBF\xBD"; continue;
      case '"': out += "&#34;"; continue;
      case '&':
        if (escape_amp) {
          out += "&amp;";
          continue;
        }
        break;
      case '\'': out += "&#39;"; continue;
      case '+': out += "&#43;"; continue;
      case '<': out += "&lt;"; continue;
      case '>': out += "&gt;"; continue;
      default: break;
    }
    if (nospace) {
      switch (c) {
        case '\t': out += "&#9;"; continue;
        case '\n': out += "&#10;"; continue;
        case '\v': out += "&#11;"; continue;
        case '\f': out += "&#12;"; continue;
        case '\r': out += "&#13;"; continue;
        case ' ': out += "&#32;"; continue;
        case '=': out += "&#61;"; continue;
        case '`': out += "&#96;"; continue;
        default: break;
      }
    }
    out += c;
  }
  return out;
}

// The text of an HTML fragment without its tags.
std::string strip_tags(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '<' && i + 1 < s.size() && (is_alpha(s[i + 1]) || s[i + 1] == '/' || s[i + 1] == '!')) {
      size_t end = s.find('>', i);
      if (end == std::string_view::npos) break;
      i = end;
      continue;
    }
    out += s[i];
  }
  return out;
}

bool is_safe_url(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos) return true;
  std::string_view scheme = s.substr(0, colon);
  if (scheme.find('/') != std::string_view::npos) return true;
  std::string lower_scheme(scheme);
  for (char& c : lower_scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower_scheme == "http" || lower_scheme == "https" || lower_scheme == "mailto";
}

// Percent-encodes what may not appear in a URL; `norm` keeps reserved
// characters and existing escapes (before the query), otherwise the value is
// escaped as a query component.
std::string process_url(std::string_view s, bool norm) {
  auto is_hex = [](char c) {
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
  };
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    switch (c) {
      case '!': case '#': case '$': case '&': case '*': case '+': case ',': case '/': case ':':
      case ';': case '=': case '?': case '@': case '[': case ']':
        if (norm) {
          out += c;
          continue;
        }
        break;
      case '-': case '.': case '_': case '~':
        out += c;
        continue;
      case '%':
        if (norm && i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
          out += c;
          continue;
        }
        break;
      default:
        if (is_alpha(c) || (c >= '0' && c <= '9')) {
          out += c;
          continue;
        }
    }
    out += fmt::format("%{:02x}", static_cast<unsigned char>(c));
  }
  return out;
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            append_u00(out, c, "0123456789abcdef");
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    uint32_t cp;
    int n = utf8_decode(s, i, &cp);
    if (n == 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    if (cp == 0x2028 || cp == 0x2029) {
      out += fmt::format("\\u{:04x}", cp);
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
  return out + "\"";
}

// encoding/json's float format: like ES6, exponents only outside [1e-6, 1e21).
std::string json_float(double f) {
  double a = std::fabs(f);
  if (a != 0 && (a < 1e-6 || a >= 1e21)) {
    std::string s = go_format_float(f, 'e', -1);
    // e-07 -> e-7
    size_t e = s.find('e');
    if (e != std::string::npos && e + 2 < s.size() && s[e + 2] == '0') s.erase(e + 2, 1);
    return s;
  }
  return go_format_float(f, 'f', -1);
}

bool is_js_ident_part(char c) {
  return is_alpha(c) || (c >= '0' && c <= '9') || c == '_' || c == '$';
}

std::string js_val_escape(const Value& v) {
  Value val = v;
  if (val.valid() && val.kind() != Kind::kStruct && has_stringer(val.type())) {
    val = Value::string(go_sprint_value(val));
  }
  auto j = go_json_marshal(val);
  if (!j) return " /* " + j.error().message + " */null ";
  if (j->empty()) return " null ";
  bool pad = is_js_ident_part(j->front()) || is_js_ident_part(j->back());
  return pad ? " " + *j + " " : *j;
}

std::string js_str_escape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '\t': out += "\\t"; break;
        case '\n': out += "\\n"; break;
        case '\f': out += "\\f"; break;
        case '\r': out += "\\r"; break;
        case '"': out += "\\u0022"; break;
        case '`': out += "\\u0060"; break;
        case '&': out += "\\u0026"; break;
        case '\'': out += "\\u0027"; break;
        case '+': out += "\\u002b"; break;
        case '/': out += "\\/"; break;
        case '<': out += "\\u003c"; break;
        case '>': out += "\\u003e"; break;
        case '\\': out += "\\\\"; break;
        default:
          if (c < 0x20) {
            out += fmt::format("\\u{:04x}", c);
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    uint32_t cp;
    int n = utf8_decode(s, i, &cp);
    if (n == 0) n = 1;
    if (cp == 0x2028 || cp == 0x2029) {
      out += fmt::format("\\u{:04x}", cp);
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
  return out;
}

std::string css_value_filter(std::string_view s) {
  std::string id;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    switch (c) {
      case '\0': case '"': case '\'': case '(': case ')': case '/': case ';': case '@': case '[':
      case '\\': case ']': case '`': case '{': case '}': case '<': case '>':
        return "ZgotmplZ";
      case '-':
        if (i != 0 && s[i - 1] == '-') return "ZgotmplZ";
        id += c;
        break;
      default:
        if (is_alpha(c) || (c >= '0' && c <= '9') || c == '_' || static_cast<unsigned char>(c) >= 0x80) {
          id += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
    }
  }
  if (id.find("expression") != std::string::npos || id.find("mozbinding") != std::string::npos) {
    return "ZgotmplZ";
  }
  return std::string(s);
}

std::string css_escape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    auto uc = static_cast<unsigned char>(c);
    if (uc < 0x20 || c == '"' || c == '&' || c == '\'' || c == '(' || c == ')' || c == '+' ||
        c == '/' || c == ':' || c == ';' || c == '<' || c == '>' || c == '\\' || c == '{' ||
        c == '}') {
      out += fmt::format("\\{:x}", uc);
      // A hex digit or space after the escape would be read as part of it.
      if (i + 1 < s.size() && (std::isxdigit(static_cast<unsigned char>(s[i + 1])) || s[i + 1] == ' ')) {
        out += ' ';
      }
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string go_json_string(std::string_view s) { return json_string(s); }

Result<std::string> go_json_marshal(const Value& v) {
  switch (v.kind()) {
    case Kind::kInvalid: return std::string("null");
    case Kind::kBool: return std::string(v.as_bool() ? "true" : "false");
    case Kind::kInt: return std::to_string(v.as_int());
    case Kind::kUint: return std::to_string(v.as_uint());
    case Kind::kFloat:
      if (std::isnan(v.as_float()) || std::isinf(v.as_float())) {
        return fail("json: unsupported value: " + go_format_float(v.as_float(), 'g', -1));
      }
      return json_float(v.as_float());
    case Kind::kString: return json_string(v.as_string());
    case Kind::kSlice: {
      if (v.is_nil()) return std::string("null");
      std::string out = "[";
      for (size_t i = 0; i < v.items().size(); ++i) {
        if (i > 0) out += ',';
        auto e = go_json_marshal(v.items()[i]);
        if (!e) return e;
        out += *e;
      }
      return out + "]";
    }
    case Kind::kMap: {
      if (v.is_nil()) return std::string("null");
      std::string out = "{";
      bool first = true;
      for (const auto& [k, e] : v.entries()) {
        if (!first) out += ',';
        first = false;
        auto ev = go_json_marshal(e);
        if (!ev) return ev;
        out += json_string(k) + ":" + *ev;
      }
      return out + "}";
    }
    case Kind::kStruct: {
      if (const GoTime* t = as_time(v)) {
        return json_string(go_time_format(*t, "2006-01-02T15:04:05.999999999Z07:00"));
      }
      const auto& names = v.type()->json_fields.empty() ? v.type()->fields : v.type()->json_fields;
      std::string out = "{";
      for (size_t i = 0; i < names.size() && i < v.items().size(); ++i) {
        if (i > 0) out += ',';
        auto ev = go_json_marshal(v.items()[i]);
        if (!ev) return ev;
        out += json_string(names[i]) + ":" + *ev;
      }
      return out + "}";
    }
    case Kind::kPointer:
      if (v.is_nil()) return std::string("null");
      return go_json_marshal(v.pointee());
    default:
      return fail("json: unsupported type: " + v.type()->name);
  }
}

struct HtmlWriter::State {
  St st = St::kText;
  Delim delim = Delim::kNone;
  UrlPart url = UrlPart::kNone;
  Elem elem = Elem::kNone;
  Attr attr = Attr::kNone;
  bool end_tag = false;
  char css_url_quote = 0;  // the quote around a CSS url(...), if any

  St value_state() const {
    switch (attr) {
      case Attr::kURL: return St::kURL;
      case Attr::kScript: return St::kJS;
      case Attr::kStyle: return St::kCSS;
      case Attr::kNone: return St::kAttr;
    }
    return St::kAttr;
  }
  St after_tag() const {
    if (end_tag) return St::kText;
    switch (elem) {
      case Elem::kScript: return St::kJS;
      case Elem::kStyle: return St::kCSS;
      case Elem::kRCDATA: return St::kRCDATA;
      case Elem::kNone: return St::kText;
    }
    return St::kText;
  }
  bool in_attr_value() const { return delim != Delim::kNone; }
  // Ends an attribute value at its delimiter; returns true when c was it.
  bool at_value_end(char c) {
    if ((delim == Delim::kDouble && c == '"') || (delim == Delim::kSingle && c == '\'')) {
      st = St::kTag;
      delim = Delim::kNone;
      attr = Attr::kNone;
      url = UrlPart::kNone;
      return true;
    }
    return false;
  }
};

HtmlWriter::HtmlWriter() : s_(std::make_unique<State>()) {}
HtmlWriter::~HtmlWriter() = default;

void HtmlWriter::text(std::string_view t, std::string& out) {
  State& s = *s_;
  size_t i = 0;
  while (i < t.size()) {
    char c = t[i];
    // Unquoted attribute values end at white space or '>'.
    if (s.delim == Delim::kSpace && (is_ws(c) || c == '>')) {
      s.st = St::kTag;
      s.delim = Delim::kNone;
      s.attr = Attr::kNone;
      s.url = UrlPart::kNone;
      continue;
    }
    if (s.in_attr_value() && s.delim != Delim::kSpace && s.at_value_end(c)) {
      out += c;
      ++i;
      continue;
    }
    switch (s.st) {
      case St::kText: {
        std::string_view rest = t.substr(i);
        if (rest.starts_with("<!--")) {
          s.st = St::kHTMLCmt;
          i += 4;
          continue;
        }
        if (c == '<' && i + 1 < t.size()) {
          size_t j = i + 1;
          bool end = t[j] == '/';
          if (end) ++j;
          if (j < t.size() && is_alpha(t[j])) {
            size_t k = j;
            while (k < t.size() && (is_alpha(t[k]) || (t[k] >= '0' && t[k] <= '9') || t[k] == '-')) ++k;
            std::string name(t.substr(j, k - j));
            for (char& ch : name) ch = static_cast<char>(ch | 0x20);
            s.end_tag = end;
            s.elem = Elem::kNone;
            if (!end) {
              if (name == "script") s.elem = Elem::kScript;
              if (name == "style") s.elem = Elem::kStyle;
              if (name == "textarea" || name == "title") s.elem = Elem::kRCDATA;
            }
            out.append(t.substr(i, k - i));
            i = k;
            s.st = St::kTag;
            continue;
          }
        }
        out += c;
        ++i;
        continue;
      }
      case St::kHTMLCmt: {
        size_t end = t.find("-->", i);
        if (end == std::string_view::npos) {
          i = t.size();
        } else {
          i = end + 3;
          s.st = St::kText;
        }
        continue;
      }
      case St::kTag:
        if (c == '>') {
          s.st = s.after_tag();
          out += c;
          ++i;
          continue;
        }
        if (is_ws(c) || c == '/') {
          out += c;
          ++i;
          continue;
        }
        {
          size_t k = i;
          while (k < t.size() && !is_ws(t[k]) && t[k] != '=' && t[k] != '>' && t[k] != '/') ++k;
          s.attr = attr_kind(std::string(t.substr(i, k - i)));
          out.append(t.substr(i, k - i));
          i = k;
          s.st = St::kAfterName;
        }
        continue;
      case St::kAttrName:
      case St::kAfterName:
        if (is_ws(c)) {
          out += c;
          ++i;
          continue;
        }
        if (c == '=') {
          s.st = St::kBeforeValue;
          out += c;
          ++i;
          continue;
        }
        if (s.st == St::kAttrName && c != '>' && c != '/') {
          out += c;
          ++i;
          continue;
        }
        s.st = St::kTag;
        s.attr = Attr::kNone;
        continue;
      case St::kBeforeValue:
        if (is_ws(c)) {
          out += c;
          ++i;
          continue;
        }
        if (c == '>') {
          s.st = St::kTag;
          continue;
        }
        if (c == '"' || c == '\'') {
          s.delim = c == '"' ? Delim::kDouble : Delim::kSingle;
          out += c;
          ++i;
        } else {
          s.delim = Delim::kSpace;
        }
        s.st = s.value_state();
        s.url = UrlPart::kNone;
        continue;
      case St::kAttr:
        out += c;
        ++i;
        continue;
      case St::kURL:
        if (c == '?' || c == '#') {
          s.url = UrlPart::kQuery;
        } else if (!is_ws(c) && s.url == UrlPart::kNone) {
          s.url = UrlPart::kPreQuery;
        }
        out += c;
        ++i;
        continue;
      case St::kRCDATA:
        if (c == '<' && (starts_with_ci(t.substr(i), "</textarea") || starts_with_ci(t.substr(i), "</title"))) {
          s.st = St::kText;
          s.elem = Elem::kNone;
          continue;
        }
        out += c;
        ++i;
        continue;
      case St::kJS:
      case St::kCSS: {
        bool js = s.st == St::kJS;
        if (!s.in_attr_value() && c == '<' &&
            starts_with_ci(t.substr(i), js ? "</script" : "</style")) {
          s.st = St::kText;
          s.elem = Elem::kNone;
          continue;
        }
        if (!js && starts_with_ci(t.substr(i), "url(")) {
          size_t k = i + 4;
          while (k < t.size() && is_ws(t[k])) ++k;
          s.css_url_quote = k < t.size() && (t[k] == '"' || t[k] == '\'') ? t[k] : 0;
          if (s.css_url_quote) ++k;
          out.append(t.substr(i, k - i));
          i = k;
          s.st = St::kCSSURL;
          s.url = UrlPart::kNone;
          continue;
        }
        if (c == '"') s.st = js ? St::kJSDqStr : St::kCSSDqStr;
        if (c == '\'') s.st = js ? St::kJSSqStr : St::kCSSSqStr;
        if (c == '/' && i + 1 < t.size() && t[i + 1] == '*') {
          s.st = js ? St::kJSBlockCmt : St::kCSSBlockCmt;
          i += 2;
          continue;
        }
        if (js && c == '/' && i + 1 < t.size() && t[i + 1] == '/') {
          s.st = St::kJSLineCmt;
          i += 2;
          continue;
        }
        out += c;
        ++i;
        continue;
      }
      case St::kJSDqStr:
      case St::kJSSqStr:
      case St::kCSSDqStr:
      case St::kCSSSqStr: {
        bool dq = s.st == St::kJSDqStr || s.st == St::kCSSDqStr;
        bool js = s.st == St::kJSDqStr || s.st == St::kJSSqStr;
        if (c == '\\' && i + 1 < t.size()) {
          out.append(t.substr(i, 2));
          i += 2;
          continue;
        }
        if (c == (dq ? '"' : '\'')) s.st = js ? St::kJS : St::kCSS;
        out += c;
        ++i;
        continue;
      }
      case St::kCSSURL:
        if ((s.css_url_quote && c == s.css_url_quote) || (!s.css_url_quote && c == ')')) {
          s.st = St::kCSS;
          s.url = UrlPart::kNone;
        } else if (c == '?' || c == '#') {
          s.url = UrlPart::kQuery;
        } else if (!is_ws(c) && s.url == UrlPart::kNone) {
          s.url = UrlPart::kPreQuery;
        }
        out += c;
        ++i;
        continue;
      case St::kJSLineCmt:
        if (c == '\n') {
          s.st = St::kJS;
          out += c;
        }
        ++i;
        continue;
      case St::kJSBlockCmt:
      case St::kCSSBlockCmt:
        if (c == '*' && i + 1 < t.size() && t[i + 1] == '/') {
          s.st = s.st == St::kJSBlockCmt ? St::kJS : St::kCSS;
          out += ' ';  // the comment becomes a space, which keeps tokens apart
          i += 2;
          continue;
        }
        ++i;
        continue;
    }
  }
}

Result<void> HtmlWriter::value(const Value& v, std::string& out, std::string_view escaper) {
  State& s = *s_;
  if (s.st == St::kBeforeValue) {
    s.st = s.value_state();
    s.delim = Delim::kSpace;
    s.url = UrlPart::kNone;
  } else if (s.st == St::kTag || s.st == St::kAfterName) {
    s.st = St::kAttrName;
    s.attr = Attr::kNone;
  }
  bool html = v.type() == safe_html_type() || escaper == "html";
  bool url = v.type() == safe_url_type();
  bool url_escaped = escaper == "urlquery";
  std::string str = v.valid() ? go_sprint_value(v) : "";
  std::string e;
  switch (s.st) {
    case St::kText: e = html ? str : replace_html(str, true, false); break;
    case St::kRCDATA: e = escaper == "html" ? str : replace_html(str, !html, false); break;
    case St::kAttrName: {
      std::string name = lower(str);
      bool ok = !name.empty() && attr_kind(name) == Attr::kNone;
      for (char c : name) ok &= is_alpha(c) || (c >= '0' && c <= '9') || c == '-';
      e = ok ? name : "ZgotmplZ";
      break;
    }
    case St::kAttr: e = str; break;
    case St::kURL:
    case St::kCSSURL:
      if (s.url == UrlPart::kNone && !url && !is_safe_url(str)) {
        e = "#ZgotmplZ";
      } else if (url_escaped) {
        e = str;
      } else {
        e = process_url(str, s.url != UrlPart::kQuery || url);
      }
      break;
    case St::kJS: e = js_val_escape(v); break;
    case St::kJSDqStr:
    case St::kJSSqStr: e = js_str_escape(str); break;
    case St::kCSS: e = css_value_filter(str); break;
    case St::kCSSDqStr:
    case St::kCSSSqStr: e = css_escape(str); break;
    case St::kHTMLCmt:
    case St::kJSLineCmt:
    case St::kJSBlockCmt:
    case St::kCSSBlockCmt: e.clear(); break;
    default: e = replace_html(str, true, false); break;
  }
  // Values inside attributes are also escaped for the attribute (once: a
  // pipeline that ended in html was escaped already).
  if (escaper == "html" && s.st == St::kAttr) {
  } else if (s.delim == Delim::kSpace) {
    e = html && s.st == St::kAttr ? replace_html(strip_tags(e), false, true) : replace_html(e, true, true);
  } else if (s.delim != Delim::kNone) {
    e = html && s.st == St::kAttr ? replace_html(strip_tags(e), false, false) : replace_html(e, true, false);
  }
  out += e;
  return {};
}

}  // namespace vigil::templates
