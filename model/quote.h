#pragma once

// Unquoting string literals: Go's strconv.Unquote, and the PromQL variant
// (Prometheus' util/strutil), which differ only in small ways.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "model/error.h"

namespace vigil {

enum class QuoteDialect {
  kGo,      // "..." strings, `raw` strings (\r dropped), 'c' single-rune literals
  kPromQL,  // "..." and '...' strings of any length, `raw` strings kept as written
};

// The value of a quoted literal. Errors say "invalid syntax", as Go does.
Result<std::string> unquote(std::string_view quoted, QuoteDialect dialect = QuoteDialect::kGo);

// Reads one character or escape of a quoted literal's body at *i (advancing
// it), as Go's strconv.UnquoteChar: nullopt on a bad escape or an unescaped
// `quote`. Sets *is_byte when the value stands for one byte (\x and octal
// escapes in strings) rather than a code point.
std::optional<uint32_t> unquote_char(std::string_view s, size_t* i, char quote, bool* is_byte,
                                     QuoteDialect dialect = QuoteDialect::kGo);

}  // namespace vigil
