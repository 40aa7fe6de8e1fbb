#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace vigil {

inline constexpr std::string_view kMetricNameLabel = "__name__";

// Classic names: [a-zA-Z_:][a-zA-Z0-9_:]* for metrics, [a-zA-Z_][a-zA-Z0-9_]* for labels.
bool is_legacy_metric_name(std::string_view s);
bool is_legacy_label_name(std::string_view s);

// Decodes the UTF-8 sequence at s[i] into *cp; returns its length in bytes,
// or 0 when it is not valid UTF-8 (overlong, surrogate, truncated, > U+10FFFF).
int utf8_decode(std::string_view s, size_t i, uint32_t* cp);

// Appends code point cp (at most U+10FFFF) to out as UTF-8.
void append_utf8(std::string& out, uint32_t cp);

bool is_valid_utf8(std::string_view s);

// Prometheus 3 validates names under the UTF-8 scheme: any non-empty valid
// UTF-8 string is a valid metric or label name.
bool is_valid_metric_name(std::string_view s);
bool is_valid_label_name(std::string_view s);

// Go's strconv.Quote: double-quoted with Go escapes, printable UTF-8 kept,
// invalid bytes as \x.. escapes.
std::string go_quote(std::string_view s);

}  // namespace vigil
