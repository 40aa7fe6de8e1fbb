#include "templates/prometheus.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "model/go_format.h"
#include "net/url.h"
#include "templates/escape.h"
#include "templates/go_time.h"
#include "templates/humanize.h"
#include "templates/shared_functions.h"
#include "templates/unicode.h"

namespace vigil::templates {

namespace {

// The execution environment: the data the alert is expanded with.
class AlertEnv : public ExecEnv {
 public:
  explicit AlertEnv(const AlertTemplateData& d) : data(d) {}
  const AlertTemplateData& data;
};

const AlertTemplateData* alert_data(const CallArgs& c) {
  auto* env = dynamic_cast<const AlertEnv*>(c.env);
  return env ? &env->data : nullptr;
}

Result<Value> str(std::string s) { return Value::string(std::move(s)); }

Result<Value> str_result(Result<std::string> r) {
  if (!r) return std::unexpected(r.error());
  return Value::string(std::move(*r));
}

const Type* sample_type() {
  static const Type* t = [] {
    Type* st = make_mutable_type(Kind::kStruct, "template.sample",
                                 "struct { Labels map[string]string; Value interface {} }");
    st->fields = {"Labels", "Value"};
    return st;
  }();
  return t;
}

const Type* sample_ptr_type() { return pointer_to(sample_type()); }

const Type* query_result_type() {
  static const Type* t = make_type(Kind::kSlice, "template.queryResult", "[]*template.sample",
                                   sample_ptr_type());
  return t;
}

Value labels_map(const Labels& ls) {
  MapEntries e;
  for (const LabelView l : ls) e.emplace_back(std::string(l.name), Value::string(std::string(l.value)));
  return Value::strmap(std::move(e));
}

Value sample_value(const QuerySample& s) {
  return Value::pointer(
      Value::structure({labels_map(s.metric), Value::floating(s.value)}, sample_type()),
      sample_ptr_type());
}

// A *sample argument; Go dereferences a nil one with a runtime panic.
Result<const Value*> sample_fields(const Value& v) {
  if (v.is_nil() || !v.valid()) return fail("runtime error: invalid memory address or nil pointer dereference");
  return &v.pointee();
}

// net.SplitHostPort.
bool split_host_port(std::string_view hp, std::string* host, std::string* port) {
  size_t colon = hp.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view h = hp.substr(0, colon);
  if (!h.empty() && h.front() == '[') {
    size_t end = h.find(']');
    if (end != h.size() - 1) return false;
    h = h.substr(1, end - 1);
  } else if (h.find(':') != std::string_view::npos) {
    return false;  // too many colons
  }
  if (h.find_first_of("[]") != std::string_view::npos) return false;
  std::string_view p = hp.substr(colon + 1);
  if (p.find_first_of("[]") != std::string_view::npos) return false;
  *host = h;
  *port = p;
  return true;
}

// net.ParseIP: a dotted IPv4 or an IPv6 address.
bool is_ip(std::string_view s) {
  int dots = 0, num = 0, digits = 0;
  bool v4 = !s.empty();
  for (char c : s) {
    if (c == '.') {
      if (digits == 0 || num > 255) v4 = false;
      ++dots;
      num = digits = 0;
    } else if (c >= '0' && c <= '9') {
      if (++digits > 3) {
        v4 = false;
      } else {
        num = num * 10 + (c - '0');
      }
    } else {
      v4 = false;
    }
  }
  if (v4 && dots == 3 && digits > 0 && num <= 255) return true;
  if (s.find(':') == std::string_view::npos) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
  }
  return s.find(":::") == std::string_view::npos;
}

std::string url_path(std::string_view url) {
  size_t scheme = url.find("://");
  size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
  size_t slash = url.find('/', start);
  if (slash == std::string_view::npos) return "";
  size_t end = url.find_first_of("?#", slash);
  return std::string(url.substr(slash, end == std::string_view::npos ? std::string_view::npos : end - slash));
}

Result<Value> float_func(const CallArgs& c, Result<std::string> (*f)(const Value&)) {
  return str_result(f(c.args[0]));
}

}  // namespace

