#pragma once

// Silences (upstream silence/): a silence mutes the alerts all its matchers
// match while it is active, from startsAt until endsAt. It is pending before
// startsAt and expired after endsAt, and forgotten `retention` after endsAt.
// Creating, updating and expiring follow upstream's Silences.Set/Expire:
// an update that changes what or when a silence mutes expires it and creates
// a new one. Matching uses an index on equality matchers, so thousands of
// silences cost little per alert. Thread-safe.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/clock.h"
#include "model/error.h"
#include "model/labels.h"
#include "model/matcher.h"
#include "routing/matchers.h"

namespace vigil::routing {

enum class SilenceState { kExpired, kActive, kPending };
std::string_view silence_state_string(SilenceState s);  // "expired", "active", "pending"

struct Silence {
  std::string id;  // empty when creating
  std::vector<Matcher> matchers;  // Alertmanager matchers (make_matcher)
  Millis starts_at = 0;  // 0 when creating: now
  Millis ends_at = 0;
  Millis updated_at = 0;
  std::string created_by;
  std::string comment;

  SilenceState state_at(Millis t) const;
  bool matches(const Labels& ls) const;
};

// Upstream's --silences.max-silences and --silences.max-silence-size-bytes;
// 0 is no limit.
struct SilenceLimits {
  size_t max_silences = 0;  // held, expired ones included
  size_t max_silence_size_bytes = 0;
};

// The size upstream measures a silence by: its MeshSilence protobuf message
// (the silence and its expiry, `retention` after its end) as encoded.
size_t silence_wire_size(const Silence& s, Millis retention);

class Silences {
 public:
  explicit Silences(const Clock& clock, Millis retention = 120 * kHour,
                    MatcherSyntax syntax = MatcherSyntax::kFallback);

  // Creates a silence (empty id) or updates one; returns its id, which is a
  // new one when the change could not be made in place. Errors: "invalid
  // silence: ...", "silence not found", and the limits' (a new silence past
  // the count, any silence past the size).
  Result<std::string> set(Silence s);
  void set_limits(SilenceLimits limits);
  // Ends a silence now (a pending one never starts). Expiring an expired
  // silence is fine; an unknown id is "silence not found".
  Result<void> expire(std::string_view id);

  std::optional<Silence> get(std::string_view id) const;
  // Every silence not yet forgotten, ordered by id.
  std::vector<Silence> list() const;
  size_t count(SilenceState state) const;
  // Grows whenever a silence is added.
  uint64_t version() const;

  // The ids of the active silences that mute an alert with these labels.
  std::vector<std::string> mutes(const Labels& ls) const;

  // Forgets silences ended more than `retention` ago; returns how many.
  size_t gc();

  // The state as JSON, and back (replacing the current state). Snapshots
  // keep everything needed to restore after a restart.
  std::string snapshot() const;
  Result<void> restore(std::string_view json);
  // Atomic write to / read from a file; a missing file restores nothing.
  Result<void> save(const std::string& path) const;
  Result<void> load(const std::string& path);

 private:
  struct Entry {
    Silence silence;
    Millis expires_at = 0;  // ends_at + retention
  };
  Result<void> validate(const Silence& s) const;
  void store(Silence s);  // replaces, reindexes
  Result<void> expire_locked(const std::string& id, Millis now);
  void index(const Silence& s);
  void unindex(const Silence& s);

  Result<void> check_size(const Silence& s) const;

  const Clock& clock_;
  Millis retention_;
  MatcherSyntax syntax_;
  SilenceLimits limits_;
  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> silences_;
  // Silences are indexed by all their equality matchers together: for each
  // set of names used that way (a "shape"), a hash of the values -> ids. An
  // alert is looked up once per shape. Silences without equality matchers
  // are always candidates.
  struct Shape {
    std::vector<std::string> names;  // sorted
    std::unordered_map<uint64_t, std::vector<std::string>> ids;
    size_t count = 0;
  };
  std::vector<Shape> shapes_;
  std::vector<std::string> unindexed_;
  uint64_t version_ = 0;
};

}  // namespace vigil::routing
