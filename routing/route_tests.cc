#include "routing/route_tests.h"

#include <algorithm>
#include <ostream>

#include <fmt/format.h>

#include "config/schema.h"
#include "model/file.h"
#include "model/timestamp.h"
#include "model/yaml.h"
#include "routing/inhibit.h"
#include "routing/route.h"
#include "routing/route_print.h"

namespace vigil::routing {

using config::ConfigValue;
using config::FieldType;
using config::ObjectSpec;
using config::SchemaDecoder;

namespace {

using T = FieldType;

const ObjectSpec& test_spec() {
  static const ObjectSpec s{"routetest.Test",
                            {{"name"}, {"labels", T::kStringMap}, {"receivers", T::kStringList},
                             {"at"}, {"firing", T::kAny}, {"inhibited", T::kBool},
                             {"inhibited_by", T::kAny}}};
  return s;
}

const ObjectSpec& file_spec() {
  static const ObjectSpec s{"routetest.File",
                            {{"config_file"}, {"tests", T::kObjectList, nullptr, &test_spec()}}};
  return s;
}

std::string list(const std::vector<std::string>& v) {
  return "[" + fmt::format("{}", fmt::join(v, ", ")) + "]";
}

Labels labels_of(const ConfigValue& map) {
  std::vector<Label> ls;
  for (const auto& [k, v] : map.entries()) {
    std::string value = v.kind() == ConfigValue::Kind::String ? v.as_string()
                        : v.kind() == ConfigValue::Kind::Int   ? std::to_string(v.as_int())
                        : v.kind() == ConfigValue::Kind::Bool  ? (v.as_bool() ? "true" : "false")
                                                               : "";
    ls.push_back({k, std::move(value)});
  }
  return Labels(ls);
}

// A list of label sets written as YAML mappings.
Result<std::vector<Labels>> label_sets(const ConfigValue* v, std::string_view key) {
  std::vector<Labels> out;
  if (v == nullptr || v->is_null()) return out;
  if (!v->is_list()) return fail(fmt::format("{}: expected a list of label sets", key), v->line, v->column);
  for (const ConfigValue& item : v->items()) {
    if (!item.is_map()) return fail(fmt::format("{}: expected a label set", key), item.line, item.column);
    out.push_back(labels_of(item));
  }
  return out;
}

std::string label_sets_string(const std::vector<Labels>& v) {
  std::vector<std::string> parts;
  for (const Labels& l : v) parts.push_back(l.to_string());
  std::sort(parts.begin(), parts.end());
  return list(parts);
}

struct Suite {
  Config config;
  std::unique_ptr<Route> root;
  TimeIntervals intervals;
  std::vector<InhibitRule> rules;
};

// The failures of one test, each a line.
std::vector<std::string> run_test(const Suite& s, const ConfigValue& t) {
  std::vector<std::string> failures;
  const Labels alert = t.find("labels") ? labels_of(*t.find("labels")) : Labels();
  std::optional<Millis> at;
  if (t.has("at")) {
    auto parsed = parse_rfc3339(t.str("at"));
    if (!parsed) return {fmt::format("at: {}", parsed.error().message)};
    at = *parsed;
  }
  if (const ConfigValue* want = t.find("receivers"); want && !want->is_null()) {
    std::vector<std::string> expected, got;
    for (const ConfigValue& r : want->items()) expected.push_back(r.as_string());
    for (const Route* r : s.root->match(alert)) {
      if (at) {
        auto mute = route_mute_status(*r, s.intervals, *at);
        if (!mute) return {mute.error().message};
        if (mute->muted) continue;
      }
      got.push_back(r->options().receiver);
    }
    if (got != expected)
      failures.push_back(fmt::format("receivers: expected {}, got {}", list(expected), list(got)));
  }
  auto firing = label_sets(t.find("firing"), "firing");
  auto by = label_sets(t.find("inhibited_by"), "inhibited_by");
  if (!firing) return {firing.error().message};
  if (!by) return {by.error().message};
  std::vector<Labels> inhibitors;
  for (const Labels& src : *firing)
    for (const InhibitRule& r : s.rules)
      if (r.inhibits(src, alert)) {
        inhibitors.push_back(src);
        break;
      }
  if (const ConfigValue* want = t.find("inhibited"); want && !want->is_null())
    if (want->as_bool() != !inhibitors.empty())
      failures.push_back(fmt::format("inhibited: expected {}, got {} (inhibited by {})", want->as_bool(),
                                     !inhibitors.empty(), label_sets_string(inhibitors)));
  if (t.find("inhibited_by") && !t.find("inhibited_by")->is_null() &&
      label_sets_string(*by) != label_sets_string(inhibitors))
    failures.push_back(fmt::format("inhibited_by: expected {}, got {}", label_sets_string(*by),
                                   label_sets_string(inhibitors)));
  return failures;
}

// Runs one file: an error message when it cannot be run, else the failures.
Result<std::vector<std::string>> run_file(const std::string& path, const RouteTestOptions& opts) {
  auto text = read_file(path);
  if (!text) return std::unexpected(text.error());
  auto doc = parse_yaml(*text);
  if (!doc) return std::unexpected(doc.error());
  if (doc->root() == nullptr) return fail("no tests");
  std::vector<Error> errors;
  SchemaDecoder decoder(*doc, errors);
  ConfigValue file = decoder.object(*doc->root(), file_spec());
  if (!errors.empty()) return std::unexpected(errors.front());
  std::string config_path = opts.config_file;
  if (config_path.empty()) {
    config_path = std::string(file.str("config_file"));
    if (config_path.empty()) return fail("no configuration: set config_file or --config.file");
    if (config_path.front() != '/' && path.find('/') != std::string::npos)
      config_path = path.substr(0, path.rfind('/') + 1) + config_path;
  }
  LoadResult loaded = load_config(config_path, opts.load);
  if (!loaded.ok()) return fail(format_error(config_path, loaded.errors.front()));
  Suite s;
  s.config = std::move(loaded.config);
  s.root = Route::build(s.config.route);
  s.intervals = s.config.time_interval_set();
  for (const InhibitRuleConfig& r : s.config.inhibit_rules) s.rules.emplace_back(r);
  std::vector<std::string> failures;
  const ConfigValue* tests = file.find("tests");
  if (tests == nullptr || !tests->is_list()) return failures;
  int n = 0;
  for (const ConfigValue& t : tests->items()) {
    ++n;
    if (!t.is_map()) continue;
    std::vector<std::string> fs = run_test(s, t);
    if (fs.empty()) continue;
    std::string name = t.has("name") ? std::string(t.str("name")) : fmt::format("test {}", n);
    std::string entry = fmt::format("    {} (line {}):", name, t.line);
    for (const std::string& f : fs) entry += "\n      " + f;
    failures.push_back(std::move(entry));
  }
  return failures;
}

}  // namespace

int run_route_tests(const std::vector<std::string>& files, const RouteTestOptions& opts,
                    std::ostream& out, std::ostream& err) {
  bool failed = false;
  for (const std::string& f : files) {
    out << "Unit Testing:  " << f << "\n";
    auto r = run_file(f, opts);
    if (!r) {
      err << "  FAILED:\n" << format_error(f, r.error()) << "\n\n";
      failed = true;
      continue;
    }
    if (r->empty()) {
      out << "  SUCCESS\n\n";
      continue;
    }
    failed = true;
    err << "  FAILED:\n";
    for (const std::string& entry : *r) err << entry << "\n\n";
  }
  return failed ? 1 : 0;
}

}  // namespace vigil::routing