FuncMap prometheus_functions() {
  const Type* s = string_type();
  const Type* any = any_type();
  FuncMap m;
  m["query"] = {{{s}}, [](const CallArgs& c) -> Result<Value> {
                  const AlertTemplateData* d = alert_data(c);
                  if (!d || !d->query) return fail("no query function is configured");
                  auto r = d->query(c.args[0].as_string(), d->eval_time);
                  if (!r) return std::unexpected(r.error());
                  std::vector<Value> samples;
                  for (const auto& smp : *r) samples.push_back(sample_value(smp));
                  return Value::slice(std::move(samples), query_result_type());
                }};
  m["first"] = {{{query_result_type()}}, [](const CallArgs& c) -> Result<Value> {
                  if (c.args[0].items().empty()) return fail("first() called on vector with no elements");
                  return c.args[0].items()[0];
                }};
  m["label"] = {{{s, sample_ptr_type()}}, [](const CallArgs& c) -> Result<Value> {
                  auto f = sample_fields(c.args[1]);
                  if (!f) return std::unexpected(f.error());
                  const Value* v = (*f)->items()[0].find(c.args[0].as_string());
                  return Value::string(v ? v->as_string() : "");
                }};
  m["value"] = {{{sample_ptr_type()}}, [](const CallArgs& c) -> Result<Value> {
                  auto f = sample_fields(c.args[0]);
                  if (!f) return std::unexpected(f.error());
                  return (*f)->items()[1];
                }};
  m["strvalue"] = {{{sample_ptr_type()}}, [](const CallArgs& c) -> Result<Value> {
                     auto f = sample_fields(c.args[0]);
                     if (!f) return std::unexpected(f.error());
                     const Value* v = (*f)->items()[0].find("__value__");
                     return Value::string(v ? v->as_string() : "");
                   }};
  m["sortByLabel"] = {{{s, query_result_type()}}, [](const CallArgs& c) -> Result<Value> {
                        std::vector<Value> items = c.args[1].items();
                        const std::string& by = c.args[0].as_string();
                        auto key = [&](const Value& v) {
                          if (v.is_nil()) return std::string();
                          const Value* l = v.pointee().items()[0].find(by);
                          return l ? l->as_string() : std::string();
                        };
                        std::stable_sort(items.begin(), items.end(),
                                         [&](const Value& a, const Value& b) { return key(a) < key(b); });
                        return Value::slice(std::move(items), c.args[1].type());
                      }};
  m["args"] = {{{any}, true}, [](const CallArgs& c) -> Result<Value> {
                 MapEntries e;
                 for (size_t i = 0; i < c.args.size(); ++i) e.emplace_back(fmt::format("arg{}", i), c.args[i]);
                 return Value::map(std::move(e), any_map_type());
               }};
  m["reReplaceAll"] = {{{s, s, s}}, re_replace_all};
  m["safeHtml"] = {{{s}}, [](const CallArgs& c) -> Result<Value> {
                     return Value::string(c.args[0].as_string(), safe_html_type());
                   }};
  m["match"] = {{{s, s}}, regexp_match};
  m["title"] = {{{s}}, [](const CallArgs& c) { return str(title(c.args[0].as_string(), false)); }};
  m["toUpper"] = {{{s}}, [](const CallArgs& c) { return str(upper(c.args[0].as_string())); }};
  m["toLower"] = {{{s}}, [](const CallArgs& c) { return str(lower(c.args[0].as_string())); }};
  m["graphLink"] = {{{s}}, [](const CallArgs& c) {
                      return str("/graph?g0.expr=" + net::url_query_escape(c.args[0].as_string()) + "&g0.tab=0");
                    }};
  m["tableLink"] = {{{s}}, [](const CallArgs& c) {
                      return str("/graph?g0.expr=" + net::url_query_escape(c.args[0].as_string()) + "&g0.tab=1");
                    }};
  m["stripPort"] = {{{s}}, [](const CallArgs& c) {
                      std::string host, port;
                      if (!split_host_port(c.args[0].as_string(), &host, &port)) return str(c.args[0].as_string());
                      return str(host);
                    }};
  m["stripDomain"] = {{{s}}, [](const CallArgs& c) {
                        const std::string& hp = c.args[0].as_string();
                        std::string host, port;
                        if (!split_host_port(hp, &host, &port)) {
                          host = hp;
                          port.clear();
                        }
                        if (is_ip(host)) return str(hp);
                        host = host.substr(0, host.find('.'));
                        if (port.empty()) return str(host);
                        bool v6 = host.find(':') != std::string::npos;
                        return str(v6 ? "[" + host + "]:" + port : host + ":" + port);
                      }};
  m["humanize"] = {{{any}}, [](const CallArgs& c) { return float_func(c, humanize); }};
  m["humanize1024"] = {{{any}}, [](const CallArgs& c) { return float_func(c, humanize_1024); }};
  m["humanizeDuration"] = {{{any}}, [](const CallArgs& c) { return float_func(c, humanize_duration); }};
  m["humanizePercentage"] = {{{any}}, [](const CallArgs& c) { return float_func(c, humanize_percentage); }};
  m["humanizeTimestamp"] = {{{any}}, [](const CallArgs& c) { return float_func(c, humanize_timestamp); }};
  m["toTime"] = {{{any}}, [](const CallArgs& c) -> Result<Value> {
                   auto f = convert_to_float(c.args[0]);
                   if (!f) return std::unexpected(f.error());
                   if (std::isnan(*f) || std::isinf(*f)) return fail("value is NaN or Inf");
                   double ts = *f * 1e9;
                   if (ts > 9.2233720368547758e18 || ts < -9.2233720368547758e18) {
                     return fail(go_format_float(*f, 'g', -1) +
                                 " cannot be represented as a nanoseconds timestamp since it overflows int64");
                   }
                   auto nanos = static_cast<int64_t>(ts);
                   int64_t sec = nanos / 1'000'000'000;
                   int64_t ns = nanos % 1'000'000'000;
                   if (ns < 0) {
                     ns += 1'000'000'000;
                     --sec;
                   }
                   return Value::pointer(time_value(go_time_from_unix(sec, static_cast<int32_t>(ns))),
                                         pointer_to(time_type()));
                 }};
  m["toDuration"] = {{{any}}, [](const CallArgs& c) -> Result<Value> {
                       auto f = convert_to_float(c.args[0]);
                       if (!f) return std::unexpected(f.error());
                       double ns = *f * 1e9;
                       // Go's float to int64 conversion of out-of-range values gives the minimum.
                       int64_t d = (std::isnan(ns) || ns >= 9.2233720368547758e18 || ns < -9.2233720368547758e18)
                                       ? INT64_MIN
                                       : static_cast<int64_t>(ns);
                       return Value::pointer(duration_value(d), pointer_to(duration_type()));
                     }};
  m["now"] = {{}, [](const CallArgs& c) -> Result<Value> {
                const AlertTemplateData* d = alert_data(c);
                return Value::floating(d ? static_cast<double>(d->eval_time) / 1000.0 : 0);
              }};
  m["pathPrefix"] = {{}, [](const CallArgs& c) {
                       const AlertTemplateData* d = alert_data(c);
                       return str(d ? url_path(d->external_url) : "");
                     }};
  m["externalURL"] = {{}, [](const CallArgs& c) {
                        const AlertTemplateData* d = alert_data(c);
                        return str(d ? d->external_url : "");
                      }};
  m["parseDuration"] = {{{s}}, [](const CallArgs& c) -> Result<Value> {
                          std::string_view text = c.args[0].as_string();
                          bool neg = !text.empty() && text[0] == '-';
                          auto ms = parse_duration(neg ? text.substr(1) : text);
                          if (!ms) return fail(ms.error().message);
                          double secs = static_cast<double>(*ms) / 1000.0;
                          return Value::floating(neg ? -secs : secs);
                        }};
  m["urlQueryEscape"] = {{{s}}, [](const CallArgs& c) { return str(net::url_query_escape(c.args[0].as_string())); }};
  return m;
}

