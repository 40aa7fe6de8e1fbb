#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/error.h"
#include "model/histogram.h"
#include "model/labels.h"
#include "model/matcher.h"
#include "storage/chunk.h"

namespace vigil::storage {

// Prometheus marks a series as gone with this particular NaN.
inline constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;
bool is_stale_nan(double v);
double stale_nan();

using SeriesRef = uint32_t;

class Series;
class Wal;

// A full chunk: its samples' bytes, exactly sized, and its time span.
struct SealedChunk {
  int64_t min_t = 0;
  int64_t max_t = 0;
  std::unique_ptr<uint8_t[]> data;
  uint32_t size = 0;
  uint16_t count = 0;
};

// Walks a series' samples in time order, decoding one chunk at a time.
// Positioned before the first sample: call next() or seek_after() first.
// Invalidated by any change to the series.
class SampleIterator {
 public:
  explicit SampleIterator(const Series& s) : s_(&s) {}

  // Moves to the next sample; false past the last one.
  inline bool next();
  // Moves forward to the first sample with a timestamp after `t`, skipping
  // whole chunks that end at or before it; false when there is none. Does
  // not move when the current sample is already after `t`.
  bool seek_after(int64_t t);

  int64_t t() const { return dec_.t(); }
  double v() const { return dec_.v(); }

 private:
  void open(size_t chunk);
  bool start();
  inline bool step();

  const Series* s_;
  size_t chunk_ = 0;  // index into the sealed chunks; their count means the head
  ChunkDecoder dec_;
  bool started_ = false;
  bool valid_ = false;
};

// One series: sealed chunks of the store's chunk size in samples each, in
// time order, then the head chunk that takes appends.
class Series {
 public:
  explicit Series(Labels ls) : labels(std::move(ls)) {}

  Labels labels;

  // Stays the same for the series' life in the store, while refs change.
  uint64_t id() const { return id_; }
  size_t num_samples() const { return count_ - hidden_; }
  // No float samples (it may still hold native histograms).
  bool empty() const { return num_samples() == 0; }

  // Native-histogram samples, in time order: kept apart from the float
  // chunks, uncompressed (a series rarely holds both kinds).
  struct HistogramSample {
    int64_t t = 0;
    HistogramPtr h;
  };
  const std::vector<HistogramSample>& histograms() const { return histograms_; }
  // Time of the last sample and its value (the series must not be empty).
  int64_t max_time() const { return last_t_; }
  double last_value() const;

  SampleIterator samples() const { return SampleIterator(*this); }
  // Appends the samples with timestamps in (after, until] to `t` and `v`,
  // decoding only the chunks that overlap that span; with `skip_stale`,
  // leaves out stale markers.
  void read(int64_t after, int64_t until, std::vector<int64_t>& t, std::vector<double>& v,
            bool skip_stale = false) const;
  // Whether a sample has a timestamp in [from, to].
  bool has_sample_in(int64_t from, int64_t to) const;

  // Bytes held by the compressed samples: chunk bytes, chunk descriptors,
  // the head chunk's buffer.
  size_t sample_bytes() const;

 private:
  friend class MemoryStore;
  friend class SampleIterator;
  friend class Wal;

  enum class Append { kOk, kSame, kOutOfOrder, kDuplicate };
  Append append(int64_t t, double v, uint16_t chunk_samples);
  void seal();
  // Drops samples before `mint`: whole chunks when they end before it,
  // otherwise hides them behind floor_.
  void truncate_before(int64_t mint);
  void compact();

  std::vector<SealedChunk> chunks_;
  std::vector<HistogramSample> histograms_;
  std::vector<uint8_t> head_;
  ChunkEncoder enc_;
  int64_t head_min_t_ = 0;
  int64_t last_t_ = 0;
  uint64_t last_v_ = 0;
  // Samples before floor_ were truncated but still sit in the first chunk.
  int64_t floor_ = std::numeric_limits<int64_t>::min();
  uint32_t hidden_ = 0;
  size_t count_ = 0;  // encoded samples, hidden ones included
  uint64_t id_ = 0;
  bool logged_ = false;  // its 'S' record is in the write-ahead log's current file
};

inline bool SampleIterator::step() {
  while (!dec_.next()) {
    if (chunk_ >= s_->chunks_.size()) return false;
    open(chunk_ + 1);
  }
  return true;
}

inline bool SampleIterator::next() {
  if (!started_) return start();
  if (!valid_) return false;
  return valid_ = step();
}

// An in-memory series store with an inverted index (label pair -> series).
// Not thread-safe: callers serialise writers against readers.
class MemoryStore {
 public:
  // `chunk_samples`: samples per chunk. Fewer make seeking cheaper (a seek
  // decodes from its chunk's start) and cost more memory per sample: the
  // unit-test runner, which queries short series at every evaluation time,
  // uses small chunks.
  MemoryStore() = default;
  explicit MemoryStore(uint16_t chunk_samples) : chunk_samples_(chunk_samples) {}

