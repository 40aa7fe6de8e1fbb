#pragma once

// Routing trees drawn as amtool draws them (`amtool config routes show` and
// `routes test --tree`): one node per route, its matchers (or
// "default-route"), and for the nodes that decide, the receiver.

#include <string>
#include <vector>

#include "model/labels.h"
#include "routing/route.h"
#include "routing/time_interval.h"

namespace vigil::routing {

// The whole tree: every node with `continue: true` when set and its receiver.
std::string format_route_tree(const Route& root);

// The path an alert with `ls` takes: matching nodes only, receivers on the
// nodes where it ends.
std::string format_matching_tree(const Route& root, const Labels& ls);

// Whether notifications of `route` are held back at `t` by its time
// intervals: the names of the mute intervals that are active, or (when the
// route has active intervals and none is active) those. Empty when not muted.
struct MuteStatus {
  bool muted = false;
  bool inactive = false;  // muted because no active_time_interval holds t
  std::vector<std::string> by;
};
Result<MuteStatus> route_mute_status(const Route& route, const TimeIntervals& intervals, Millis t);

}  // namespace vigil::routing
