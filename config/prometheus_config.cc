#include "config/prometheus_config.h"

#include <glob.h>

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "config/http_config.h"
#include "config/prometheus_sections.h"
#include "config/schema.h"
#include "model/file.h"
#include "model/names.h"
#include "model/yaml.h"

namespace vigil::config {

namespace {

using T = FieldType;
using Kind = YamlNode::Kind;

// ---- the schema of prometheus.yml ----

const ObjectSpec& static_config_spec() {
  static const ObjectSpec s{"targetgroup.plain", {{"targets", T::kStringList}, {"labels", T::kStringMap}}};
  return s;
}

const ObjectSpec& file_sd_spec() {
  static const ObjectSpec s{"file.plain",
                            {{"files", T::kStringList}, {"refresh_interval", T::kDuration, "5m"}}};
  return s;
}

// The HTTP client options scrape configs and Alertmanager configs hold
// inline, as notifiers' http_config.
void add_http_fields(ObjectSpec& o) {
  for (const FieldSpec& f : http_config_spec().fields) o.fields.push_back(f);
}

const ObjectSpec& dns_sd_spec() {
  static const ObjectSpec s{"dns.plain",
                            {{"names", T::kStringList},
                             {"type", T::kString, "SRV"},
                             {"port", T::kInt},
                             {"refresh_interval", T::kDuration, "30s"}}};
  return s;
}

const ObjectSpec& http_sd_spec() {
  static const ObjectSpec s = [] {
    ObjectSpec o{"http.plain", {{"url", T::kString}, {"refresh_interval", T::kDuration, "60s"}}};
    add_http_fields(o);
    return o;
  }();
  return s;
}

// Service discoveries: those vigil runs, and every other one upstream
// knows, accepted as free-form YAML and warned about. Alertmanagers are
// found by static and file discovery only.
void add_sd_fields(ObjectSpec& o, bool scrape) {
  o.fields.push_back({"static_configs", T::kObjectList, nullptr, &static_config_spec()});
  o.fields.push_back({"file_sd_configs", T::kObjectList, nullptr, &file_sd_spec()});
  if (scrape) {
    o.fields.push_back({"dns_sd_configs", T::kObjectList, nullptr, &dns_sd_spec()});
    o.fields.push_back({"http_sd_configs", T::kObjectList, nullptr, &http_sd_spec()});
  }
  for (std::string_view key : unsupported_sd_keys())
    if (!scrape || (key != "dns_sd_configs" && key != "http_sd_configs")) o.fields.push_back({key, T::kAny});
}

const ObjectSpec& global_spec() {
  static const ObjectSpec s{
      "config.plain",
      {{"scrape_interval", T::kDuration}, {"scrape_timeout", T::kDuration},
       {"scrape_protocols", T::kStringList}, {"evaluation_interval", T::kDuration},
       {"rule_query_offset", T::kDuration}, {"query_log_file"}, {"scrape_failure_log_file"},
       {"external_labels", T::kStringMap}, {"body_size_limit"}, {"sample_limit", T::kUInt},
       {"target_limit", T::kUInt}, {"label_limit", T::kUInt}, {"label_name_length_limit", T::kUInt},
       {"label_value_length_limit", T::kUInt}, {"keep_dropped_targets", T::kUInt},
       {"metric_name_validation_scheme"}, {"metric_name_escaping_scheme"},
       {"scrape_native_histograms", T::kBool}, {"convert_classic_histograms_to_nhcb", T::kBool},
       {"always_scrape_classic_histograms", T::kBool}, {"extra_scrape_metrics", T::kBool}}};
  return s;
}

const ObjectSpec& scrape_spec() {
  static const ObjectSpec s = [] {
    ObjectSpec o{"config.plain",
                 {{"job_name"}, {"honor_labels", T::kBool}, {"honor_timestamps", T::kBool, "true"},
                  {"track_timestamps_staleness", T::kBool}, {"params", T::kAny},
                  {"scrape_interval", T::kDuration}, {"scrape_timeout", T::kDuration},
                  {"scrape_protocols", T::kStringList}, {"fallback_scrape_protocol"},
                  {"scrape_native_histograms", T::kBool}, {"always_scrape_classic_histograms", T::kBool},
                  {"convert_classic_histograms_to_nhcb", T::kBool}, {"scrape_failure_log_file"},
                  {"metrics_path", T::kString, "/metrics"}, {"scheme", T::kString, "http"},
                  {"enable_compression", T::kBool, "true"}, {"body_size_limit"}, {"sample_limit", T::kUInt},
                  {"target_limit", T::kUInt}, {"label_limit", T::kUInt}, {"label_name_length_limit", T::kUInt},
                  {"label_value_length_limit", T::kUInt}, {"native_histogram_bucket_limit", T::kUInt},
                  {"native_histogram_min_bucket_factor", T::kFloat}, {"keep_dropped_targets", T::kUInt},
                  {"metric_name_validation_scheme"}, {"metric_name_escaping_scheme"},
                  {"extra_scrape_metrics", T::kBool}, {"relabel_configs", T::kAny},
                  {"metric_relabel_configs", T::kAny}}};
    add_http_fields(o);
    add_sd_fields(o, true);
    return o;
  }();
  return s;
}

const ObjectSpec& alertmanager_spec() {
  static const ObjectSpec s = [] {
    ObjectSpec o{"config.plain",
                 {{"sigv4", T::kAny}, {"scheme", T::kString, "http"}, {"path_prefix", T::kString, "/"},
                  {"timeout", T::kDuration, "10s"}, {"api_version", T::kString, "v2"},
                  {"relabel_configs", T::kAny}, {"alert_relabel_configs", T::kAny}}};
    add_http_fields(o);
    add_sd_fields(o, false);
    return o;
  }();
  return s;
}

const ObjectSpec& alerting_spec() {
  static const ObjectSpec s{"config.plain",
                            {{"alert_relabel_configs", T::kAny},
                             {"alertmanagers", T::kObjectList, nullptr, &alertmanager_spec()}}};
  return s;
}

// Sections vigil accepts without acting on them, and why.
struct IgnoredSection {
  std::string_view key;
  std::string_view why;
};
constexpr IgnoredSection kIgnoredSections[] = {
    {"runtime", "vigil has no Go runtime to tune"},
    {"storage", "vigil keeps samples in memory only"},
    {"tracing", "vigil exports no traces"},
    {"remote_read", "vigil reads only what it scrapes"},
    {"otlp", "vigil receives no OTLP"},
};

const ObjectSpec& queue_spec() {
  static const ObjectSpec s{"config.plain",
                            {{"capacity", T::kInt, "10000"}, {"max_shards", T::kInt, "50"},
                             {"min_shards", T::kInt, "1"}, {"max_samples_per_send", T::kInt, "2000"},
                             {"batch_send_deadline", T::kDuration, "5s"}, {"min_backoff", T::kDuration, "30ms"},
                             {"max_backoff", T::kDuration, "5s"}, {"retry_on_http_429", T::kBool, "true"},
                             {"sample_age_limit", T::kDuration}, {"max_retries", T::kInt}}};
  return s;
}

// A remote_write entry as upstream's RemoteWriteConfig: the fields vigil
// acts on typed, the others (metadata, sigv4, azuread, ...) kept as written.
const ObjectSpec& remote_write_spec() {
  static const ObjectSpec s = [] {
    ObjectSpec o{"config.plain",
                 {{"url"}, {"name"}, {"remote_timeout", T::kDuration, "30s"}, {"headers", T::kStringMap},
                  {"write_relabel_configs", T::kAny}, {"send_exemplars", T::kBool},
                  {"send_native_histograms", T::kBool}, {"round_robin_dns", T::kBool}, {"protobuf_message"},
                  {"queue_config", T::kObject, "", &queue_spec()}, {"metadata_config", T::kAny},
                  {"sigv4", T::kAny}, {"azuread", T::kAny}, {"google_iam", T::kAny}}};
    add_http_fields(o);
    return o;
  }();
  return s;
}

// A file scrape_config_files names: scrape configs only.
const ObjectSpec& scrape_files_spec() {
  static const ObjectSpec s{"config.ScrapeConfigs", {{"scrape_configs", T::kObjectList, nullptr, &scrape_spec()}}};
  return s;
}

const ObjectSpec& top_spec() {
  static const ObjectSpec s = [] {
    ObjectSpec o{"config.plain",
                 {{"global", T::kObject, "", &global_spec()},
                  {"alerting", T::kObject, nullptr, &alerting_spec()},
                  {"rule_files", T::kStringList},
                  {"scrape_config_files", T::kStringList},
                  {"scrape_configs", T::kObjectList, nullptr, &scrape_spec()},
                  // Kept as written here (the section checks read it so), decoded
                  // entry by entry against remote_write_spec by the loader.
                  {"remote_write", T::kAny}}};
    for (const auto& ig : kIgnoredSections) o.fields.push_back({ig.key, T::kAny});
    return o;
  }();
  return s;
}

// ---- helpers ----

bool present(const ConfigValue* v) { return v != nullptr && !v->is_null(); }

std::vector<std::string> strings(const ConfigValue* list) {
  std::vector<std::string> out;
  if (list == nullptr || !list->is_list()) return out;
  for (const ConfigValue& v : list->items()) out.push_back(v.as_string());
  return out;
}

// The value node of `key` in a YAML mapping (nullptr when absent).
const YamlNode* yaml_child(const YamlDocument& doc, const YamlNode* map, std::string_view key) {
  if (map == nullptr || map->kind != Kind::Mapping) return nullptr;
  auto c = doc.children(*map);
  for (size_t i = 0; i + 1 < c.size(); i += 2)
    if (c[i]->kind == Kind::Scalar && doc.value(*c[i]) == key) return c[i + 1];
  return nullptr;
}

const YamlNode* yaml_item(const YamlDocument& doc, const YamlNode* seq, size_t i) {
  if (seq == nullptr || seq->kind != Kind::Sequence) return nullptr;
  auto c = doc.children(*seq);
  return i < c.size() ? c[i] : nullptr;
}

std::string join_path(std::string_view dir, const std::string& p) {
  if (dir.empty() || p.empty() || p.front() == '/') return p;
  return fmt::format("{}/{}", dir, p);
}

class Loader {
 public:
  Loader(const YamlDocument& doc, std::string_view dir, PrometheusConfigResult& out)
      : doc_(doc), dir_(dir), out_(out) {}

