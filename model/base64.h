#pragma once

// Standard base64 (RFC 4648, with padding), decoded as Go's
// base64.StdEncoding reads it: nullopt for anything else. Shared by the
// YAML reader (!!binary) and net/ (credentials, etcd's JSON gateway).

#include <optional>
#include <string>
#include <string_view>

namespace vigil {

std::optional<std::string> base64_decode(std::string_view in);

}  // namespace vigil
