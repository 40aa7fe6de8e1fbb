#pragma once

// State that changes a record at a time (alerts, silences) kept on disk as
// an append-only log of checksummed records, folded now and then into a
// snapshot of the whole state, so that a change costs one small write and
// nothing is ever rewritten in place.
//
// Files in the directory, for a log named N:
//   N.snapshot  the state at the last fold (written atomically)
//   N.log.1     the log being folded (only during a fold, or after one that
//               failed or was cut short)
//   N.log       records written since
// Each file starts with an 8-byte magic naming what it holds. A record is
//   marker (4 bytes) | payload length (u32) | checksum of the payload (u32) | payload
// in host byte order (little-endian on every platform vigil builds for).
// The marker lets a reader find the next intact record after damaged bytes:
// damage costs the records it hit and nothing after them.
//
// Durability: write() puts records in the file (in the order of the calls);
// sync() returns once they are on disk. Callers that sync at the same time
// share one fdatasync (group commit): a caller that finds no sync running
// becomes the leader and syncs for everything written so far; the others
// wait for it, and the next leader covers what was written meanwhile.
//
// Thread-safe. One process owns the directory.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/duration.h"
#include "model/error.h"
#include "model/state_file.h"

#include "model/labels.h"

namespace vigil {

// Records framed one after the other in one buffer, ready for
// RecordLog::write(): begin(), append the payload to the string it returns,
// end().
class RecordBatch {
 public:
  std::string& begin();
  void end();
  void clear();
  bool empty() const { return buf_.empty(); }
  size_t count() const { return count_; }
  std::string_view bytes() const { return buf_; }

 private:
  std::string buf_;
  size_t open_ = std::string::npos;  // where the record being built starts
  size_t count_ = 0;
};

// Payload encoding helpers: fixed-size values copied as they are in memory,
// strings as a u32 length and their bytes.
class PayloadWriter {
 public:
  explicit PayloadWriter(std::string& out) : out_(out) {}
  template <typename T>
  void put(const T& v) {
    out_.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void put_string(std::string_view s) {
    put(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }

 private:
  std::string& out_;
};

// Reads a payload front to back; a read past the end fails and so do all
// reads after it.
class PayloadReader {
 public:
  explicit PayloadReader(std::string_view in) : in_(in) {}
  template <typename T>
  bool get(T& v) {
    if (in_.size() < sizeof(T)) return false;
    std::memcpy(&v, in_.data(), sizeof(T));
    in_.remove_prefix(sizeof(T));
    return true;
  }
  bool get_string(std::string& s) {
    uint32_t n = 0;
    if (!get(n) || in_.size() < n) return false;
    s.assign(in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

// A label set in a payload: its size, then each name and value. get_labels
// fails on a truncated payload and never trusts the size for an allocation.
void put_labels(PayloadWriter& w, const Labels& ls);
bool get_labels(PayloadReader& r, Labels& out);

class RecordLog {
 public:
  struct Options {
    std::string dir;
    std::string name;   // N in the file names
    std::string magic;  // 8 bytes
    // Files that start with this magic were written before records carried
    // markers (length, checksum, payload): they are read, up to their first
    // damaged record, and never appended to. Empty: none.
    std::string legacy_magic;
    // A log smaller than this is never worth folding.
    size_t min_fold_bytes = size_t{4} << 20;
  };
  explicit RecordLog(Options opts);
  ~RecordLog();
  RecordLog(const RecordLog&) = delete;
  RecordLog& operator=(const RecordLog&) = delete;

  // Takes a record's payload; false when it cannot be used (the record is
  // then reported as damaged).
  using ApplyFn = std::function<bool(std::string_view payload)>;
  struct Loaded {
    size_t records = 0;               // applied
    std::vector<StateDamage> damage;  // what could not be read
    // Call fold() before the first write: a file was damaged, set aside, in
    // the legacy format, or a fold was cut short.
    bool needs_fold = false;
  };
  // Reads the snapshot and the logs, in that order, handing each intact
  // record to `apply`. Never fails: a file that cannot be read is reported;
  // damaged bytes are reported (file, offset, length) and skipped, reading
  // on from the next intact record; a file that is not one of ours is
  // reported and skipped. A damaged file gets a copy set aside
  // (model/state_file.h) and stays in place until the fold replaces it,
  // except a log whose last record was merely cut short by a crash.
  Loaded load(const ApplyFn& apply, Millis now);

  // Appends framed records (one write(2), opening the log first if needed)
  // and returns the position sync() must reach for them to be durable. A
  // failed write or sync leaves the log refusing writes until the next fold,
  // which rewrites the state from memory.
  Result<uint64_t> write(std::string_view records);
  // Returns once everything written up to `position` is on disk.
  Result<void> sync(uint64_t position);
  // write() then sync().
  Result<void> append(std::string_view records);

  // Whether the log has outgrown the snapshot, or must be rewritten after a
  // failure.
  bool wants_fold() const;
  // Produces the state's records into the batch, some at a time; false when
  // there are no more.
  using Producer = std::function<bool(RecordBatch&)>;
  // Called once the fold has started a fresh log: returns a producer of the
  // owner's whole state. Every change whose record was written before the
  // call must be in that state (true when owners change their state first
  // and write its record second).
  using Capture = std::function<Producer()>;
  // Replaces the snapshot with the captured state and drops the logs it
  // covers. Writes may go on meanwhile (into the fresh log). After a cut-short
  // fold it first finishes that one (snapshot, then the old log dropped),
  // then folds again.
  Result<void> fold(const Capture& capture);

  size_t log_bytes() const;
  size_t snapshot_bytes() const;
  uint64_t syncs() const;  // fdatasync calls that covered records

 private:
  struct File;
  std::string path(std::string_view suffix) const;
  Result<void> open_locked();
  Result<void> rotate_locked();
  Result<void> fold_once(const Capture& capture, bool rotate);
  void mark_broken_locked(const std::string& why);

  const Options opts_;

  std::mutex fold_mu_;  // one fold at a time

  // Lock order: mu_ before sync_mu_; fdatasync runs holding neither,
  // except when a fold rotates the log.
  mutable std::mutex mu_;  // guards the fields below; held while writing
  std::shared_ptr<File> file_;
  uint64_t written_ = 0;  // bytes written by this process, over every file
  size_t log_bytes_ = 0;
  size_t snapshot_bytes_ = 0;
  std::optional<std::string> broken_;  // why writes are refused until a fold
  uint64_t breaks_ = 0;                // how often writes broke

  mutable std::mutex sync_mu_;  // guards the fields below
  std::condition_variable sync_cv_;
  bool syncing_ = false;
  uint64_t durable_ = 0;      // everything written before this is on disk
  uint64_t failed_from_ = 0;  // a sync covering the bytes after this...
  uint64_t failed_upto_ = 0;  // ...up to here failed...
  std::string sync_error_;    // ...with this error
  uint64_t syncs_ = 0;
};

}  // namespace vigil