  void run(const ConfigValue& top) {
    const YamlNode* root = doc_.root();
    global(top.find("global"));
    for (const auto& ig : kIgnoredSections)
      if (const ConfigValue* v = top.find(ig.key); present(v))
        warn(*v, fmt::format("{} is not supported by vigil and is ignored: {}", ig.key, ig.why));
    check_unacted_sections(top, out_.errors);
    if (const ConfigValue* rr = top.find("remote_read"); present(rr) && rr->is_list()) {
      out_.config.remote_read_count = rr->items().size();
    }
    rule_files(top.find("rule_files"));
    std::set<std::string> jobs;
    scrape_list(top, jobs);
    scrape_config_files(top.find("scrape_config_files"), jobs);
    if (const ConfigValue* al = top.find("alerting"); present(al)) alerting(*al, yaml_child(doc_, root, "alerting"));
    remote_write(yaml_child(doc_, root, "remote_write"));
  }

 private:
  // The scrape configs of `top`'s scrape_configs; job names are unique
  // across the file and the files it includes.
  void scrape_list(const ConfigValue& top, std::set<std::string>& jobs) {
    const ConfigValue* sc = top.find("scrape_configs");
    if (!present(sc)) return;
    const YamlNode* seq = yaml_child(doc_, doc_.root(), "scrape_configs");
    for (size_t i = 0; i < sc->items().size(); ++i) {
      const ConfigValue& v = sc->items()[i];
      if (v.is_null()) {
        error(v, "empty or null scrape config section");
        continue;
      }
      ScrapeConfig c = scrape(v, yaml_item(doc_, seq, i));
      if (!c.job_name.empty() && !jobs.insert(c.job_name).second)
        error(v, fmt::format("found multiple scrape configs with job name \"{}\"", c.job_name));
      out_.config.scrape_configs.push_back(std::move(c));
    }
  }

