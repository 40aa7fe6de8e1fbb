#pragma once

// The in-memory store's write-ahead log, so that a restart keeps its
// history. Built on model/record_log.h: checksummed records with markers
// (damage costs the records it hit, a torn tail only the record it cut),
// group-committed fdatasync, and folding: now and then the log is replaced
// by a snapshot of the store as it is then (after truncation, so the files
// stay bounded by the retention, not by uptime).
//
// Records (payload; fixed-size values little-endian):
//   'S' series:   u64 id | u32 n | n × (name, value)       a series' first sample follows
//   'D' samples:  u32 n | n × (u64 id, i64 t, u64 v bits)  one flush's samples
//   'C' snapshot: u64 id | labels as in 'S' | u32 chunks | chunks × (i64 min t, u16 count, bytes)
//   'H' histograms: u32 n | n × (u64 id, i64 t, u32 length, a one-sample
//                  histogram chunk of that length)   one flush's histogram samples
//   'G' histogram snapshot: as 'C', with histogram chunks
// Ids are the store's own (Series::id), stable while refs are renumbered.
// Snapshot records carry the compressed chunks as they are in memory
// (storage/chunk.h, storage/histogram_chunk.h). Logs written before
// histograms were logged hold no 'H' or 'G' records and read the same.
//
// Files in the directory: wal.snapshot, wal.log (and wal.log.1 during a
// fold).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/duration.h"
#include "model/error.h"
#include "model/histogram.h"
#include "model/record_log.h"
#include "model/state_file.h"

namespace vigil::storage {

class MemoryStore;
class Series;

class Wal {
 public:
  explicit Wal(std::string dir, size_t min_fold_bytes = size_t{16} << 20);

  struct Replayed {
    size_t series = 0;
    size_t samples = 0;
    size_t dropped = 0;  // samples refused on replay (unknown series, out of order)
    std::vector<StateDamage> damage;
    // Set when the fold after the replay failed: the log then refuses
    // writes until a later fold succeeds (RecordLog's rule).
    std::optional<std::string> fold_error;
  };
  // Reads the snapshot and the log into an empty store, then folds (the
  // replayed series get new ids) and attaches itself to the store: from
  // then on every accepted sample is buffered for the log.
  Replayed open(MemoryStore& store, Millis now);

  // Called by the store for each accepted sample, under its lock.
  void add(Series& s, int64_t t, double v);
  void add_histogram(Series& s, int64_t t, const HistogramPtr& h);
  // Writes the buffered records (under the store's lock, so records keep
  // the order of the appends); returns the position sync() must reach.
  Result<uint64_t> write();
  // Returns once the log is on disk up to `position` (outside the lock:
  // concurrent callers share one fdatasync).
  Result<void> sync(uint64_t position);
  // write() then sync().
  Result<void> flush();

  // Replaces the log by a snapshot of the store when the log has outgrown
  // the last snapshot (or must be rewritten). Under the store's lock.
  Result<void> maybe_fold(MemoryStore& store);
  Result<void> fold(MemoryStore& store);

  size_t log_bytes() const { return log_.log_bytes(); }
  size_t snapshot_bytes() const { return log_.snapshot_bytes(); }

 private:
  void flush_samples();
  void flush_histograms();
  void log_series(Series& s);

  RecordLog log_;
  RecordBatch batch_;  // records not yet written
  std::vector<char> samples_;  // 'D' entries being gathered
  uint32_t pending_samples_ = 0;
  std::string histograms_;  // 'H' entries being gathered
  uint32_t pending_histograms_ = 0;
};

}  // namespace vigil::storage
