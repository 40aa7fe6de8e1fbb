#pragma once

#include <span>
#include <string>
#include <string_view>

#include "templates/value.h"

namespace vigil::templates {

// Go's fmt package over template values, byte for byte: the verbs
// %v %+v %#v %T %t %d %b %o %O %x %X %c %q %U %e %E %f %F %g %G %s %%, the
// flags + - # 0 space, widths and precisions (also * and [n] argument
// indexes), and Go's error notations (%!d(string=x), %!s(MISSING),
// %!(EXTRA int=2), %!(NOVERB), %!(BADWIDTH), ...). Values whose type has a
// String() method print through it for %v %s %q %x %X, as fmt.Stringer.
// Widths and precisions above 10^6 are rejected as Go rejects them, which
// keeps a single verb's output bounded.
std::string go_sprintf(std::string_view format, std::span<const Value> args);

// fmt.Sprint: operands in %v, a space between two operands when neither is a
// string.
std::string go_sprint(std::span<const Value> args);

// fmt.Sprintln: operands in %v separated by spaces, then a newline.
std::string go_sprintln(std::span<const Value> args);

// One value in %v: what {{ . }} prints (except that an invalid value prints
// "<nil>" here and "<no value>" in a template action).
std::string go_sprint_value(const Value& v);

// Go's strconv.QuoteRune for %q of an integer.
std::string go_quote_rune(int64_t r);

}  // namespace vigil::templates