  // scrape_config_files: each pattern's files hold scrape configs, read as
  // the file's own (global defaults apply), relative paths in them resolved
  // against their own directory. What is wrong in them is said with their
  // name, line and column.
  void scrape_config_files(const ConfigValue* patterns, std::set<std::string>& jobs) {
    if (!present(patterns)) return;
    for (const ConfigValue& p : patterns->items()) {
      const std::string& pattern = p.as_string();
      if (!valid_glob(pattern)) {
        error(p, fmt::format("invalid scrape config file path \"{}\"", pattern));
        continue;
      }
      if (dir_.empty()) continue;
      for (const std::string& f : glob_files(join_path(dir_, pattern))) {
        const size_t errors = out_.errors.size(), warnings = out_.warnings.size();
        auto text = read_file(f);
        auto doc = text ? parse_yaml(*text) : Result<YamlDocument>(std::unexpected(text.error()));
        if (!doc) {
          out_.errors.push_back(doc.error());
        } else if (doc->root() != nullptr && doc->root()->kind != Kind::Null) {
          std::vector<Error> decode_errors;
          SchemaDecoder decoder(*doc, decode_errors);
          ConfigValue top = decoder.object(*doc->root(), scrape_files_spec());
          if (!decode_errors.empty()) {
            out_.errors.insert(out_.errors.end(), decode_errors.begin(), decode_errors.end());
          } else {
            const size_t slash = f.rfind('/');
            Loader included(*doc, slash == std::string::npos ? "." : f.substr(0, slash), out_);
            included.names_ = names_;
            included.global_body_size_ = global_body_size_;
            included.scrape_list(top, jobs);
          }
        }
        name_file(f, errors, out_.errors);
        name_file(f, warnings, out_.warnings);
      }
    }
  }

  // Problems found in another file than the one loaded carry its name.
  static void name_file(const std::string& file, size_t from, std::vector<Error>& es) {
    for (size_t i = from; i < es.size(); ++i) {
      Error& e = es[i];
      e.message = e.line > 0 ? fmt::format("{}:{}:{}: {}", file, e.line, e.column, e.message)
                             : fmt::format("{}: {}", file, e.message);
      e.line = e.column = 0;
    }
  }

  // As upstream: a '*' only in the last path element, and no pattern Go's
  // filepath.Match refuses (an unclosed '[').
  static bool valid_glob(const std::string& pattern) {
    const size_t star = pattern.find('*');
    const size_t open = pattern.find('[');
    return !((star != std::string::npos && pattern.find('/', star) != std::string::npos) ||
             (open != std::string::npos && pattern.find(']', open) == std::string::npos));
  }

  void error(const ConfigValue& at, std::string msg) { out_.errors.push_back({std::move(msg), at.line, at.column}); }
  void warn(const ConfigValue& at, std::string msg) { out_.warnings.push_back({std::move(msg), at.line, at.column}); }

  void global(const ConfigValue* g) {
    PrometheusGlobalConfig& gc = out_.config.global;
    if (g == nullptr) return;
    gc.settings = *g;
    if (const ConfigValue* el = g->find("external_labels"); present(el) && el->is_map()) {
      std::vector<Label> ls;
      for (const auto& [name, value] : el->entries()) {
        if (!is_valid_utf8(name) || name.empty())
          error(value, fmt::format("{} is not a valid label name", go_quote(name)));
        else if (!is_valid_utf8(value.as_string()))
          error(value, fmt::format("{} is not a valid label value", go_quote(value.as_string())));
        else ls.push_back({name, value.as_string()});
      }
      gc.external_labels = Labels(ls);
    }
    if (g->num("scrape_interval") > 0) gc.scrape_interval = g->num("scrape_interval");
    const Millis timeout = g->num("scrape_timeout");
    if (timeout > gc.scrape_interval) error(*g, "global scrape timeout greater than scrape interval");
    gc.scrape_timeout = timeout > 0 ? timeout : std::min<Millis>(10 * kSecond, gc.scrape_interval);
    if (g->num("evaluation_interval") > 0) gc.evaluation_interval = g->num("evaluation_interval");
    gc.rule_query_offset = g->num("rule_query_offset");
    names_ = name_validation(*g, NameValidation::kUtf8);
    check_protocols(*g, "global config");
    global_body_size_ = body_size(*g);
    if (const ConfigValue* q = g->find("query_log_file"); q != nullptr && !q->as_string().empty())
      warn(*q, "global.query_log_file is ignored: vigil writes no query log");
    if (const ConfigValue* q = g->find("scrape_failure_log_file"); q != nullptr && !q->as_string().empty())
      warn(*q, "global.scrape_failure_log_file is ignored: scrape failures are shown by the targets API");
  }

