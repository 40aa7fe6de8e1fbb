#pragma once

// Flags shared by the commands that read an Alertmanager configuration.

#include <iosfwd>
#include <string>

#include <CLI/CLI.hpp>

#include "routing/config.h"

namespace vigil::cli {

// amtool's --enable-feature (comma-separated).
void add_feature_flag(CLI::App& cmd, std::string& features);

// Applies classic-mode / utf8-strict-mode; other names amtool knows are
// accepted with a warning on `err`. False (after an error on `err`) for
// names nobody knows.
bool apply_features(const std::string& features, routing::LoadOptions& opts, std::ostream& err);

}  // namespace vigil::cli
