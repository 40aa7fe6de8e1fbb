#include "storage/memory_store.h"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstring>

#include <fmt/format.h>

namespace vigil::storage {

bool is_stale_nan(double v) { return std::bit_cast<uint64_t>(v) == kStaleNaNBits; }
double stale_nan() { return std::bit_cast<double>(kStaleNaNBits); }

size_t Series::lower_bound(int64_t t) const {
  return std::lower_bound(timestamps.begin(), timestamps.end(), t) - timestamps.begin();
}
size_t Series::upper_bound(int64_t t) const {
  const size_t n = timestamps.size();
  if (n == 0 || t < timestamps[0]) return 0;
  if (t >= timestamps[n - 1]) return n;
  // Samples mostly come at a steady interval: start where t would be if they
  // did, then widen in doubling steps until t is bracketed, so that a search
  // touches a few neighbouring samples instead of a long series' whole span.
  const double where = static_cast<double>(t - timestamps[0]) / static_cast<double>(timestamps[n - 1] - timestamps[0]);
  size_t guess = std::min(n - 1, static_cast<size_t>(where * static_cast<double>(n - 1)));
  size_t lo, hi;  // timestamps[lo] <= t, and timestamps[hi] > t or hi == n
  if (timestamps[guess] <= t) {
    lo = guess;
    hi = guess + 1;
    for (size_t step = 1; hi < n && timestamps[hi] <= t; step *= 2) {
      lo = hi;
      hi = std::min(n, lo + step);
    }
  } else {
    hi = guess;  // > 0: timestamps[0] <= t
    lo = guess - 1;
    for (size_t step = 1; timestamps[lo] > t; step *= 2) {
      hi = lo;
      lo = lo >= step ? lo - step : 0;
    }
  }
  return std::upper_bound(timestamps.begin() + static_cast<ptrdiff_t>(lo) + 1,
                          timestamps.begin() + static_cast<ptrdiff_t>(hi), t) -
         timestamps.begin();
}

SeriesRef MemoryStore::series(const Labels& labels) {
  auto& bucket = by_hash_[labels.hash()];
  for (SeriesRef r : bucket) {
    if (series_[r].labels == labels) return r;
  }
  auto ref = static_cast<SeriesRef>(series_.size());
  series_.push_back(Series{labels, {}, {}});
  bucket.push_back(ref);
  for (const LabelView l : labels) {
    auto name = index_.find(l.name);
    if (name == index_.end()) name = index_.emplace(std::string(l.name), ValueIndex{}).first;
    auto value = name->second.find(l.value);
    if (value == name->second.end()) value = name->second.emplace(std::string(l.value), Postings{}).first;
    value->second.push_back(ref);  // refs grow, so postings stay sorted
  }
  return ref;
}

Result<void> MemoryStore::append(SeriesRef ref, int64_t t, double v) {
  Series& s = series_[ref];
  if (!s.timestamps.empty()) {
    int64_t last = s.timestamps.back();
    if (t < last) {
      return fail(fmt::format("out of order sample for {} at {} (last {})", s.labels.to_string(),
                              t, last));
    }
    if (t == last) {
      double prev = s.values.back();
      if (std::bit_cast<uint64_t>(prev) == std::bit_cast<uint64_t>(v)) return {};
      return fail(
          fmt::format("duplicate sample for timestamp {} of {}", t, s.labels.to_string()));
    }
  }
  s.timestamps.push_back(t);
  s.values.push_back(v);
  ++num_samples_;
  return {};
}

MemoryStore::Postings MemoryStore::postings_for(const Matcher& m) const {
  auto it = index_.find(m.name());
  if (it == index_.end()) return {};
  if (m.type() == MatchType::kEqual) {
    auto v = it->second.find(m.value());
    return v == it->second.end() ? Postings{} : v->second;
  }
  Postings out;
  for (const auto& [value, refs] : it->second) {
    if (m.matches(value)) out.insert(out.end(), refs.begin(), refs.end());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<SeriesRef> MemoryStore::select(std::span<const Matcher> matchers) const {
  // Matchers that reject the empty string select from the index; the others
  // (which also match series lacking the label) filter the candidates.
  std::vector<SeriesRef> result;
  bool have_candidates = false;
  std::vector<const Matcher*> filters;
  for (const auto& m : matchers) {
    if (m.matches("")) {
      filters.push_back(&m);
      continue;
    }
    Postings p = postings_for(m);
    if (!have_candidates) {
      result = std::move(p);
      have_candidates = true;
    } else {
      Postings both;
      std::set_intersection(result.begin(), result.end(), p.begin(), p.end(),
                            std::back_inserter(both));
      result = std::move(both);
    }
    if (result.empty()) return result;
  }
  if (!have_candidates) {
    if (matchers.empty()) return {};
    result.resize(series_.size());
    for (size_t i = 0; i < series_.size(); ++i) result[i] = static_cast<SeriesRef>(i);
  }
  if (!filters.empty()) {
    std::erase_if(result, [&](SeriesRef r) {
      const Labels& ls = series_[r].labels;
      for (const Matcher* f : filters) {
        if (!f->matches(ls.get(f->name()))) return true;
      }
      return false;
    });
  }
  if (result.size() > 1) {
    std::lock_guard lock(rank_.mu);
    std::vector<uint32_t>& rank = rank_.rank;
    if (rank.size() != series_.size()) {
      auto by_labels = [&](SeriesRef x, SeriesRef y) { return series_[x].labels < series_[y].labels; };
      const size_t known = rank.size();
      std::vector<SeriesRef> order(series_.size());
      if (known * 2 < series_.size()) {
        for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<SeriesRef>(i);
        std::sort(order.begin(), order.end(), by_labels);
      } else {
        // A few series are new (rule output): place them into the order
        // already known instead of sorting everything again.
        order.resize(known);
        for (size_t i = 0; i < known; ++i) order[rank[i]] = static_cast<SeriesRef>(i);
        for (size_t i = known; i < series_.size(); ++i) {
          auto r = static_cast<SeriesRef>(i);
          order.insert(std::upper_bound(order.begin(), order.end(), r, by_labels), r);
        }
      }
      rank.resize(series_.size());
      for (size_t i = 0; i < order.size(); ++i) rank[order[i]] = static_cast<uint32_t>(i);
    }
    // Sorted as (rank, ref) integers: no indirection in the comparisons.
    bool in_order = true;
    for (size_t i = 1; i < result.size() && in_order; ++i) in_order = rank[result[i - 1]] < rank[result[i]];
    if (!in_order) {
      std::vector<uint64_t> keyed(result.size());
      for (size_t i = 0; i < result.size(); ++i) keyed[i] = (uint64_t{rank[result[i]]} << 32) | result[i];
      std::sort(keyed.begin(), keyed.end());
      for (size_t i = 0; i < result.size(); ++i) result[i] = static_cast<SeriesRef>(keyed[i]);
    }
  }
  return result;
}

std::vector<std::string> MemoryStore::label_names() const {
  std::vector<std::string> out;
  out.reserve(index_.size());
  for (const auto& [name, values] : index_) out.push_back(name);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> MemoryStore::label_values(std::string_view name) const {
  std::vector<std::string> out;
  auto it = index_.find(name);
  if (it == index_.end()) return out;
  for (const auto& [value, refs] : it->second) out.push_back(value);
  std::sort(out.begin(), out.end());
  return out;
}

void MemoryStore::truncate_before(int64_t mint) {
  for (auto& s : series_) {
    size_t n = s.lower_bound(mint);
    if (n == 0) continue;
    s.timestamps.erase(s.timestamps.begin(), s.timestamps.begin() + n);
    s.values.erase(s.values.begin(), s.values.begin() + n);
    num_samples_ -= n;
  }
}

void MemoryStore::reserve(SeriesRef ref, size_t n) {
  Series& s = series_[ref];
  s.timestamps.reserve(n);
  s.values.reserve(n);
}

void MemoryStore::compact() {
  for (auto& s : series_) {
    s.timestamps.shrink_to_fit();
    s.values.shrink_to_fit();
  }
}

void MemoryStore::clear() {
  {
    std::lock_guard lock(rank_.mu);
    rank_.rank.clear();
  }
  series_.clear();
  by_hash_.clear();
  index_.clear();
  num_samples_ = 0;
}

size_t MemoryStore::sample_bytes() const {
  size_t n = 0;
  for (const auto& s : series_) {
    n += s.timestamps.capacity() * sizeof(int64_t) + s.values.capacity() * sizeof(double);
  }
  return n;
}

}  // namespace vigil::storage