  // metric_name_validation_scheme: "" (inherit), "utf8" or "legacy", and an
  // escaping scheme that agrees with it.
  NameValidation name_validation(const ConfigValue& v, NameValidation inherited) {
    NameValidation out = inherited;
    std::string_view scheme = v.str("metric_name_validation_scheme");
    if (scheme == "legacy") out = NameValidation::kLegacy;
    else if (scheme == "utf8") out = NameValidation::kUtf8;
    else if (!scheme.empty())
      error(*v.find("metric_name_validation_scheme"), fmt::format("unrecognized ValidationScheme: \"{}\"", scheme));
    std::string_view escaping = v.str("metric_name_escaping_scheme");
    if (!escaping.empty()) {
      const ConfigValue& at = *v.find("metric_name_escaping_scheme");
      if (escaping != "allow-utf-8" && escaping != "underscores" && escaping != "dots" && escaping != "values")
        error(at, fmt::format("unknown name escaping method specified, must be one of 'allow-utf-8', 'underscores', "
                              "'dots', or 'values', got \"{}\"",
                              escaping));
      else if (escaping == "allow-utf-8" && out == NameValidation::kLegacy)
        error(at, "utf8 metric names requested but validation scheme is not set to UTF8");
    }
    return out;
  }

  void check_protocols(const ConfigValue& v, std::string_view owner) {
    const ConfigValue* ps = v.find("scrape_protocols");
    if (!present(ps)) return;
    if (ps->items().empty()) {
      error(*ps, fmt::format("scrape_protocols cannot be empty for {}", owner));
      return;
    }
    // As upstream: the first problem only, repeats told apart case-insensitively.
    std::vector<std::string> all;
    for (const ConfigValue& p : ps->items()) all.push_back(p.as_string());
    std::set<std::string> seen;
    for (const ConfigValue& p : ps->items()) {
      std::string low = p.as_string();
      std::transform(low.begin(), low.end(), low.begin(), [](unsigned char c) { return std::tolower(c); });
      if (!seen.insert(low).second) {
        error(p, fmt::format("duplicated protocol in scrape_protocols, got [{}] for {}", fmt::join(all, " "), owner));
        return;
      }
      if (!known_protocol(p.as_string())) {
        error(p, fmt::format("scrape_protocols: {} for {}", unknown_protocol(p.as_string()), owner));
        return;
      }
    }
  }

  static constexpr std::string_view kProtocols[] = {"OpenMetricsText0.0.1", "OpenMetricsText1.0.0", "PrometheusProto",
                                                    "PrometheusText0.0.4", "PrometheusText1.0.0"};
  static bool known_protocol(std::string_view p) {
    return std::find(std::begin(kProtocols), std::end(kProtocols), p) != std::end(kProtocols);
  }
  static std::string unknown_protocol(std::string_view p) {
    return fmt::format("unknown scrape protocol {}, supported: [{}]", p, fmt::join(kProtocols, " "));
  }

  // body_size_limit as Go's units.Base2Bytes: a number and a unit (B, KB,
  // KiB, MB, MiB, ... EB); 0 when not written.
  uint64_t body_size(const ConfigValue& v) {
    const ConfigValue* b = v.find("body_size_limit");
    if (b == nullptr || b->as_string().empty()) return 0;
    const std::string& text = b->as_string();
    size_t i = 0;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    std::string unit = text.substr(i);
    static constexpr std::pair<std::string_view, int> kUnits[] = {
        {"B", 0},    {"KB", 10},  {"KiB", 10}, {"MB", 20},  {"MiB", 20}, {"GB", 30}, {"GiB", 30},
        {"TB", 40},  {"TiB", 40}, {"PB", 50},  {"PiB", 50}, {"EB", 60},  {"EiB", 60}};
    auto it = std::find_if(std::begin(kUnits), std::end(kUnits), [&](const auto& u) { return u.first == unit; });
    double n = i > 0 ? std::strtod(text.substr(0, i).c_str(), nullptr) : -1;
    if (it == std::end(kUnits) || n < 0) {
      error(*b, fmt::format("units: unknown unit {} in {}", unit, text));
      return 0;
    }
    return static_cast<uint64_t>(n * static_cast<double>(uint64_t{1} << it->second));
  }

  void rule_files(const ConfigValue* rf) {
    if (!present(rf)) return;
    std::set<std::string> files;
    for (const ConfigValue& p : rf->items()) {
      const std::string& pattern = p.as_string();
      out_.config.rule_file_patterns.push_back(pattern);
      // As upstream: a '*' only in the last path element, and no pattern
      // Go's filepath.Match refuses (an unclosed '[').
      const size_t star = pattern.find('*');
      const size_t open = pattern.find('[');
      if ((star != std::string::npos && pattern.find('/', star) != std::string::npos) ||
          (open != std::string::npos && pattern.find(']', open) == std::string::npos)) {
        error(p, fmt::format("invalid rule file path \"{}\"", pattern));
        continue;
      }
      if (dir_.empty()) continue;
      auto matched = glob_files(join_path(dir_, pattern));
      if (matched.empty())
        out_.config.unmatched_rule_files.push_back(Error{fmt::format("rule_files entry \"{}\" matches no file{}: no rules are loaded from it", pattern,
                            pattern.starts_with('/') ? "" : " (relative to the configuration file's folder)"),
                                                         p.line, p.column});
      for (std::string& f : matched) files.insert(std::move(f));
    }
    out_.config.rule_files.assign(files.begin(), files.end());
  }

