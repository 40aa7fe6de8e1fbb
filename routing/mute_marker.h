#pragma once

// What the notify pipeline last decided about each aggregation group's time
// intervals (upstream's marker, set by its time-mute stages): the names of
// the intervals that held the group's notifications back at its last flush,
// or nothing. The API shows this verdict (an alert group's `mutedBy`)
// instead of working it out again, so the two can never disagree.
// Thread-safe.

#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace vigil::routing {

class MuteMarker {
 public:
  // Records a flush's verdict for the group; empty `by`: not muted.
  void set(const std::string& group_key, std::vector<std::string> by);
  // The intervals that muted the group at its last flush (empty: not muted,
  // or not flushed yet).
  std::vector<std::string> muted_by(std::string_view group_key) const;
  // Forgets groups that no longer exist.
  void retain(const std::unordered_set<std::string>& group_keys);

 private:
  mutable std::mutex mu_;  // guards muted_
  std::map<std::string, std::vector<std::string>, std::less<>> muted_;
};

}  // namespace vigil::routing
