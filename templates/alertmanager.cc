#include "templates/alertmanager.h"

#include "model/file.h"

#include <glob.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <re2/re2.h>

#include "model/file.h"
#include "model/names.h"
#include "net/url.h"
#include "templates/escape.h"
#include "templates/go_regexp.h"
#include "templates/go_time.h"
#include "templates/humanize.h"
#include "templates/shared_functions.h"
#include "templates/unicode.h"

namespace vigil::templates {

namespace {

Result<Value> str(std::string s) { return Value::string(std::move(s)); }

GoTime now() {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  return go_time_from_unix(ns / 1'000'000'000, static_cast<int32_t>(ns % 1'000'000'000));
}

// Go's strconv.CanBackquote.
bool can_backquote(std::string_view s) {
  if (!is_valid_utf8(s)) return false;
  for (char c : s) {
    auto uc = static_cast<unsigned char>(c);
    if (c == '`' || (uc < ' ' && c != '\t') || uc == 0x7F) return false;
  }
  return s.find("\xEF\xBB\xBF") == std::string_view::npos;
}

// Go's base64.URLEncoding (with padding).
constexpr std::string_view kBase64Url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64_url_encode(std::string_view in) {
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out += kBase64Url[(v >> k) & 63];
  }
  if (size_t rest = in.size() - i; rest > 0) {
    uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kBase64Url[(v >> 18) & 63];
    out += kBase64Url[(v >> 12) & 63];
    out += rest == 2 ? kBase64Url[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// Go's base64.URLEncoding.DecodeString, with its error positions: quanta of
// four characters, the last padded with '=', newlines ignored.
Result<std::string> base64_url_decode(std::string_view in) {
  auto bad = [](size_t at) { return fail(fmt::format("illegal base64 data at input byte {}", at)); };
  auto skip_newlines = [&](size_t si) {
    while (si < in.size() && (in[si] == '\n' || in[si] == '\r')) ++si;
    return si;
  };
  std::string out;
  size_t si = 0;
  while (si < in.size()) {
    uint32_t v = 0;
    int j = 0;
    bool end = false;
    for (; j < 4; ++j) {
      if (si == in.size()) {
        if (j == 0) return out;
        return bad(si - j);
      }
      char c = in[si++];
      size_t d = kBase64Url.find(c);
      if (d != std::string_view::npos) {
        v |= static_cast<uint32_t>(d) << (18 - 6 * j);
        continue;
      }
      if (c == '\n' || c == '\r') {
        --j;
        continue;
      }
      if (c != '=' || j < 2) return bad(si - 1);
      if (j == 2) {  // "==" expected
        si = skip_newlines(si);
        if (si == in.size()) return bad(in.size());
        if (in[si] != '=') return bad(si - 1);
        ++si;
      }
      si = skip_newlines(si);
      if (si < in.size()) return bad(si);
      end = true;
      break;
    }
    out += static_cast<char>(v >> 16);
    if (j > 2) out += static_cast<char>((v >> 8) & 0xFF);
    if (j > 3) out += static_cast<char>(v & 0xFF);
    if (end) break;
  }
  return out;
}

// Backs the routeLabels function for one top-level execution, as
// upstream's routeLabelResolver does: a route label's value is itself a
// template, executed against the same data in the same set, and may read
// other route labels. Each label is rendered at most once per execution; a
// label that reaches itself is an error naming the cycle. Rendered labels
// (a notification's) are returned as they are.
class RouteLabelEnv final : public ExecEnv {
 public:
  RouteLabelEnv(const TemplateSet& set, const Value& data) : set_(set), data_(data), of_(route_labels_of(data)) {}

  Result<std::string> resolve(std::string_view name) const {
    const Value* raw = of_.labels ? of_.labels->find(name) : nullptr;
    if (raw == nullptr) return std::string();  // unknown labels render empty
    if (of_.rendered) return raw->as_string();
    if (auto it = memo_.find(name); it != memo_.end()) return it->second;
    if (std::ranges::find(stack_, name) != stack_.end()) {
      std::string cycle;
      for (const std::string& n : stack_) cycle += n + " -> ";
      return fail("route label cycle detected: " + cycle + std::string(name));
    }
    stack_.emplace_back(name);
    auto r = set_.execute_text(raw->as_string(), data_, this);
    stack_.pop_back();
    if (!r) return r;
    memo_.emplace(std::string(name), *r);
    return r;
  }

 private:
  const TemplateSet& set_;
  const Value& data_;
  const RouteLabelsOf of_;
  mutable std::map<std::string, std::string, std::less<>> memo_;
  mutable std::vector<std::string> stack_;  // the labels being rendered
};

}  // namespace

Result<Value> re_replace_all(const CallArgs& c) {
  const std::string& pattern = c.args[0].as_string();
  auto re = go_regexp_compile(pattern);
  if (!re) {
    // regexp.MustCompile panics; text/template reports the panic.
    std::string q = can_backquote(pattern) ? "`" + pattern + "`" : go_quote(pattern);
    return fail("regexp: Compile(" + q + "): " + re.error().message);
  }
  return Value::string(go_regexp_replace_all(**re, c.args[2].as_string(), c.args[1].as_string()));
}

Result<Value> regexp_match(const CallArgs& c) {
  auto m = go_regexp_match(c.args[0].as_string(), c.args[1].as_string());
  if (!m) return std::unexpected(m.error());
  return Value::boolean(*m);
}

FuncMap alertmanager_functions() {
  const Type* s = string_type();
  FuncMap m;
  m["toUpper"] = {{{s}}, [](const CallArgs& c) { return str(upper(c.args[0].as_string())); }};
  m["toLower"] = {{{s}}, [](const CallArgs& c) { return str(lower(c.args[0].as_string())); }};
  m["title"] = {{{s}}, [](const CallArgs& c) { return str(title(c.args[0].as_string(), true)); }};
  m["trimSpace"] = {{{s}}, [](const CallArgs& c) { return str(std::string(trim_space(c.args[0].as_string()))); }};
  m["join"] = {{{s, string_slice_type()}}, [](const CallArgs& c) {
                 std::string out;
                 const auto& items = c.args[1].items();
                 for (size_t i = 0; i < items.size(); ++i) {
                   if (i > 0) out += c.args[0].as_string();
                   out += items[i].as_string();
                 }
                 return str(std::move(out));
               }};
  m["match"] = {{{s, s}}, regexp_match};
  m["safeHtml"] = {{{s}}, [](const CallArgs& c) -> Result<Value> {
                     return Value::string(c.args[0].as_string(), safe_html_type());
                   }};
  m["safeUrl"] = {{{s}}, [](const CallArgs& c) -> Result<Value> {
                    return Value::string(c.args[0].as_string(), safe_url_type());
                  }};
  m["urlUnescape"] = {{{s}}, [](const CallArgs& c) -> Result<Value> {
                        auto r = net::url_query_unescape(c.args[0].as_string());
                        if (!r) return std::unexpected(r.error());
                        return Value::string(std::move(*r));
                      }};
  m["reReplaceAll"] = {{{s, s, s}}, re_replace_all};
  m["stringSlice"] = {{{s}, true}, [](const CallArgs& c) -> Result<Value> {
                        return Value::slice(std::vector<Value>(c.args.begin(), c.args.end()),
                                            string_slice_type());
                      }};
  m["date"] = {{{s, time_type()}}, [](const CallArgs& c) {
                 return str(go_time_format(*as_time(c.args[1]), c.args[0].as_string()));
               }};
  m["tz"] = {{{s, time_type()}}, [](const CallArgs& c) -> Result<Value> {
               auto t = go_time_in(*as_time(c.args[1]), c.args[0].as_string());
               if (!t) return std::unexpected(t.error());
               return time_value(std::move(*t));
             }};
  m["since"] = {{{time_type()}}, [](const CallArgs& c) -> Result<Value> {
                  return duration_value(go_time_sub(now(), *as_time(c.args[0])));
                }};
  // Added in later Alertmanager releases.
  m["now"] = {{}, [](const CallArgs&) -> Result<Value> { return time_value(now()); }};
  m["toJson"] = {{{any_type()}}, [](const CallArgs& c) -> Result<Value> {
                   auto j = go_json_marshal(c.args[0]);
                   if (!j) return std::unexpected(j.error());
                   return Value::string(std::move(*j));
                 }};
  m["list"] = {{{any_type()}, true}, [](const CallArgs& c) -> Result<Value> {
                 return Value::slice(std::vector<Value>(c.args.begin(), c.args.end()), any_slice_type());
               }};
  m["append"] = {{{any_slice_type(), any_type()}, true}, [](const CallArgs& c) -> Result<Value> {
                   std::vector<Value> items = c.args[0].items();
                   items.insert(items.end(), c.args.begin() + 1, c.args.end());
                   return Value::slice(std::move(items), any_slice_type());
                 }};
  m["dict"] = {{{any_type()}, true}, [](const CallArgs& c) -> Result<Value> {
                 if (c.args.size() % 2 != 0) return fail("dict requires an even number of arguments");
                 MapEntries e;
                 for (size_t i = 0; i < c.args.size(); i += 2) {
                   if (c.args[i].type() != string_type()) return fail("dict keys must be strings");
                   e.emplace_back(c.args[i].as_string(), c.args[i + 1]);
                 }
                 return Value::map(std::move(e), any_map_type());
               }};
  m["base64encode"] = {{{s}}, [](const CallArgs& c) { return str(base64_url_encode(c.args[0].as_string())); }};
  m["base64decode"] = {{{s}}, [](const CallArgs& c) -> Result<Value> {
                         auto d = base64_url_decode(c.args[0].as_string());
                         if (!d) return std::unexpected(d.error());
                         return Value::string(std::move(*d));
                       }};
  // time.ParseInLocation in UTC: toDate gives Go's zero time when the value
  // does not fit the layout, mustToDate the error.
  m["toDate"] = {{{s, s}}, [](const CallArgs& c) -> Result<Value> {
                   auto t = go_time_parse(c.args[0].as_string(), c.args[1].as_string());
                   return time_value(t ? std::move(*t) : GoTime{});
                 }};
  m["mustToDate"] = {{{s, s}}, [](const CallArgs& c) -> Result<Value> {
                       auto t = go_time_parse(c.args[0].as_string(), c.args[1].as_string());
                       if (!t) return std::unexpected(t.error());
                       return time_value(std::move(*t));
                     }};
  // Alertmanager 0.34: the route label of that name, rendered; "" for a
  // label the route does not have, or outside a notification template.
  m["routeLabels"] = {{{s}}, [](const CallArgs& c) -> Result<Value> {
                        const auto* env = dynamic_cast<const RouteLabelEnv*>(c.env);
                        if (env == nullptr) return Value::string("");
                        auto r = env->resolve(c.args[0].as_string());
                        if (!r) return std::unexpected(r.error());
                        return Value::string(std::move(*r));
                      }};
  m["humanizeDuration"] = {{{any_type()}}, [](const CallArgs& c) -> Result<Value> {
                             auto r = humanize_duration(c.args[0]);
                             if (!r) return std::unexpected(r.error());
                             return Value::string(std::move(*r));
                           }};
  return m;
}

NotificationTemplates::NotificationTemplates()
    : text_(alertmanager_functions(), MissingKey::kZero),
      html_(alertmanager_functions(), MissingKey::kZero) {
  html_.set_escaping(Escaping::kHTML);
}

Result<void> NotificationTemplates::add(std::string_view name, std::string_view text) {
  auto r = text_.parse(name, text);
  if (!r) return r;
  return html_.parse(name, text);
}

Result<NotificationTemplates> NotificationTemplates::load(const std::vector<std::string>& globs,
                                                          bool with_defaults) {
  NotificationTemplates t;
  if (with_defaults) {
    auto r = t.add("default.tmpl", default_notification_templates());
    if (!r) return std::unexpected(r.error());
  }
  for (const auto& pattern : globs) {
    glob_t g{};
    int rc = ::glob(pattern.c_str(), 0, nullptr, &g);
    if (rc != 0 && rc != GLOB_NOMATCH) {
      globfree(&g);
      return fail("syntax error in pattern");
    }
    std::vector<std::string> files(g.gl_pathv, g.gl_pathv + g.gl_pathc);
    globfree(&g);
    for (const auto& path : files) {
      auto text = read_file(path);
      if (!text) return std::unexpected(text.error());
      std::string base = path.substr(path.find_last_of('/') + 1);
      auto r = t.add(base, *text);
      if (!r) return std::unexpected(r.error());
    }
  }
  return t;
}

Result<std::string> NotificationTemplates::execute_text(std::string_view text, const Value& data) const {
  if (text.empty()) return std::string();
  const RouteLabelEnv env(text_, data);
  return text_.execute_text(text, data, &env);
}

Result<std::string> NotificationTemplates::execute_html(std::string_view text, const Value& data) const {
  if (text.empty()) return std::string();
  const RouteLabelEnv env(html_, data);
  return html_.execute_text(text, data, &env);
}

KV NotificationTemplates::render_route_labels(const NotificationData& data, std::vector<Error>* errors) const {
  KV out;
  if (data.route_labels.empty()) return out;
  NotificationData d = data;
  d.route_labels_rendered = false;
  const Value value = notification_value(d);
  // One resolver for all of them: a label others read is rendered once.
  const RouteLabelEnv env(text_, value);
  for (const auto& [name, raw] : data.route_labels) {
    auto r = env.resolve(name);
    if (r) {
      out.emplace(name, std::move(*r));
    } else if (errors != nullptr) {
      errors->push_back(Error{fmt::format("route label {}: {}", name, r.error().message)});
    }
  }
  return out;
}

Result<std::string> NotificationTemplates::execute_text(std::string_view text,
                                                        const NotificationData& data) const {
  return execute_text(text, notification_value(data));
}

Result<std::string> NotificationTemplates::execute_html(std::string_view text,
                                                        const NotificationData& data) const {
  return execute_html(text, notification_value(data));
}

}  // namespace vigil::templates