  static std::vector<std::string> glob_files(const std::string& pattern) {
    std::vector<std::string> out;
    glob_t g{};
    if (::glob(pattern.c_str(), 0, nullptr, &g) == 0)
      for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
    globfree(&g);
    return out;
  }

  // The HTTP client options of a scrape or Alertmanager config, as the
  // http_config mapping HttpClient takes.
  ConfigValue http_options(const ConfigValue& v) {
    ConfigValue http = ConfigValue::map();
    http.line = v.line;
    http.column = v.column;
    for (const FieldSpec& f : http_config_spec().fields)
      if (const ConfigValue* x = v.find(f.name); x != nullptr) http.set(std::string(f.name), *x);
    check_http_config(http, out_.errors);
    resolve_http_paths(http, dir_);
    return http;
  }

  std::vector<StaticTargetGroup> static_configs(const ConfigValue& v) {
    std::vector<StaticTargetGroup> out;
    const ConfigValue* sc = v.find("static_configs");
    if (!present(sc)) return out;
    for (const ConfigValue& g : sc->items()) {
      if (g.is_null()) {
        error(g, "empty or null section in static_configs");
        continue;
      }
      StaticTargetGroup tg;
      tg.line = g.line;
      tg.targets = strings(g.find("targets"));
      std::vector<Label> ls;
      if (const ConfigValue* l = g.find("labels"); present(l))
        for (const auto& [name, value] : l->entries()) {
          if (name.empty() || !is_valid_utf8(name))
            error(value, fmt::format("{} is not a valid label name", go_quote(name)));
          ls.push_back({name, value.as_string()});
        }
      tg.labels = Labels(ls);
      out.push_back(std::move(tg));
    }
    return out;
  }

  std::vector<FileSdConfig> file_sd_configs(const ConfigValue& v) {
    std::vector<FileSdConfig> out;
    const ConfigValue* fs = v.find("file_sd_configs");
    if (!present(fs)) return out;
    for (const ConfigValue& f : fs->items()) {
      if (f.is_null()) continue;
      FileSdConfig c;
      c.line = f.line;
      c.refresh_interval = f.num("refresh_interval");
      for (const std::string& name : strings(f.find("files"))) {
        if (!valid_file_sd_name(name)) {
          error(f, fmt::format("path name \"{}\" is not valid for file discovery", name));
          continue;
        }
        c.files.push_back(join_path(dir_, name));
      }
      out.push_back(std::move(c));
    }
    return out;
  }

  std::vector<DnsSdConfig> dns_sd_configs(const ConfigValue& v) {
    std::vector<DnsSdConfig> out;
    const ConfigValue* ds = v.find("dns_sd_configs");
    if (!present(ds)) return out;
    for (const ConfigValue& d : ds->items()) {
      if (d.is_null()) continue;
      DnsSdConfig c;
      c.line = d.line;
      c.names = strings(d.find("names"));
      c.type = std::string(d.str("type"));
      for (char& ch : c.type) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      c.port = static_cast<int>(d.num("port"));
      c.refresh_interval = d.num("refresh_interval");
      if (c.names.empty()) {
        error(d, "DNS-SD config must contain at least one SRV record name");
      } else if (c.type != "SRV" && c.type != "A" && c.type != "AAAA" && c.type != "MX" && c.type != "NS") {
        error(*d.find("type"), fmt::format("invalid DNS-SD records type {} (expected SRV, A, AAAA, MX or NS)",
                                           d.str("type")));
      } else if (c.type != "SRV" && c.port == 0) {
        error(d, "a port is required in DNS-SD configs for all record types except SRV");
      } else if (c.port < 0 || c.port > 65535) {
        error(*d.find("port"), fmt::format("DNS-SD port {} is out of range (expected 1 to 65535)", c.port));
      } else if (c.refresh_interval <= 0) {
        error(d, "DNS-SD refresh_interval must be positive");
      }
      out.push_back(std::move(c));
    }
    return out;
  }

  std::vector<HttpSdConfig> http_sd_configs(const ConfigValue& v) {
    std::vector<HttpSdConfig> out;
    const ConfigValue* hs = v.find("http_sd_configs");
    if (!present(hs)) return out;
    for (const ConfigValue& h : hs->items()) {
      if (h.is_null()) continue;
      HttpSdConfig c;
      c.line = h.line;
      c.url = std::string(h.str("url"));
      c.refresh_interval = h.num("refresh_interval");
      // Upstream's checks and words.
      const size_t colon = c.url.find("://");
      const std::string scheme = colon == std::string::npos ? "" : c.url.substr(0, colon);
      const std::string rest = colon == std::string::npos ? "" : c.url.substr(colon + 3);
      const ConfigValue& at = h.find("url") ? *h.find("url") : h;
      if (c.url.empty()) error(h, "URL is missing");
      else if (scheme != "http" && scheme != "https") error(at, "URL scheme must be 'http' or 'https'");
      else if (rest.empty() || rest.front() == '/' || rest.front() == '?') error(at, "host is missing in URL");
      else if (c.refresh_interval <= 0) error(h, "http_sd_configs refresh_interval must be positive");
      c.http = http_options(h);
      out.push_back(std::move(c));
    }
    return out;
  }

