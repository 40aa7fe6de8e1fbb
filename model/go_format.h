#pragma once

#include <string>

namespace vigil {

// Formats a float exactly as Go's strconv.FormatFloat(v, fmt, prec, 64):
// fmt is one of 'e' 'E' 'f' 'g' 'G'; prec -1 means the fewest digits that
// round-trip. Infinities print as "+Inf"/"-Inf", NaN as "NaN".
// Go's %v and {{ $value }} of a float64 are go_format_float(v, 'g', -1).
std::string go_format_float(double v, char fmt, int prec);

}  // namespace vigil
