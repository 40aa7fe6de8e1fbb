#pragma once

// Clear errors for command words vigil does not know: the word, the command
// it was given to, and the nearest vigil command (or the vigil spelling of a
// promtool or amtool command, such as amtool's check-config).

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace vigil::cli {

// The error for argv when one of its command words names no command where a
// command is required, e.g. `unknown command "check-config"; did you mean
// "check config"?`; nullopt when the words are fine (CLI11 reports anything
// else).
std::optional<std::string> unknown_command_error(const CLI::App& app, int argc, const char* const* argv);

// promtool's global flags written before the command (`promtool
// --enable-feature=X test rules F`), moved after the command words where
// vigil's commands take them; --experimental, which changes nothing in
// vigil, is dropped where the command does not take it. Other arguments are
// returned unchanged.
std::vector<std::string> move_leading_promtool_flags(const CLI::App& app, int argc, const char* const* argv);

}  // namespace vigil::cli