  // Upstream's rule: a '*' only in the last path element, and a .json,
  // .yml or .yaml extension (in either case).
  static bool valid_file_sd_name(std::string_view name) {
    if (size_t star = name.find('*'); star != std::string_view::npos && name.find('/', star) != std::string_view::npos)
      return false;
    for (std::string_view ext : {".json", ".yml", ".yaml", ".JSON", ".YML", ".YAML"})
      if (name.ends_with(ext)) return true;
    return false;
  }

  std::vector<std::string> unsupported_sd(const ConfigValue& v, std::string_view owner, bool scrape) {
    std::vector<std::string> keys;
    for (std::string_view key : unsupported_sd_keys()) {
      if (scrape && (key == "dns_sd_configs" || key == "http_sd_configs")) continue;
      const ConfigValue* sd = v.find(key);
      if (!present(sd)) continue;
      keys.emplace_back(key);
      warn(*sd, fmt::format("{}: {} is not supported by vigil; it discovers no targets (only {} do)", owner, key,
                            scrape ? "static_configs, file_sd_configs, dns_sd_configs and http_sd_configs"
                                   : "static_configs and file_sd_configs"));
    }
    return keys;
  }

  std::vector<RelabelConfig> relabels(const YamlNode* node, std::string_view null_message) {
    std::vector<RelabelConfig> out;
    if (node == nullptr || node->kind == Kind::Null) return out;
    if (node->kind == Kind::Sequence) {
      for (const YamlNode* item : doc_.children(*node))
        if (item->kind == Kind::Null) {
          out_.errors.push_back({std::string(null_message), item->line, item->column});
          return out;
        }
    }
    auto rs = parse_relabel_configs(doc_, *node, names_);
    if (!rs) {
      out_.errors.push_back(rs.error());
      return out;
    }
    return std::move(*rs);
  }

  std::vector<std::pair<std::string, std::vector<std::string>>> params(const ConfigValue* p) {
    std::vector<std::pair<std::string, std::vector<std::string>>> out;
    if (!present(p)) return out;
    if (!p->is_map()) {
      error(*p, "params: cannot unmarshal into url.Values: expected a map of names to lists of values");
      return out;
    }
    for (const auto& [name, values] : p->entries()) {
      std::vector<std::string> vs;
      if (values.is_list()) {
        for (const ConfigValue& x : values.items()) {
          if (x.is_map() || x.is_list()) error(x, fmt::format("params: value of \"{}\" must be a string", name));
          else vs.push_back(scalar_text(x));
        }
      } else if (!values.is_null()) {
        error(values, fmt::format("params: \"{}\" must be a list of values", name));
      }
      out.emplace_back(name, std::move(vs));
    }
    return out;
  }

  static std::string scalar_text(const ConfigValue& x) {
    switch (x.kind()) {
      case ConfigValue::Kind::Bool: return x.as_bool() ? "true" : "false";
      case ConfigValue::Kind::Int: return std::to_string(x.as_int());
      case ConfigValue::Kind::Float: return fmt::format("{}", x.as_float());
      default: return x.as_string();
    }
  }

  void check_scheme(const ConfigValue& v, std::string_view scheme) {
    if (scheme != "http" && scheme != "https")
      error(*v.find("scheme"), fmt::format("scheme must be \"http\" or \"https\", got \"{}\"", scheme));
  }

