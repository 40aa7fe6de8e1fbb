#include "config/prometheus_sections.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>
#include <string>

#include <fmt/format.h>

#include "model/duration.h"

namespace vigil::config {
namespace {

bool present(const ConfigValue* v) { return v != nullptr && !v->is_null(); }

// A scalar as the text it was written as.
std::string text(const ConfigValue& v) {
  switch (v.kind()) {
    case ConfigValue::Kind::Bool: return v.as_bool() ? "true" : "false";
    case ConfigValue::Kind::Int: return std::to_string(v.as_int());
    case ConfigValue::Kind::Float: return fmt::format("{}", v.as_float());
    default: return v.as_string();
  }
}

double number(const ConfigValue& v) {
  if (v.kind() == ConfigValue::Kind::Int || v.kind() == ConfigValue::Kind::Float) return v.as_float();
  return std::strtod(v.as_string().c_str(), nullptr);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

class SectionChecker {
 public:
  explicit SectionChecker(std::vector<Error>& errors) : errors_(errors) {}

  void error(const ConfigValue& at, std::string msg) { errors_.push_back({std::move(msg), at.line, at.column}); }

  // Headers Prometheus sets itself may not be overridden.
  bool headers(const ConfigValue& owner, bool tracing) {
    const ConfigValue* h = owner.find("headers");
    if (!present(h) || !h->is_map()) return true;
    static const std::set<std::string> kReserved = {
        "host",           "content-encoding",   "content-length",      "content-type",
        "user-agent",     "connection",         "keep-alive",          "proxy-authenticate",
        "proxy-authorization", "www-authenticate", "accept-encoding", "x-prometheus-remote-write-version",
        "x-prometheus-remote-read-version", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"};
    for (const auto& [name, value] : h->entries()) {
      if (lower(name) == "authorization") {
        error(value, tracing ? "custom authorization header configuration is not yet supported"
                             : "authorization header must be changed via the basic_auth, authorization, oauth2, "
                               "sigv4, azuread or google_iam parameter");
        return false;
      }
      if (kReserved.count(lower(name))) {
        error(value, fmt::format("{} is a reserved header. It must not be changed", name));
        return false;
      }
    }
    return true;
  }

  void queue(const ConfigValue& q) {
    auto get = [&](std::string_view key, double def) {
      const ConfigValue* v = q.find(key);
      return present(v) ? number(*v) : def;
    };
    auto duration = [&](std::string_view key, Millis def) {
      const ConfigValue* v = q.find(key);
      if (!present(v)) return def;
      auto d = parse_duration(text(*v));
      return d ? *d : def;
    };
    const double max_shards = get("max_shards", 50), min_shards = get("min_shards", 1);
    const double per_send = get("max_samples_per_send", 2000), capacity = get("capacity", 10000);
    if (max_shards <= 0) return error(q, "remote write queue max_shards must be positive");
    if (min_shards <= 0) return error(q, "remote write queue min_shards must be positive");
    if (min_shards > max_shards) return error(q, "remote write queue min_shards must not be greater than max_shards");
    if (per_send <= 0) return error(q, "remote write queue max_samples_per_send must be positive");
    if (capacity <= 0) return error(q, "remote write queue capacity must be positive");
    if (duration("max_backoff", 5000) < duration("min_backoff", 30))
      return error(q, "remote write queue max_backoff must not be less than min_backoff");
  }

  void remote(const ConfigValue& list, bool write) {
    const std::string_view kind = write ? "write" : "read";
    std::set<std::string> names;
    for (const ConfigValue& c : list.items()) {
      if (c.is_null()) return error(list, fmt::format("empty or null remote {} config section", kind));
      if (!c.is_map()) continue;
      const ConfigValue* url = c.find("url");
      if (!present(url) || text(*url).empty()) return error(c, fmt::format("url for remote_{} is empty", kind));
      if (write) {
        if (const ConfigValue* rl = c.find("write_relabel_configs"); present(rl) && rl->is_list())
          for (const ConfigValue& r : rl->items())
            if (r.is_null()) return error(*rl, "empty or null relabeling rule in remote write config");
      }
      if (!headers(c, false)) return;
      if (write) {
        if (const ConfigValue* m = c.find("protobuf_message"); present(m)) {
          const std::string msg = text(*m);
          if (msg != "prometheus.WriteRequest" && msg != "io.prometheus.write.v2.Request")
            return error(*m, fmt::format("invalid protobuf_message value: unknown type for remote write protobuf "
                                         "message {}, supported: prometheus.WriteRequest, "
                                         "io.prometheus.write.v2.Request",
                                         msg));
        }
        if (const ConfigValue* q = c.find("queue_config"); present(q) && q->is_map()) queue(*q);
      }
      const std::string name(c.str("name"));
      if (!name.empty() && !names.insert(name).second)
        return error(c, fmt::format("found multiple remote {} configs with job name \"{}\"", kind, name));
    }
  }

  void tracing(const ConfigValue& t) {
    if (!t.is_map()) return;
    if (!headers(t, true)) return;
    const ConfigValue* endpoint = t.find("endpoint");
    if (!present(endpoint) || text(*endpoint).empty()) return error(t, "tracing endpoint must be set");
    if (const ConfigValue* c = t.find("compression"); present(c) && text(*c) != "" && text(*c) != "gzip")
      error(*c, fmt::format("invalid compression type {} provided, valid options: gzip", text(*c)));
  }

  void storage(const ConfigValue& s) {
    const ConfigValue* tsdb = s.is_map() ? s.find("tsdb") : nullptr;
    if (!present(tsdb) || !tsdb->is_map()) return;
    if (const ConfigValue* r = tsdb->find("retention"); present(r) && r->is_map()) {
      if (const ConfigValue* t = r->find("time"); present(t)) {
        if (!parse_duration(text(*t))) return error(*t, fmt::format("not a valid duration string: \"{}\"", text(*t)));
      }
      if (const ConfigValue* sz = r->find("size"); present(sz) && text(*sz).starts_with("-"))
        return error(*sz, fmt::format("'storage.tsdb.retention.size' must be greater than or equal to 0, got {}",
                                      text(*sz)));
      if (const ConfigValue* p = r->find("percentage"); present(p)) {
        const double pct = number(*p);
        if (pct < 0 || pct > 100 || std::isnan(pct))
          return error(*p, fmt::format("'storage.tsdb.retention.percentage' must be in the range [0, 100], got {}",
                                       text(*p)));
      }
    }
    if (const ConfigValue* ce = tsdb->find("chunk_encoding"); present(ce) && ce->is_map()) {
      if (const ConfigValue* f = ce->find("floats"); present(f) && text(*f) != "xor" && text(*f) != "xor2")
        error(*f, fmt::format("'storage.tsdb.chunk_encoding.floats' must be 'xor' or 'xor2', or the field must be "
                              "omitted entirely, got \"{}\"",
                              text(*f)));
    }
  }

  std::vector<std::string> strings(const ConfigValue* list) {
    std::vector<std::string> out;
    if (present(list) && list->is_list())
      for (const ConfigValue& v : list->items()) out.push_back(text(v));
    return out;
  }

  // Upstream trims each attribute, and reports every empty and repeated one.
  std::string attribute_problems(const std::vector<std::string>& attrs, std::string_view adjective) {
    std::set<std::string> seen;
    std::string problems;
    for (std::string a : attrs) {
      const size_t b = a.find_first_not_of(" \t\n\r"), e = a.find_last_not_of(" \t\n\r");
      a = b == std::string::npos ? "" : a.substr(b, e - b + 1);
      std::string p;
      if (a.empty()) p = fmt::format("empty {} OTel resource attribute", adjective);
      else if (!seen.insert(a).second) p = fmt::format("duplicated {} OTel resource attribute \"{}\"", adjective, a);
      if (!p.empty()) problems += (problems.empty() ? "" : "\n") + p;
    }
    return problems;
  }

  void otlp(const ConfigValue& o) {
    if (!o.is_map()) return;
    const bool all = o.flag("promote_all_resource_attributes");
    const auto promote = strings(o.find("promote_resource_attributes"));
    const auto ignore = strings(o.find("ignore_resource_attributes"));
    if (all && !promote.empty())
      return error(o, "'promote_all_resource_attributes' and 'promote_resource_attributes' cannot be configured "
                      "simultaneously");
    if (!all && !ignore.empty())
      return error(o, "'ignore_resource_attributes' cannot be configured unless 'promote_all_resource_attributes' "
                      "is true");
    const std::string problems = all ? attribute_problems(ignore, "ignored") : attribute_problems(promote, "promoted");
    if (!problems.empty())
      return error(o, fmt::format("invalid '{}': {}", all ? "ignore_resource_attributes" : "promote_resource_attributes",
                                  problems));
    if (const ConfigValue* ts = o.find("translation_strategy"); present(ts)) {
      const std::string s = text(*ts);
      if (s != "UnderscoreEscapingWithSuffixes" && s != "UnderscoreEscapingWithoutSuffixes" && s != "NoTranslation" &&
          s != "NoUTF8EscapingWithSuffixes" && !s.empty())
        error(*ts, fmt::format("unsupported OTLP translation strategy \"{}\"", s));
    }
  }

 private:
  std::vector<Error>& errors_;
};

}  // namespace

void check_unacted_sections(const ConfigValue& top, std::vector<Error>& errors) {
  SectionChecker c(errors);
  if (const ConfigValue* rw = top.find("remote_write"); present(rw) && rw->is_list()) c.remote(*rw, true);
  if (const ConfigValue* rr = top.find("remote_read"); present(rr) && rr->is_list()) c.remote(*rr, false);
  if (const ConfigValue* t = top.find("tracing"); present(t)) c.tracing(*t);
  if (const ConfigValue* s = top.find("storage"); present(s)) c.storage(*s);
  if (const ConfigValue* o = top.find("otlp"); present(o)) c.otlp(*o);
}

}  // namespace vigil::config