  // The series for `labels`, created when new, whatever the series limit
  // (replay, test runners).
  SeriesRef series(const Labels& labels);
  // The series for `labels`; a new one only while the store holds fewer
  // series than its limit. A refused series is an error, counted in
  // series_refused(); series already held always take samples.
  Result<SeriesRef> add_series(const Labels& labels);

  // Appends one sample. Samples of a series must come in time order; a sample
  // at the last timestamp replaces it only when it carries the same value
  // (as Prometheus, a different value there is an error).
  Result<void> append(SeriesRef ref, int64_t t, double v);
  // Appends a native-histogram sample (time order, as floats).
  Result<void> append_histogram(SeriesRef ref, int64_t t, HistogramPtr h);
  Result<void> append(const Labels& labels, int64_t t, double v) {
    auto ref = add_series(labels);
    if (!ref) return std::unexpected(std::move(ref.error()));
    return append(*ref, t, v);
  }

  // Most series held at once (0: no limit): add_series() refuses new ones
  // beyond it, so that a target whose label values churn cannot grow the
  // store until the process is killed.
  void set_max_series(size_t n) { max_series_ = n; }
  size_t max_series() const { return max_series_; }
  // New series refused for the limit since the store was made, and the last
  // one refused.
  uint64_t series_refused() const { return series_refused_; }
  const Labels& last_refused() const { return last_refused_; }

  // Series matching every matcher, ordered by their label sets. A missing
  // label matches as the empty string; with no matchers nothing is selected.
  std::vector<SeriesRef> select(std::span<const Matcher> matchers) const;

  const Series& get(SeriesRef ref) const { return series_[ref]; }
  size_t num_series() const { return series_.size(); }
  size_t num_samples() const { return num_samples_; }
  // Every accepted sample is handed to `wal` (nullptr: none). The log must
  // outlive the store or be detached first.
  void set_wal(Wal* wal) { wal_ = wal; }
  Wal* wal() const { return wal_; }

  // Changes whenever refs are renumbered (truncate_before() removing series,
  // clear()): a ref kept from an earlier generation must be looked up again.
  uint64_t generation() const { return generation_; }

  // Series removed by truncation since the store was made.
  uint64_t series_removed() const { return series_removed_; }

  std::vector<std::string> label_names() const;
  std::vector<std::string> label_values(std::string_view name) const;

  // Drops samples older than `mint` from every series (retention), and the
  // series left without samples: from the index, their memory freed. Refs
  // of the remaining series change, so none may be held across a call.
  void truncate_before(int64_t mint);
  // Releases spare capacity of the head chunks (after a bulk load).
  void compact();
  void clear();

  // Bytes held by compressed samples (see Series::sample_bytes).
  size_t sample_bytes() const;

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Postings = std::vector<SeriesRef>;  // sorted ascending
  using ValueIndex = std::unordered_map<std::string, Postings, StringHash, std::equal_to<>>;

  friend class Wal;  // marks series logged, reads their chunks when folding

  Postings postings_for(const Matcher& m) const;
  void drop_empty_series();

  std::vector<Series> series_;
  std::unordered_map<uint64_t, std::vector<SeriesRef>> by_hash_;
  std::unordered_map<std::string, ValueIndex, StringHash, std::equal_to<>> index_;
  size_t num_samples_ = 0;
  uint64_t series_removed_ = 0;
  size_t max_series_ = 0;
  uint64_t series_refused_ = 0;
  Labels last_refused_;
  uint64_t next_id_ = 1;
  uint64_t generation_ = 0;
  uint16_t chunk_samples_ = kChunkSamples;
  Wal* wal_ = nullptr;
  // Each series' position in label order, for sorting selections cheaply;
  // rebuilt on the first select after new series appear. A moved or copied
  // store starts without it.
  struct RankCache {
    std::mutex mu;
    std::vector<uint32_t> rank;
    RankCache() = default;
    RankCache(const RankCache&) {}
    RankCache& operator=(const RankCache&) {
      std::lock_guard lock(mu);
      rank.clear();
      return *this;
    }
  };
  mutable RankCache rank_;
};

}  // namespace vigil::storage
