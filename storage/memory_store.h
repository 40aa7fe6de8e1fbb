#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <iterator>
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
#include "storage/histogram_chunk.h"

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

// A series' native-histogram samples: sealed chunks, then the head chunk
// (storage/histogram_chunk.h). Kept apart from the float chunks, and only
// allocated for series that hold histograms.
struct HistogramChunks {
  std::vector<SealedChunk> chunks;
  std::vector<uint8_t> head;
  HistogramEncoder enc;
  int64_t head_min_t = 0;
  size_t count = 0;  // samples in chunks and head
};

// Walks a series' histogram samples in time order, decoding one chunk at a
// time; like SampleIterator. Invalidated by any change to the series.
class HistogramIterator {
 public:
  explicit HistogramIterator(const Series& s);

  // Moves to the next sample; false past the last one.
  bool next();
  // Moves forward to the first sample with a timestamp after `t`, skipping
  // whole chunks that end at or before it; false when there is none. Does
  // not move when the current sample is already after `t`.
  bool seek_after(int64_t t);
  // Moves to the sample at position `i` (0: the series' first histogram),
  // forward within the current chunk, else from the start of i's chunk.
  bool seek_index(size_t i);

  int64_t t() const { return dec_.t(); }
  // The current sample, valid until the iterator moves.
  const FloatHistogram& value() const { return dec_.value(); }
  // The current sample as a shared value (one allocation per sample, the
  // same pointer while the iterator stays).
  const HistogramPtr& get();
  // Position of the current sample among the series' histograms.
  size_t index() const { return start_ + dec_.read() - 1; }

 private:
  void open(size_t chunk);
  bool step();

  const HistogramChunks* hs_;
  size_t chunk_ = 0;  // index into the sealed chunks; their count means the head
  size_t start_ = 0;  // position of the chunk's first sample
  HistogramDecoder dec_;
  HistogramPtr cur_;
  bool started_ = false;
  bool valid_ = false;
};

// A series' histogram samples as a random-access range of {t, h} (what
// code written against a plain array of samples reads): the range decodes
// what it is asked for, forward from the last position read within a
// chunk, else from the chunk's start. Its iterators share one cursor, so a
// reference from one is valid until any of them is dereferenced elsewhere.
// Reading in order through HistogramIterator costs less.
class HistogramSamples {
 public:
  struct Sample {
    int64_t t = 0;
    HistogramPtr h;
  };
  struct Cursor;

  class iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = Sample;
    using difference_type = std::ptrdiff_t;
    // Samples are decoded on demand: reading one gives a copy (the
    // histogram itself is shared), so two samples read in turn never alias.
    struct Arrow {
      Sample s;
      const Sample* operator->() const { return &s; }
    };
    using pointer = Arrow;
    using reference = Sample;

    iterator() = default;
    iterator(std::shared_ptr<Cursor> c, difference_type i) : c_(std::move(c)), i_(i) {}
    Sample operator*() const;
    Arrow operator->() const { return {**this}; }
    Sample operator[](difference_type n) const { return *(*this + n); }
    iterator& operator++() { ++i_; return *this; }
    iterator operator++(int) { auto o = *this; ++i_; return o; }
    iterator& operator--() { --i_; return *this; }
    iterator operator--(int) { auto o = *this; --i_; return o; }
    iterator& operator+=(difference_type n) { i_ += n; return *this; }
    iterator& operator-=(difference_type n) { i_ -= n; return *this; }
    friend iterator operator+(iterator a, difference_type n) { return a += n; }
    friend iterator operator+(difference_type n, iterator a) { return a += n; }
    friend iterator operator-(iterator a, difference_type n) { return a -= n; }
    friend difference_type operator-(const iterator& a, const iterator& b) { return a.i_ - b.i_; }
    friend bool operator==(const iterator& a, const iterator& b) { return a.i_ == b.i_; }
    friend auto operator<=>(const iterator& a, const iterator& b) { return a.i_ <=> b.i_; }

   private:
    std::shared_ptr<Cursor> c_;
    difference_type i_ = 0;
  };

  explicit HistogramSamples(const Series& s) : s_(&s) {}
  bool empty() const { return size() == 0; }
  size_t size() const;
  iterator begin() const { return iterator(cursor(), 0); }
  iterator end() const { return iterator(cursor(), static_cast<std::ptrdiff_t>(size())); }
  Sample front() const { return *begin(); }
  Sample back() const { return *(end() - 1); }
  Sample operator[](size_t i) const { return begin()[static_cast<std::ptrdiff_t>(i)]; }

 private:
  const std::shared_ptr<Cursor>& cursor() const;
  const Series* s_;
  mutable std::shared_ptr<Cursor> cursor_;
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
  // chunks, in chunks of their own (a series rarely holds both kinds).
  using HistogramSample = HistogramSamples::Sample;
  size_t num_histograms() const { return hist_ ? hist_->count : 0; }
  HistogramSamples histograms() const { return HistogramSamples(*this); }
  HistogramIterator histogram_samples() const { return HistogramIterator(*this); }
  // Appends the histogram samples with timestamps in (after, until] to `t`
  // and `h`, decoding only the chunks that overlap that span.
  void read_histograms(int64_t after, int64_t until, std::vector<int64_t>& t, std::vector<HistogramPtr>& h) const;
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
  // the head chunk's buffer; histogram_bytes() the same for histograms (in
  // sample_bytes() too).
  size_t sample_bytes() const;
  size_t histogram_bytes() const;

 private:
  friend class MemoryStore;
  friend class SampleIterator;
  friend class HistogramIterator;
  friend class Wal;

  enum class Append { kOk, kSame, kOutOfOrder, kDuplicate };
  Append append(int64_t t, double v, uint16_t chunk_samples);
  void seal();
  // Drops samples before `mint`: whole chunks when they end before it,
  // otherwise hides them behind floor_.
  void truncate_before(int64_t mint);
  void compact();
  // Appends a histogram sample (order checked by the caller).
  void append_histogram(int64_t t, HistogramPtr h, uint16_t chunk_samples);
  void seal_histograms();
  // Drops histogram samples before `mint`: whole chunks, and the first
  // remaining chunk re-encoded without them.
  void truncate_histograms_before(int64_t mint);

  std::vector<SealedChunk> chunks_;
  std::unique_ptr<HistogramChunks> hist_;
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
  // Appends a native-histogram sample (time order, as floats: the same
  // sample again at the last timestamp is accepted and changes nothing). Its
  // counter-reset hint is stored as Prometheus' store yields it back.
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
  // append_histogram(); with `derive_hint` false the sample's hint is kept
  // as it is (replay of what was stored).
  Result<void> add_histogram(SeriesRef ref, int64_t t, HistogramPtr h, bool derive_hint);
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
