#pragma once

#include <cstdint>
#include <string_view>

namespace vigil {

// XXH64 with seed 0, the hash behind Prometheus' and Alertmanager's label
// hashes (Go's cespare/xxhash): where a result must equal upstream's, such
// as a group's evaluation offset or an alert's hash in notification events.
uint64_t xxhash64(std::string_view data);

}  // namespace vigil
