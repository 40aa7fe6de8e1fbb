#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/error.h"
#include "model/labels.h"
#include "model/matcher.h"

namespace vigil::storage {

// Prometheus marks a series as gone with this particular NaN.
inline constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;
bool is_stale_nan(double v);
double stale_nan();

using SeriesRef = uint32_t;

// One series' samples in two parallel contiguous arrays, sorted by time.
struct Series {
  Labels labels;
  std::vector<int64_t> timestamps;  // milliseconds
  std::vector<double> values;

  // Index of the first sample with timestamp >= t.
  size_t lower_bound(int64_t t) const;
  // Index of the first sample with timestamp > t.
  size_t upper_bound(int64_t t) const;
};

// An in-memory series store with an inverted index (label pair -> series).
// Not thread-safe: callers serialise writers against readers.
class MemoryStore {
 public:
  // The series for `labels`, created when new.
  SeriesRef series(const Labels& labels);

  // Appends one sample. Samples of a series must come in time order; a sample
  // at the last timestamp replaces it only when it carries the same value
  // (as Prometheus, a different value there is an error).
  Result<void> append(SeriesRef ref, int64_t t, double v);
  Result<void> append(const Labels& labels, int64_t t, double v) {
    return append(series(labels), t, v);
  }

  // Series matching every matcher, ordered by their label sets. A missing
  // label matches as the empty string; with no matchers nothing is selected.
  std::vector<SeriesRef> select(std::span<const Matcher> matchers) const;

  const Series& get(SeriesRef ref) const { return series_[ref]; }
  size_t num_series() const { return series_.size(); }
  size_t num_samples() const { return num_samples_; }

  std::vector<std::string> label_names() const;
  std::vector<std::string> label_values(std::string_view name) const;

  // Makes room for `n` samples in all in the series, so that a bulk load of
  // a known size allocates each sample array once, at its final size.
  void reserve(SeriesRef ref, size_t n);

  // Drops samples older than `mint` from every series (retention).
  void truncate_before(int64_t mint);
  // Releases spare capacity of the sample arrays (after a bulk load).
  void compact();
  void clear();

  // Bytes held by sample arrays (capacity, not size).
  size_t sample_bytes() const;

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Postings = std::vector<SeriesRef>;  // sorted ascending
  using ValueIndex = std::unordered_map<std::string, Postings, StringHash, std::equal_to<>>;

  Postings postings_for(const Matcher& m) const;

  std::vector<Series> series_;
  std::unordered_map<uint64_t, std::vector<SeriesRef>> by_hash_;
  std::unordered_map<std::string, ValueIndex, StringHash, std::equal_to<>> index_;
  size_t num_samples_ = 0;
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
