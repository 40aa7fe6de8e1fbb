#include "rules/check_prometheus.h"

#include <glob.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <iostream>
#include <ostream>

#include <fmt/format.h>

#include "config/prometheus_config.h"
#include "config/relabel.h"
#include "model/yaml.h"

namespace vigil::rules {
namespace {

// The directory relative paths in `path` resolve against, "" for the
// working directory (so names print as written, as promtool prints them).
std::string config_dir(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return "";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string resolve(const std::string& dir, const std::string& p) {
  if (dir.empty() || p.empty() || p.front() == '/') return p;
  return dir == "/" ? "/" + p : dir + "/" + p;
}

std::vector<std::string> glob_files(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g{};
  if (::glob(pattern.c_str(), 0, nullptr, &g) == 0)
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  globfree(&g);
  return out;
}

std::string where(const std::string& file, const Error& e) {
  if (e.line == 0) return fmt::format("{}: {}", file, e.message);
  return fmt::format("{}:{}:{}: {}", file, e.line, e.column, e.message);
}

// The rule files a loaded config names, as promtool finds them: an explicit
// name must exist, a glob may match nothing.
Result<std::vector<std::string>> find_rule_files(const std::string& path, const config::PrometheusConfig& c) {
  std::vector<std::string> files;
  const std::string dir = config_dir(path);
  for (const std::string& pattern : c.rule_file_patterns) {
    const std::string full = resolve(dir, pattern);
    std::vector<std::string> found = glob_files(full);
    if (pattern.find('*') == std::string::npos && found.empty())
      return std::unexpected(Error{fmt::format("\"{}\" does not point to an existing file", full)});
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

// A path as promtool shows it: resolved against the config's directory,
// without a leading "./".
std::string shown(const std::string& path) { return path.starts_with("./") ? path.substr(2) : path; }

bool exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

// The files a scrape job's HTTP client reads must exist, as promtool checks:
// the credentials (authorization.credentials_file or bearer_token_file) and
// the TLS client certificate and key, which go in pairs.
std::optional<std::string> missing_client_files(const config::ScrapeConfig& sc, bool syntax_only) {
  const config::ConfigValue& http = sc.http;
  if (!http.is_map()) return std::nullopt;
  if (const config::ConfigValue* tls = http.find("tls_config"); tls != nullptr && tls->is_map()) {
    const std::string cert(tls->str("cert_file")), key(tls->str("key_file"));
    if (!cert.empty() && key.empty())
      return fmt::format("client cert file \"{}\" specified without client key file", shown(cert));
    if (!key.empty() && cert.empty())
      return fmt::format("client key file \"{}\" specified without client cert file", shown(key));
    if (!syntax_only && !cert.empty() && !exists(cert))
      return fmt::format("error checking client cert file \"{}\": stat {}: no such file or directory", shown(cert),
                         shown(cert));
    if (!syntax_only && !key.empty() && !exists(key))
      return fmt::format("error checking client key file \"{}\": stat {}: no such file or directory", shown(key),
                         shown(key));
  }
  if (syntax_only) return std::nullopt;
  std::string credentials(http.str("bearer_token_file"));
  if (const config::ConfigValue* a = http.find("authorization"); a != nullptr && a->is_map() && credentials.empty())
    credentials = std::string(a->str("credentials_file"));
  if (!credentials.empty() && !exists(credentials))
    return fmt::format("error checking authorization credentials or bearer token file \"{}\": stat {}: no such file "
                       "or directory",
                       shown(credentials), shown(credentials));
  return std::nullopt;
}

// An Alertmanager's static targets after its relabeling must be host:port,
// as Prometheus builds them.
std::optional<std::string> bad_alertmanager_target(const config::AlertmanagerTargetConfig& am) {
  for (const config::StaticTargetGroup& tg : am.static_configs) {
    for (const std::string& t : tg.targets) {
      LabelsBuilder b(tg.labels);
      b.set("__address__", t).set("__scheme__", am.scheme).set("__alerts_path__", am.path_prefix);
      std::optional<Labels> ls = config::relabel(b.build(), am.relabel_configs);
      if (!ls) continue;
      const std::string address(ls->get("__address__"));
      if (address.find('/') != std::string::npos) return fmt::format("\"{}\" is not a valid hostname", address);
    }
  }
  return std::nullopt;
}

// promtool warns about file_sd files that do not exist (yet).
void warn_missing_sd_files(const config::PrometheusConfig& c, std::ostream& out) {
  for (const config::ScrapeConfig& sc : c.scrape_configs)
    for (const config::FileSdConfig& fs : sc.file_sd_configs)
      for (const std::string& f : fs.files)
        if (glob_files(f).empty())
          out << fmt::format("  WARNING: file \"{}\" for file_sd in scrape job \"{}\" does not exist\n", shown(f),
                             sc.job_name);
  for (const config::AlertmanagerTargetConfig& am : c.alertmanagers)
    for (const config::FileSdConfig& fs : am.file_sd_configs)
      for (const std::string& f : fs.files)
        if (glob_files(f).empty())
          out << fmt::format("  WARNING: file \"{}\" for file_sd in alertmanager config does not exist\n", shown(f));
}


// What promtool checks beyond loading the file, in its order: the rule
// files, the scrape jobs' client files, the Alertmanager targets. The first
// problem, or nothing.
std::optional<std::string> check_beyond_syntax(const std::string& path, const config::PrometheusConfig& c,
                                               bool syntax_only, std::vector<std::string>& rule_files) {
  if (!syntax_only) {
    auto found = find_rule_files(path, c);
    if (!found) return found.error().message;
    rule_files = std::move(*found);
  }
  for (const config::ScrapeConfig& sc : c.scrape_configs)
    if (auto m = missing_client_files(sc, syntax_only)) return m;
  for (const config::AlertmanagerTargetConfig& am : c.alertmanagers)
    if (auto m = bad_alertmanager_target(am)) return m;
  return std::nullopt;
}

// The comma-separated items of a --lint value.
std::vector<std::string_view> lint_items(std::string_view spec) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    if (comma == std::string_view::npos) comma = spec.size();
    out.push_back(spec.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

// What Prometheus refuses in agent mode, in its order.
std::optional<std::string> agent_mode_problem(const config::PrometheusConfig& c) {
  if (!c.alertmanagers.empty() || !c.alert_relabel_configs.empty()) return "field alerting is not allowed in agent mode";
  if (!c.rule_file_patterns.empty()) return "field rule_files is not allowed in agent mode";
  if (c.remote_read_count > 0) return "field remote_read is not allowed in agent mode";
  return std::nullopt;
}

// promtool's too-long-scrape-interval lint: the first job scraping at least
// the lookback delta apart. Returns whether it found one.
bool lint_scrape_intervals(const config::PrometheusConfig& c, const CheckPrometheusOptions& opts, std::ostream& err) {
  bool enabled = false;
  bool none = false;
  for (std::string_view item : lint_items(opts.rules.lint)) {
    if (item == "all" || item == "too-long-scrape-interval") enabled = true;
    if (item == "none") none = true;
  }
  if (!enabled || none || opts.lookback_delta <= 0) return false;
  for (const config::ScrapeConfig& sc : c.scrape_configs) {
    Millis interval = sc.scrape_interval ? sc.scrape_interval : c.global.scrape_interval;
    if (interval >= opts.lookback_delta) {
      err << "  FAILED: too long scrape interval found, data point will be marked as stale - job: " << sc.job_name
          << ", interval: " << format_duration(interval) << "\n";
      return true;
    }
  }
  return false;
}

}  // namespace

int check_prometheus_configs(const std::vector<std::string>& files, const CheckPrometheusOptions& opts,
                             std::ostream& out, std::ostream& err) {
  bool errors = false, lint = false;
  // The rule files get the lint options that are about rules.
  CheckRulesOptions rules_opts = opts.rules;
  rules_opts.lint.clear();
  for (std::string_view item : lint_items(opts.rules.lint)) {
    if (item == "too-long-scrape-interval") continue;
    rules_opts.lint += (rules_opts.lint.empty() ? "" : ",") + std::string(item);
  }
  for (const std::string& f : files) {
    out << "Checking " << f << "\n";
    config::PrometheusConfigResult r = config::load_prometheus_config(f);
    for (const Error& w : r.warnings) out << "  WARNING: " << where(f, w) << "\n";
    std::vector<std::string> rule_files;
    if (!r.ok()) {
      errors = true;
      // Problems of the file's content read as upstream's "parsing YAML file" errors.
      for (const Error& e : r.errors) err << "  FAILED: parsing YAML file " << where(f, e) << "\n";
      out << "\n";
      continue;
    }
    std::optional<std::string> failure;
    if (opts.agent) failure = agent_mode_problem(r.config);
    if (!failure) failure = check_beyond_syntax(f, r.config, opts.syntax_only, rule_files);
    if (failure) {
      errors = true;
      err << "  FAILED: " << *failure << "\n";
      out << "\n";
      continue;
    }
    if (!opts.syntax_only) warn_missing_sd_files(r.config, out);
    if (!rule_files.empty()) out << "  SUCCESS: " << rule_files.size() << " rule files found\n";
    out << " SUCCESS: " << f << " is valid prometheus config file syntax\n\n";
    if (!opts.syntax_only && lint_scrape_intervals(r.config, opts, err) && opts.rules.lint_fatal) lint = true;
    if (rule_files.empty()) continue;
    out.flush();
    int rc = check_rules(rule_files, rules_opts, std::cin, out, err);
    if (rc == kExitFailure) errors = true;
    if (rc == kExitLint) lint = true;
  }
  if (errors) return kExitFailure;
  return lint ? kExitLint : kExitSuccess;
}

ConfigKind config_kind(std::string_view text) {
  auto doc = parse_yaml(text);
  if (!doc || doc->root() == nullptr || doc->root()->kind != YamlNode::Kind::Mapping) return ConfigKind::kUnknown;
  static constexpr std::string_view kPrometheus[] = {
      "scrape_configs", "scrape_config_files", "rule_files", "alerting", "remote_write",
      "remote_read",    "storage",             "otlp",       "runtime"};
  static constexpr std::string_view kAlertmanager[] = {
      "route", "receivers", "inhibit_rules", "templates", "time_intervals", "mute_time_intervals"};
  static constexpr std::string_view kPrometheusGlobal[] = {
      "scrape_interval", "scrape_timeout", "evaluation_interval", "external_labels", "rule_query_offset",
      "scrape_protocols", "query_log_file"};
  auto has = [](const auto& keys, std::string_view k) { return std::find(std::begin(keys), std::end(keys), k) != std::end(keys); };
  auto kids = doc->children(*doc->root());
  bool alertmanager = false;
  const YamlNode* global = nullptr;
  for (size_t i = 0; i + 1 < kids.size(); i += 2) {
    std::string_view key = doc->value(*kids[i]);
    if (has(kPrometheus, key)) return ConfigKind::kPrometheus;  // (both have tracing: it decides nothing)
    if (has(kAlertmanager, key)) alertmanager = true;
    if (key == "global") global = kids[i + 1];
  }
  if (alertmanager) return ConfigKind::kAlertmanager;
  if (global == nullptr || global->kind != YamlNode::Kind::Mapping) return ConfigKind::kUnknown;
  auto g = doc->children(*global);
  for (size_t i = 0; i + 1 < g.size(); i += 2)
    if (has(kPrometheusGlobal, doc->value(*g[i]))) return ConfigKind::kPrometheus;
  return ConfigKind::kAlertmanager;  // a global section with Alertmanager's settings only
}

}  // namespace vigil::rules
