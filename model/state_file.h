#pragma once

// What a daemon reports about its state files when it starts: the parts it
// could not read. Damaged state never stops a start; it is described here
// (which file, which bytes, what became of the file), logged and counted.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/duration.h"
#include "model/error.h"

namespace vigil {

struct StateDamage {
  std::string file;             // path of the damaged file
  uint64_t begin = 0, end = 0;  // the bytes that were lost: [begin, end)
  std::string what;             // one sentence: what was lost and why
  std::string moved_to;         // where the file was set aside, if it was

  uint64_t bytes() const { return end - begin; }
};

// Renames `path` to `path.damaged-<UTC time of now>` (with a counter when
// that name is taken) so that the next start neither reads it nor
// overwrites it, and it stays there for a post-mortem. With `keep`, the file
// also stays where it is (the aside name is a second hard link to it): for a
// file still needed until its replacement is safely written. Returns the
// aside path, or why it could not be made.
Result<std::string> set_aside(const std::string& path, Millis now, bool keep = false);

// Restores state from a file written whole (JSON): hands its content to
// `restore`. When the file cannot be read or `restore` refuses it, the file
// is set aside and the damage returned; `consequence` ends its description
// ("the notification log starts empty"). A missing file is no damage.
std::optional<StateDamage> restore_state_file(const std::string& path, Millis now,
                                              const std::function<Result<void>(std::string_view)>& restore,
                                              std::string_view consequence);

// vigil_state_damaged_total and vigil_state_damaged_bytes_total, by file
// name (the data directory is the same for all).
class MetricsWriter;
void write_damage_metrics(MetricsWriter& w, const std::vector<StateDamage>& damage);

}  // namespace vigil
