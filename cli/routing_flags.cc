#include "cli/routing_flags.h"

#include <ostream>
#include <sstream>

namespace vigil::cli {

void add_feature_flag(CLI::App& cmd, std::string& features) {
  cmd.add_option("--enable-feature", features,
                 "Features to turn on, comma-separated: classic-mode (classic matcher syntax and "
                 "label names) or utf8-strict-mode (UTF-8 matchers only); by default matchers are "
                 "read as Alertmanager does, UTF-8 first with the classic syntax as fallback")
      ->allow_extra_args(false);
}

bool apply_features(const std::string& features, routing::LoadOptions& opts, std::ostream& err) {
  std::stringstream in(features);
  for (std::string f; std::getline(in, f, ',');) {
    if (f.empty()) continue;
    if (f == "classic-mode") {
      opts.matcher_syntax = routing::MatcherSyntax::kClassic;
    } else if (f == "utf8-strict-mode") {
      opts.matcher_syntax = routing::MatcherSyntax::kUtf8;
    } else if (f == "alert-names-in-metrics" || f == "receiver-name-in-metrics" ||
               f == "group-key-in-metrics" || f == "auto-gomemlimit" || f == "event-recorder") {
      err << "vigil: warning: feature " << f << " has no effect here\n";
    } else {
      err << "vigil: error: error parsing the feature flag list: Unknown option '" << f << "'\n";
      return false;
    }
  }
  return true;
}

}  // namespace vigil::cli
