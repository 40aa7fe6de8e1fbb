#pragma once

// When a rule group is evaluated, as Prometheus 3.x schedules it: at the
// instants t with (t - offset) % interval == 0, where the offset comes from
// the hash of the group's file and name. Groups spread over their interval
// instead of all running at once, and a vigil and a Prometheus loading the
// same file (by the same path) evaluate a group at the same instants.
//
// query_offset plays no part here: it moves the instant a rule's queries
// read (and its outputs are stamped with), not when the group runs.

#include <cstdint>
#include <string_view>

#include "model/duration.h"

namespace vigil::rules {

// Prometheus' Group.hash(): the hash of the label set {file=..., name=...}
// in the label encoding of its default (stringlabels) build, each string
// preceded by its length (one byte below 255, else 0xff and three bytes).
uint64_t group_hash(std::string_view file, std::string_view name);

// The group's offset within its interval in nanoseconds (Prometheus works in
// nanoseconds: hash % interval), and truncated to the milliseconds vigil's
// clock and timestamps use.
int64_t group_offset_nanos(std::string_view file, std::string_view name, Millis interval);
Millis group_offset(std::string_view file, std::string_view name, Millis interval);

// The latest instant of the schedule (offset, interval) not after t.
Millis tick_at_or_before(Millis t, Millis offset, Millis interval);

}  // namespace vigil::rules
