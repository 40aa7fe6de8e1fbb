#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/routing_flags.h"
#include "model/timestamp.h"
#include "routing/config.h"
#include "routing/route.h"
#include "routing/route_print.h"
#include "routing/route_tests.h"

namespace vigil::cli {

namespace {

struct RoutesArgs {
  std::string config_file;
  std::string features;
  bool tree = false;
  std::string verify;
  std::string time;
  std::vector<std::string> files;
  std::vector<std::string> labels;
};

int fatal(const std::string& msg) {
  std::cerr << "vigil: error: " << msg << "\n";
  return 1;
}

// Loads the configuration, or explains why not; nullopt after an error.
std::optional<routing::Config> load(const RoutesArgs& a, const routing::LoadOptions& opts) {
  if (a.config_file.empty()) {
    fatal("--config.file is required");
    return std::nullopt;
  }
  routing::LoadResult r = routing::load_config(a.config_file, opts);
  if (!r.ok()) {
    fatal(format_error(a.config_file, r.errors.front()));
    return std::nullopt;
  }
  return std::move(r.config);
}

int show(const RoutesArgs& a) {
  routing::LoadOptions opts;
  if (!apply_features(a.features, opts, std::cerr)) return 1;
  auto cfg = load(a, opts);
  if (!cfg) return 1;
  auto root = routing::Route::build(cfg->route);
  std::cout << "Routing tree:\n" << routing::format_route_tree(*root) << "\n";
  return 0;
}

int test(const RoutesArgs& a) {
  routing::LoadOptions opts;
  if (!apply_features(a.features, opts, std::cerr)) return 1;
  if (!a.files.empty()) {
    if (!a.labels.empty()) return fatal("labels and --file cannot be used together");
    return routing::run_route_tests(a.files, {a.config_file, opts}, std::cout, std::cerr);
  }
  auto cfg = load(a, opts);
  if (!cfg) return 1;
  std::vector<Label> ls;
  for (const std::string& l : a.labels) {
    auto m = routing::parse_matcher(l, opts.matcher_syntax);
    if (!m) return fatal("Failed to parse labels: " + m.error().message);
    if (m->type() != MatchType::kEqual) return fatal("Labels must be specified as key=value pairs");
    ls.push_back({m->name(), m->value()});
  }
  const Labels alert(std::move(ls));
  std::optional<Millis> at;
  if (!a.time.empty()) {
    auto t = parse_rfc3339(a.time);
    if (!t) return fatal("--time: " + t.error().message);
    at = *t;
  }
  auto root = routing::Route::build(cfg->route);
  if (a.tree) std::cout << "Matching routes:\n" << routing::format_matching_tree(*root, alert) << "\n\n";
  std::vector<std::string> receivers, muted;
  const routing::TimeIntervals intervals = cfg->time_interval_set();
  for (const routing::Route* r : root->match(alert)) {
    if (at) {
      auto status = routing::route_mute_status(*r, intervals, *at);
      if (!status) return fatal(status.error().message);
      if (status->muted) {
        muted.push_back(fmt::format("{} ({}: {})", r->options().receiver,
                                    status->inactive ? "outside active_time_intervals" : "muted by",
                                    fmt::join(status->by, ", ")));
        continue;
      }
    }
    receivers.push_back(r->options().receiver);
  }
  const std::string slug = fmt::format("{}", fmt::join(receivers, ","));
  std::cout << slug << "\n";
  for (const std::string& m : muted) std::cout << "muted at " << a.time << ": " << m << "\n";
  if (!a.verify.empty() && a.verify != slug) {
    std::cout << "WARNING: Expected receivers did not match resolved receivers.\n";
    return 1;
  }
  return 0;
}

void add_config_flag(CLI::App& cmd, RoutesArgs& a) {
  cmd.add_option("--config.file", a.config_file, "The Alertmanager configuration file");
  add_feature_flag(cmd, a.features);
}

}  // namespace

void register_routes(CLI::App& app, int* exit_code) {
  auto* routes = app.add_subcommand(
      "routes",
      "Print an Alertmanager routing tree or test which receivers alerts reach, as amtool\n"
      "config routes does (show is the default).");
  routes->require_subcommand(0, 1);
  auto args = std::make_shared<RoutesArgs>();
  add_config_flag(*routes, *args);

  auto* show_cmd = routes->add_subcommand("show", "Print the routing tree.");
  add_config_flag(*show_cmd, *args);
  show_cmd->callback([args, exit_code] { *exit_code = show(*args); });

  auto* test_cmd = routes->add_subcommand(
      "test",
      "Print the receivers an alert with the given labels reaches, in routing order.\n"
      "With --file, run routing unit tests instead: YAML naming a config_file and a list\n"
      "of tests, each with the alert's labels, the receivers it must reach, and\n"
      "optionally `at` (a time for time intervals), `firing` (other alerts) and\n"
      "`inhibited` or `inhibited_by`; see examples/bot-core/alertmanager/routes_test.yml.\n"
      "Output and exit codes as promtool test rules.");
  add_config_flag(*test_cmd, *args);
  test_cmd->add_flag("--tree", args->tree, "Print the matching routes as a tree");
  test_cmd->add_option("--verify.receivers", args->verify,
                       "Fail (exit 1) unless the alert reaches exactly these receivers (comma-separated, "
                       "in order)");
  test_cmd->add_option("--time", args->time,
                       "Apply the routes' mute and active time intervals at this RFC 3339 time: routes "
                       "muted then are left out of the receivers and listed after them");
  test_cmd->add_option("--file", args->files, "Routing test files to run")->allow_extra_args(false);
  test_cmd->add_option("labels", args->labels, "The alert's labels, as name=value");
  test_cmd->callback([args, exit_code] { *exit_code = test(*args); });

  routes->callback([routes, args, exit_code] {
    if (routes->get_subcommands().empty()) *exit_code = show(*args);
  });
}

}  // namespace vigil::cli