namespace {

const Type* alert_data_type() {
  static const Type* t = [] {
    Type* at = make_mutable_type(Kind::kStruct, "",
                                 "struct { Labels map[string]string; ExternalLabels map[string]string; "
                                 "ExternalURL string; Value interface {} }");
    at->fields = {"Labels", "ExternalLabels", "ExternalURL", "Value"};
    return at;
  }();
  return t;
}

constexpr std::string_view kDefs =
    "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}"
    "{{$externalURL := .ExternalURL}}{{$value := .Value}}";

std::shared_ptr<const TemplateSet> prometheus_set() {
  static const std::shared_ptr<const TemplateSet> set =
      std::make_shared<const TemplateSet>(prometheus_functions(), MissingKey::kZero);
  return set;
}

}  // namespace

AlertTemplate::AlertTemplate(std::string_view alert_name, std::string_view text)
    : name_("__alert_" + std::string(alert_name)) {
  auto set = std::make_shared<TemplateSet>(*prometheus_set());
  auto r = set->parse(name_, std::string(kDefs) + std::string(text));
  if (!r) {
    syntax_error_ = r.error().message;
    parse_error_ = "error parsing template " + name_ + ": " + syntax_error_;
  } else {
    set_ = std::move(set);
  }
}

Result<std::string> AlertTemplate::expand(const AlertTemplateData& data) const {
  if (!set_) return fail(parse_error_);
  Value dot = Value::structure({labels_map(data.labels), labels_map(data.external_labels),
                                Value::string(data.external_url), Value::floating(data.value)},
                               alert_data_type());
  AlertEnv env(data);
  auto r = set_->execute(name_, dot, &env);
  if (!r) return fail("error executing template " + name_ + ": " + r.error().message);
  return r;
}

Result<std::string> expand_alert_template(std::string_view alert_name, std::string_view text,
                                          const AlertTemplateData& data) {
  return AlertTemplate(alert_name, text).expand(data);
}

}  // namespace vigil::templates
