#pragma once

// `vigil check config`: amtool's check-config, same output shape and exit
// codes, with each error's file:line:column.

#include <iosfwd>
#include <string>
#include <vector>

#include "routing/config.h"

namespace vigil::routing {

// Checks each file (none: standard input, read from `in`, shown as
// /dev/stdin as amtool does). For each: "Checking 'F'  SUCCESS" and what was
// found (global config, route, inhibit rules, receivers, templates), or
// "  FAILED: " and the errors. Every file the template globs match must be
// readable and parse as Go templates, as amtool checks them. Returns 0 when
// every file is valid, else 1 ("failed to validate N file(s)" on `err`).
int check_config(const std::vector<std::string>& files, const LoadOptions& opts, std::istream& in,
                 std::ostream& out, std::ostream& err);

}  // namespace vigil::routing