  ScrapeConfig scrape(const ConfigValue& v, const YamlNode* node) {
    const PrometheusGlobalConfig& g = out_.config.global;
    ScrapeConfig c;
    c.line = v.line;
    c.job_name = std::string(v.str("job_name"));
    // Upstream checks discovery blocks as it decodes them, before the job.
    c.dns_sd_configs = dns_sd_configs(v);
    c.http_sd_configs = http_sd_configs(v);
    if (c.job_name.empty()) {
      error(v, "job_name is empty");
      return c;
    }
    c.scrape_interval = v.num("scrape_interval") > 0 ? v.num("scrape_interval") : g.scrape_interval;
    const Millis timeout = v.num("scrape_timeout");
    if (timeout > c.scrape_interval)
      error(v, fmt::format("scrape timeout greater than scrape interval for scrape config with job name \"{}\"",
                           c.job_name));
    c.scrape_timeout = timeout > 0 ? timeout : std::min(g.scrape_timeout, c.scrape_interval);
    c.metrics_path = std::string(v.str("metrics_path"));
    c.scheme = std::string(v.str("scheme"));
    check_scheme(v, c.scheme);
    c.params = params(v.find("params"));
    c.honor_labels = v.flag("honor_labels");
    c.honor_timestamps = v.flag("honor_timestamps");
    auto limit = [&](std::string_view key) -> uint64_t {
      int64_t own = v.num(key);
      return static_cast<uint64_t>(own > 0 ? own : g.settings.is_map() ? g.settings.num(key) : 0);
    };
    c.sample_limit = limit("sample_limit");
    c.label_limit = limit("label_limit");
    c.label_name_length_limit = limit("label_name_length_limit");
    c.label_value_length_limit = limit("label_value_length_limit");
    c.target_limit = limit("target_limit");
    c.body_size_limit = body_size(v);
    if (c.body_size_limit == 0) c.body_size_limit = global_body_size_;
    check_protocols(v, fmt::format("scrape config with job name \"{}\"", c.job_name));
    if (std::string_view fb = v.str("fallback_scrape_protocol"); !fb.empty() && !known_protocol(fb))
      error(*v.find("fallback_scrape_protocol"),
            fmt::format("invalid fallback_scrape_protocol for scrape config with job name \"{}\": {}", c.job_name,
                        unknown_protocol(fb)));
    c.fallback_scrape_protocol = std::string(v.str("fallback_scrape_protocol"));
    // Histogram options: the job's, else global's.
    auto inherited = [&](std::string_view key) {
      if (present(v.find(key))) return v.flag(key);
      return g.settings.is_map() && present(g.settings.find(key)) && g.settings.flag(key);
    };
    c.scrape_native_histograms = inherited("scrape_native_histograms");
    c.always_scrape_classic_histograms = inherited("always_scrape_classic_histograms");
    c.convert_classic_histograms_to_nhcb = inherited("convert_classic_histograms_to_nhcb");
    c.native_histogram_bucket_limit = static_cast<uint64_t>(std::max<int64_t>(0, v.num("native_histogram_bucket_limit")));
    if (const ConfigValue* f = v.find("native_histogram_min_bucket_factor"); present(f))
      c.native_histogram_min_bucket_factor = f->as_float();
    c.scrape_protocols = strings(v.find("scrape_protocols"));
    if (c.scrape_protocols.empty() && g.settings.is_map()) c.scrape_protocols = strings(g.settings.find("scrape_protocols"));
    if (c.scrape_protocols.empty() && c.scrape_native_histograms)
      c.scrape_protocols = {"PrometheusProto", "OpenMetricsText1.0.0", "OpenMetricsText0.0.1", "PrometheusText1.0.0",
                            "PrometheusText0.0.4"};
    if (c.scrape_protocols.empty())
      c.scrape_protocols = {"OpenMetricsText1.0.0", "OpenMetricsText0.0.1", "PrometheusText1.0.0", "PrometheusText0.0.4"};
    const NameValidation global_names = names_;
    names_ = name_validation(v, global_names);
    if (std::string_view esc = v.str("metric_name_escaping_scheme"); !esc.empty()) c.name_escaping = std::string(esc);
    else if (std::string_view gesc = g.settings.is_map() ? g.settings.str("metric_name_escaping_scheme") : "";
             !gesc.empty())
      c.name_escaping = std::string(gesc);
    else c.name_escaping = global_names == NameValidation::kLegacy ? "underscores" : "allow-utf-8";
    c.static_configs = static_configs(v);
    c.file_sd_configs = file_sd_configs(v);
    c.unsupported_sd = unsupported_sd(v, fmt::format("job \"{}\"", c.job_name), true);
    c.relabel_configs = relabels(yaml_child(doc_, node, "relabel_configs"),
                                 "empty or null target relabeling rule in scrape config");
    c.metric_relabel_configs = relabels(yaml_child(doc_, node, "metric_relabel_configs"),
                                        "empty or null metric relabeling rule in scrape config");
    // Without relabeling to fix them, URLs written as targets cannot work.
    if (c.relabel_configs.empty())
      for (const StaticTargetGroup& tg : c.static_configs)
        for (const std::string& t : tg.targets)
          if (t.find('/') != std::string::npos) error(v, fmt::format("\"{}\" is not a valid hostname", t));
    names_ = global_names;
    c.http = http_options(v);
    return c;
  }

  void alerting(const ConfigValue& al, const YamlNode* node) {
    out_.config.alert_relabel_configs =
        relabels(yaml_child(doc_, node, "alert_relabel_configs"), "empty or null alert relabeling rule");
    const ConfigValue* ams = al.find("alertmanagers");
    if (!present(ams)) return;
    const YamlNode* seq = yaml_child(doc_, node, "alertmanagers");
    for (size_t i = 0; i < ams->items().size(); ++i) {
      const ConfigValue& v = ams->items()[i];
      if (v.is_null()) continue;
      const YamlNode* am_node = yaml_item(doc_, seq, i);
      AlertmanagerTargetConfig c;
      c.line = v.line;
      c.scheme = std::string(v.str("scheme"));
      check_scheme(v, c.scheme);
      c.path_prefix = std::string(v.str("path_prefix"));
      c.timeout = v.num("timeout");
      c.api_version = std::string(v.str("api_version"));
      if (c.api_version != "v2")
        error(*v.find("api_version"),
              fmt::format("expected Alertmanager api version to be one of [v2] but got {}", c.api_version));
      if (present(v.find("sigv4")))
        warn(*v.find("sigv4"), fmt::format("alertmanager #{}: sigv4 is not supported by vigil and is ignored", i + 1));
      c.static_configs = static_configs(v);
      c.file_sd_configs = file_sd_configs(v);
      c.unsupported_sd = unsupported_sd(v, fmt::format("alertmanager #{}", i + 1), false);
      c.relabel_configs = relabels(yaml_child(doc_, am_node, "relabel_configs"),
                                   "empty or null Alertmanager target relabeling rule");
      c.alert_relabel_configs = relabels(yaml_child(doc_, am_node, "alert_relabel_configs"),
                                         "empty or null Alertmanager alert relabeling rule");
      c.http = http_options(v);
      out_.config.alertmanagers.push_back(std::move(c));
    }
  }

  // remote_write, decoded again entry by entry against its schema (the
  // whole file keeps it as written for the checks upstream makes).
  void remote_write(const YamlNode* seq) {
    if (seq == nullptr || seq->kind != Kind::Sequence) return;
    const size_t checked = out_.errors.size();
    remote_write_entries(*seq);
    // What check_unacted_sections said already is not said twice.
    std::vector<Error> added(out_.errors.begin() + static_cast<std::ptrdiff_t>(checked), out_.errors.end());
    out_.errors.resize(checked);
    for (Error& e : added) {
      const bool said = std::any_of(out_.errors.begin(), out_.errors.begin() + static_cast<std::ptrdiff_t>(checked),
                                    [&](const Error& o) { return o.message == e.message; });
      if (!said) out_.errors.push_back(std::move(e));
    }
  }

