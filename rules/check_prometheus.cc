#include "rules/check_prometheus.h"

#include <glob.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <ostream>

#include <fmt/format.h>

#include "config/prometheus_config.h"
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

// promtool warns about file_sd files that do not exist (yet).
void warn_missing_sd_files(const config::PrometheusConfig& c, std::ostream& out) {
  for (const config::ScrapeConfig& sc : c.scrape_configs)
    for (const config::FileSdConfig& fs : sc.file_sd_configs)
      for (const std::string& f : fs.files)
        if (glob_files(f).empty())
          out << fmt::format("  WARNING: file \"{}\" for file_sd in scrape job \"{}\" does not exist\n", f, sc.job_name);
  for (const config::AlertmanagerTargetConfig& am : c.alertmanagers)
    for (const config::FileSdConfig& fs : am.file_sd_configs)
      for (const std::string& f : fs.files)
        if (glob_files(f).empty())
          out << fmt::format("  WARNING: file \"{}\" for file_sd in alertmanager config does not exist\n", f);
}

}  // namespace

int check_prometheus_configs(const std::vector<std::string>& files, const CheckPrometheusOptions& opts,
                             std::ostream& out, std::ostream& err) {
  bool errors = false, lint = false;
  for (const std::string& f : files) {
    out << "Checking " << f << "\n";
    config::PrometheusConfigResult r = config::load_prometheus_config(f);
    for (const Error& w : r.warnings) out << "  WARNING: " << where(f, w) << "\n";
    std::vector<std::string> rule_files;
    if (r.ok() && !opts.syntax_only) {
      auto found = find_rule_files(f, r.config);
      if (!found) r.errors.push_back(found.error());
      else rule_files = std::move(*found);
      if (r.ok()) warn_missing_sd_files(r.config, out);
    }
    if (!r.ok()) {
      errors = true;
      for (const Error& e : r.errors) {
        // Problems of the file's content read as upstream's "parsing YAML
        // file" errors; a missing rule file is said as promtool says it.
        if (e.line == 0 && e.message.find("does not point to an existing file") != std::string::npos)
          err << "  FAILED: " << e.message << "\n";
        else
          err << "  FAILED: parsing YAML file " << where(f, e) << "\n";
      }
      out << "\n";
      continue;
    }
    if (!rule_files.empty()) out << "  SUCCESS: " << rule_files.size() << " rule files found\n";
    out << " SUCCESS: " << f << " is valid prometheus config file syntax\n\n";
    if (rule_files.empty()) continue;
    out.flush();
    int rc = check_rules(rule_files, opts.rules, std::cin, out, err);
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
      "remote_read",    "storage",             "tracing",    "otlp",     "runtime"};
  static constexpr std::string_view kAlertmanager[] = {
      "route", "receivers", "inhibit_rules", "templates", "time_intervals", "mute_time_intervals", "tracing"};
  static constexpr std::string_view kPrometheusGlobal[] = {
      "scrape_interval", "scrape_timeout", "evaluation_interval", "external_labels", "rule_query_offset",
      "scrape_protocols", "query_log_file"};
  auto has = [](const auto& keys, std::string_view k) { return std::find(std::begin(keys), std::end(keys), k) != std::end(keys); };
  auto kids = doc->children(*doc->root());
  bool alertmanager = false;
  const YamlNode* global = nullptr;
  for (size_t i = 0; i + 1 < kids.size(); i += 2) {
    std::string_view key = doc->value(*kids[i]);
    if (has(kPrometheus, key) && !has(kAlertmanager, key)) return ConfigKind::kPrometheus;
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
