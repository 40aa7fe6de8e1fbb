#pragma once

// The fast path of POST /api/v2/alerts: reads a body of postable alerts in
// one pass over the text, without a JSON document in between.
//
// It only answers when it is certain: the body is well-formed JSON (UTF-8,
// no nesting past 64 levels), an array of objects each with a `labels`
// object of strings, optional `annotations` of strings, and startsAt /
// endsAt / generatorURL as strings or null; other members are skipped.
// Anything else gives nullopt, and the caller reads the body again with
// the general parser, which words the error exactly as the API answers it.

#include <optional>
#include <string_view>
#include <vector>

#include "routing/alert.h"

namespace vigil::server {

std::optional<std::vector<routing::Alert>> read_postable_alerts(std::string_view body);

// How deep arrays and objects nest in a JSON text, counted without parsing
// it (strings skipped). Bodies nested deeper than kMaxJsonDepth are refused
// before the general parser sees them.
inline constexpr int kMaxJsonDepth = 64;
int json_nesting_depth(std::string_view text);

}  // namespace vigil::server