  void remote_write_entries(const YamlNode& seq) {
    for (const YamlNode* item : doc_.children(seq)) {
      if (item->kind != Kind::Mapping) continue;
      std::vector<Error> errors;
      SchemaDecoder decoder(doc_, errors);
      ConfigValue v = decoder.object(*item, remote_write_spec());
      if (!errors.empty()) {
        out_.errors.insert(out_.errors.end(), errors.begin(), errors.end());
        continue;
      }
      RemoteWriteConfig c;
      c.line = item->line;
      c.url = std::string(v.str("url"));
      c.name = std::string(v.str("name"));
      if (!c.url.empty()) {
        // As upstream: any URL Go parses ("localhost:9090" too).
        if (auto ok = check_url(c.url, false); !ok) error(*v.find("url"), ok.error().message);
      }
      c.remote_timeout = v.num("remote_timeout");
      c.send_native_histograms = v.flag("send_native_histograms");
      if (const ConfigValue* h = v.find("headers"); present(h) && h->is_map())
        for (const auto& [name, value] : h->entries()) c.headers.emplace_back(name, value.as_string());
      c.write_relabel_configs = relabels(yaml_child(doc_, item, "write_relabel_configs"),
                                         "empty or null relabeling rule in remote write config");
      if (const ConfigValue* q = v.find("queue_config"); present(q) && q->is_map()) {
        if (q->num("capacity") > 0) c.queue.capacity = static_cast<size_t>(q->num("capacity"));
        if (q->num("max_samples_per_send") > 0)
          c.queue.max_samples_per_send = static_cast<size_t>(q->num("max_samples_per_send"));
        c.queue.batch_send_deadline = q->num("batch_send_deadline");
        c.queue.min_backoff = q->num("min_backoff");
        c.queue.max_backoff = q->num("max_backoff");
        c.queue.retry_on_http_429 = q->flag("retry_on_http_429");
      }
      if (const ConfigValue* m = v.find("protobuf_message");
          present(m) && m->as_string() == "io.prometheus.write.v2.Request")
        warn(*m, "remote_write: protobuf_message io.prometheus.write.v2.Request is not supported by vigil; it sends "
                 "prometheus.WriteRequest (remote write 1.0)");
      for (std::string_view key : {"sigv4", "azuread", "google_iam"})
        if (const ConfigValue* a = v.find(key); present(a))
          warn(*a, fmt::format("remote_write: {} is not supported by vigil and is ignored", key));
      c.http = http_options(v);
      out_.config.remote_write.push_back(std::move(c));
    }
  }

  const YamlDocument& doc_;
  std::string dir_;
  PrometheusConfigResult& out_;
  NameValidation names_ = NameValidation::kUtf8;
  uint64_t global_body_size_ = 0;
};

void sort_by_position(std::vector<Error>& es) {
  std::stable_sort(es.begin(), es.end(), [](const Error& a, const Error& b) {
    return std::pair(a.line, a.column) < std::pair(b.line, b.column);
  });
}

}  // namespace

const std::vector<std::string_view>& unsupported_sd_keys() {
  static const std::vector<std::string_view> keys{
      "aws_sd_configs",       "azure_sd_configs",     "consul_sd_configs",     "digitalocean_sd_configs",
      "docker_sd_configs",    "dockerswarm_sd_configs", "dns_sd_configs",      "ec2_sd_configs",
      "ecs_sd_configs",       "elasticache_sd_configs", "eureka_sd_configs",   "gce_sd_configs",
      "hetzner_sd_configs",   "http_sd_configs",      "ionos_sd_configs",      "kubernetes_sd_configs",
      "kuma_sd_configs",      "lightsail_sd_configs", "linode_sd_configs",     "marathon_sd_configs",
      "msk_sd_configs",       "nerve_sd_configs",     "nomad_sd_configs",      "oci_sd_configs",
      "openstack_sd_configs", "outscale_sd_configs",  "ovhcloud_sd_configs",   "puppetdb_sd_configs",
      "rds_sd_configs",       "scaleway_sd_configs",  "serverset_sd_configs",  "stackit_sd_configs",
      "triton_sd_configs",    "uyuni_sd_configs",     "vultr_sd_configs",
  };
  return keys;
}

const ScrapeConfig* PrometheusConfig::scrape_config(std::string_view job) const {
  for (const ScrapeConfig& c : scrape_configs)
    if (c.job_name == job) return &c;
  return nullptr;
}

PrometheusConfigResult parse_prometheus_config(std::string_view text, std::string_view dir) {
  PrometheusConfigResult out;
  auto doc = parse_yaml(text);
  if (!doc) {
    out.errors.push_back(doc.error());
    return out;
  }
  const YamlNode* root = doc->root();
  ConfigValue top = ConfigValue::map();
  if (root != nullptr && root->kind != Kind::Null) {
    std::vector<Error> errors;
    SchemaDecoder decoder(*doc, errors);
    top = decoder.object(*root, top_spec());
    if (!errors.empty()) {
      sort_by_position(errors);
      out.errors = std::move(errors);
      return out;
    }
  }
  Loader(*doc, dir, out).run(top);
  sort_by_position(out.errors);
  return out;
}

PrometheusConfigResult load_prometheus_config(const std::string& path) {
  PrometheusConfigResult out;
  auto text = read_file(path);
  if (!text) {
    out.errors.push_back(text.error());
    return out;
  }
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? std::string(".")
                          : slash == 0               ? std::string("/")
                                                     : path.substr(0, slash);
  out = parse_prometheus_config(*text, dir);
  out.config.path = path;
  return out;
}

}  // namespace vigil::config
