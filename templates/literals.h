#pragma once

#include <string>
#include <string_view>

#include "model/error.h"
#include "templates/ast.h"

namespace vigil::templates {

// Fills a number constant from its source text as Go's parse.newNumber does:
// decimal, hex, octal and binary integers with '_' separators, floats
// (including hex floats), character constants ('a', '\n') and imaginary or
// complex constants. Errors carry Go's wording ("integer overflow: \"...\"",
// "illegal number syntax: \"...\"", "malformed character constant: ...").
Result<void> parse_number(NumberNode& n, bool char_constant, bool complex_constant);

// strconv.ParseFloat(s, 64), with Go's error text
// (strconv.ParseFloat: parsing "x": invalid syntax).
Result<double> go_parse_float(std::string_view s);

}  // namespace vigil::templates
