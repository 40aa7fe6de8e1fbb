#pragma once

// Silences (upstream silence/): a silence mutes the alerts all its matchers
// match while it is active, from startsAt until endsAt. It is pending before
// startsAt and expired after endsAt, and forgotten `retention` after endsAt.
// Creating, updating and expiring follow upstream's Silences.Set/Expire:
// an update that changes what or when a silence mutes expires it and creates
// a new one. Matching uses an index on equality matchers, so thousands of
// silences cost little per alert. Thread-safe.
//
// Once open() has loaded them from a data directory, every change is a
// record in a log there (model/record_log.h: silences.snapshot,
// silences.log) and is on disk when set() or expire() returns; concurrent
// changes share their syncs. Silences forgotten after their retention are
// left out when the log is folded.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <expected>
#include <memory>

#include "model/clock.h"
#include "model/error.h"
#include "model/labels.h"
#include "model/matcher.h"
#include "model/record_log.h"
#include "model/state_file.h"
#include "routing/matchers.h"

namespace vigil::routing {

class EventSink;

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
  // Free-form name/value pairs (Alertmanager 0.32+): kept, shown and counted
  // in the size limit, never matched against.
  std::map<std::string, std::string, std::less<>> annotations;

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

// A silence as a record payload, appended to `out`; and back (nullopt when
// the payload is not a whole silence). A silence without annotations is
// written as vigil wrote silences before they had any, so that an earlier
// vigil can still read it.
void encode_silence(std::string& out, const Silence& s);
std::optional<Silence> decode_silence(std::string_view payload);

// Why a change was refused, or did not reach the disk.
struct SilenceError {
  enum class Kind {
    kInvalid,   // the silence, or a limit ("invalid silence: ...", "exceeded ...")
    kNotFound,  // "silence not found"
    kStorage,   // made in memory, but writing or syncing its record failed
  };
  Kind kind = Kind::kInvalid;
  std::string message;
};
template <typename T>
using SilenceResult = std::expected<T, SilenceError>;

class Silences {
 public:
  explicit Silences(const Clock& clock, Millis retention = 120 * kHour,
                    MatcherSyntax syntax = MatcherSyntax::kFallback);
  ~Silences();

  struct Opened {
    std::vector<StateDamage> damage;  // what could not be read (see RecordLog::load)
    std::vector<Error> errors;        // rewriting the files failed: changes fail until it works
  };
  // Loads the silences kept in `dir`, replacing those held, and keeps every
  // later change there. A silences.json of earlier versions is read and
  // replaced by the record files. Never fails: damaged files are reported
  // and set aside, and the silences that could be read are loaded.
  Opened open(const std::string& dir);

  // Creates a silence (empty id) or updates one; returns its id, which is a
  // new one when the change could not be made in place. Errors: "invalid
  // silence: ...", "silence not found", the limits' (a new silence past
  // the count, any silence past the size), and a storage error, after which
  // the change holds in memory but may not survive a restart.
  SilenceResult<std::string> set(Silence s);
  void set_limits(SilenceLimits limits);
  // Where silence_created and silence_updated events go (null: nowhere).
  // Set before the silences are used.
  void set_event_sink(EventSink* sink) { events_ = sink; }
  // Ends a silence now (a pending one never starts). Expiring an expired
  // silence is fine; an unknown id is "silence not found".
  SilenceResult<void> expire(std::string_view id);

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

  // Replicas sharing silences (server/cluster.h). The observer is told of
  // every silence set() or expire() stores, while the change is made (it
  // must only take note: no call back into Silences). merge() takes a
  // silence as another replica holds it when this one does not know it or
  // knows an older change of it (by updated_at; newest change wins), keeps
  // it on disk as any change, and does not tell the observer. True when
  // taken.
  void set_observer(std::function<void(const Silence&)> observer);
  SilenceResult<bool> merge(Silence s);

  // Whether the log has grown enough to be folded into the snapshot (or
  // must be rewritten after a failure); and folding it. No-ops before open().
  bool wants_fold() const;
  Result<void> fold();
  uint64_t syncs() const;  // of the log: fewer than changes when they share them

 private:
  struct Entry {
    Silence silence;
    Millis expires_at = 0;  // ends_at + retention
  };
  using Map = std::map<std::string, Entry, std::less<>>;
  Result<void> validate(const Silence& s) const;
  // Replaces, reindexes, and adds the silence's record to `changes`; tells
  // the observer unless `merged`.
  void store(Silence s, RecordBatch* changes, bool merged = false);
  Result<void> expire_locked(const std::string& id, Millis now, RecordBatch* changes);
  void index(const Silence& s);
  void unindex(const Silence& s);
  // Writes `changes` (mu_ held, released here) and waits until they, and
  // any change before them, are on disk.
  SilenceResult<void> commit(std::unique_lock<std::mutex>& lock, const RecordBatch& changes);
  void replace_all(Map loaded);

  Result<void> check_size(const Silence& s) const;

  const Clock& clock_;
  Millis retention_;
  MatcherSyntax syntax_;
  std::unique_ptr<RecordLog> log_;  // set by open(), before any change
  SilenceLimits limits_;
  mutable std::mutex mu_;
  std::function<void(const Silence&)> observer_;
  uint64_t written_ = 0;  // the log position after the last change
  Map silences_;
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
  EventSink* events_ = nullptr;
};

}  // namespace vigil::routing
