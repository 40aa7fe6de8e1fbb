#include "storage/memory_store.h"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstring>

#include <fmt/format.h>

#include "storage/wal.h"

namespace vigil::storage {

bool is_stale_nan(double v) { return std::bit_cast<uint64_t>(v) == kStaleNaNBits; }
double stale_nan() { return std::bit_cast<double>(kStaleNaNBits); }

void SampleIterator::open(size_t chunk) {
  chunk_ = chunk;
  const auto& sealed = s_->chunks_;
  if (chunk < sealed.size()) {
    const SealedChunk& c = sealed[chunk];
    dec_ = ChunkDecoder(c.data.get(), c.size, c.count, c.min_t);
  } else {
    dec_ = ChunkDecoder(s_->head_.data(), s_->head_.size(), s_->enc_.count(), s_->head_min_t_);
  }
}

bool SampleIterator::start() {
  if (s_->floor_ != std::numeric_limits<int64_t>::min()) return seek_after(s_->floor_ - 1);
  started_ = true;
  open(0);
  return valid_ = step();
}

namespace {

// The first of the sealed chunks from index `from` on that holds a sample
// after t (sealed.size() when none does): where a seek past t starts.
size_t first_chunk_after(const std::vector<SealedChunk>& sealed, size_t from, int64_t t) {
  return static_cast<size_t>(
      std::partition_point(sealed.begin() + static_cast<ptrdiff_t>(std::min(from, sealed.size())), sealed.end(),
                           [t](const SealedChunk& k) { return k.max_t <= t; }) -
      sealed.begin());
}

}  // namespace

bool SampleIterator::seek_after(int64_t t) {
  if (s_->floor_ != std::numeric_limits<int64_t>::min()) t = std::max(t, s_->floor_ - 1);
  if (started_) {
    if (!valid_) return false;
    if (dec_.t() > t) return true;
  }
  const auto& sealed = s_->chunks_;
  const size_t c = first_chunk_after(sealed, started_ ? chunk_ : 0, t);
  if (!started_ || c != chunk_) open(c);
  started_ = true;
  while ((valid_ = step())) {
    if (dec_.t() > t) return true;
  }
  return false;
}

// Histogram chunks are sealed at the store's chunk size in samples or at
// this many bytes, whichever comes first: a seek decodes from its chunk's
// start, and a histogram sample takes tens of bytes.
constexpr size_t kHistogramChunkBytes = 2048;

HistogramIterator::HistogramIterator(const Series& s) : hs_(s.hist_.get()) {}

void HistogramIterator::open(size_t chunk) {
  // The position of the chunk's first sample: counted on from the current
  // chunk, or from the first.
  const size_t from = started_ ? chunk_ : 0;
  if (!started_) start_ = 0;
  for (size_t c = from; c < chunk && c < hs_->chunks.size(); ++c) start_ += hs_->chunks[c].count;
  chunk_ = chunk;
  if (chunk < hs_->chunks.size()) {
    const SealedChunk& c = hs_->chunks[chunk];
    dec_ = HistogramDecoder(c.data.get(), c.size, c.count, c.min_t);
  } else {
    dec_ = HistogramDecoder(hs_->head.data(), hs_->head.size(), hs_->enc.count(), hs_->head_min_t);
  }
}

bool HistogramIterator::step() {
  cur_.reset();
  while (!dec_.next()) {
    if (dec_.failed() || chunk_ >= hs_->chunks.size()) return false;
    open(chunk_ + 1);
  }
  return true;
}

bool HistogramIterator::next() {
  if (!hs_) return false;
  if (!started_) {
    open(0);
    started_ = true;
    return valid_ = step();
  }
  if (!valid_) return false;
  return valid_ = step();
}

bool HistogramIterator::seek_after(int64_t t) {
  if (!hs_) return false;
  if (started_) {
    if (!valid_) return false;
    if (dec_.t() > t) return true;
  }
  const auto& sealed = hs_->chunks;
  const size_t c = first_chunk_after(sealed, started_ ? chunk_ : 0, t);
  if (!started_ || c != chunk_) open(c);
  started_ = true;
  while ((valid_ = step())) {
    if (dec_.t() > t) return true;
  }
  return false;
}

bool HistogramIterator::seek_index(size_t i) {
  if (!hs_ || i >= hs_->count) return valid_ = false;
  const size_t in_chunk = chunk_ < hs_->chunks.size() ? hs_->chunks[chunk_].count : hs_->enc.count();
  if (!started_ || !valid_ || i < index() || i >= start_ + in_chunk) {
    size_t c = 0, first = 0;
    while (c < hs_->chunks.size() && first + hs_->chunks[c].count <= i) first += hs_->chunks[c++].count;
    started_ = false;
    open(c);
    started_ = true;
    valid_ = false;
  }
  while (!valid_ || index() < i) {
    if (!(valid_ = step())) return false;
  }
  return true;
}

const HistogramPtr& HistogramIterator::get() {
  if (!cur_) cur_ = std::make_shared<FloatHistogram>(dec_.value());
  return cur_;
}

struct HistogramSamples::Cursor {
  explicit Cursor(const Series& s) : it(s) {}
  HistogramIterator it;
  size_t at = static_cast<size_t>(-1);
  Sample cur;
};

size_t HistogramSamples::size() const { return s_->num_histograms(); }

const std::shared_ptr<HistogramSamples::Cursor>& HistogramSamples::cursor() const {
  if (!cursor_) cursor_ = std::make_shared<Cursor>(*s_);
  return cursor_;
}

HistogramSamples::Sample HistogramSamples::iterator::operator*() const {
  Cursor& c = *c_;
  const auto i = static_cast<size_t>(i_);
  if (c.at != i) {
    if (!c.it.seek_index(i)) {
      c.cur = {};
    } else {
      c.cur = {c.it.t(), c.it.get()};
    }
    c.at = i;
  }
  return c.cur;
}

void Series::read_histograms(int64_t after, int64_t until, std::vector<int64_t>& t,
                             std::vector<HistogramPtr>& h) const {
  if (!hist_ || hist_->count == 0 || hist_->enc.last_t() <= after) return;
  HistogramIterator it(*this);
  for (bool ok = it.seek_after(after); ok && it.t() <= until; ok = it.next()) {
    t.push_back(it.t());
    h.push_back(it.get());
  }
}

void Series::append_histogram(int64_t t, HistogramPtr h, uint16_t chunk_samples) {
  if (!hist_) hist_ = std::make_unique<HistogramChunks>();
  HistogramChunks& hs = *hist_;
  if (hs.enc.count() == 0) hs.head_min_t = t;
  // Grown in steps rather than doubled, so that the head's spare room stays
  // small (a sample takes tens of bytes).
  if (hs.head.capacity() - hs.head.size() < 256) hs.head.reserve(hs.head.size() + 512);
  hs.enc.append(hs.head, t, std::move(h));
  ++hs.count;
  if (hs.enc.count() >= chunk_samples || hs.head.size() >= kHistogramChunkBytes) seal_histograms();
}

void Series::seal_histograms() {
  HistogramChunks& hs = *hist_;
  SealedChunk c;
  c.min_t = hs.head_min_t;
  c.max_t = hs.enc.last_t();
  c.count = hs.enc.count();
  c.size = static_cast<uint32_t>(hs.head.size());
  c.data = std::make_unique_for_overwrite<uint8_t[]>(hs.head.size());
  std::memcpy(c.data.get(), hs.head.data(), hs.head.size());
  hs.chunks.push_back(std::move(c));
  hs.head = std::vector<uint8_t>();  // frees the buffer (clear() would keep it)
  hs.enc.restart();
}

void Series::truncate_histograms_before(int64_t mint) {
  if (!hist_) return;
  HistogramChunks& hs = *hist_;
  size_t drop = 0;
  while (drop < hs.chunks.size() && hs.chunks[drop].max_t < mint) hs.count -= hs.chunks[drop++].count;
  hs.chunks.erase(hs.chunks.begin(), hs.chunks.begin() + static_cast<ptrdiff_t>(drop));
  if (hs.chunks.empty() && (hs.enc.count() == 0 || hs.enc.last_t() < mint)) {
    hist_.reset();  // nothing left: the next histogram starts afresh
    return;
  }
  // The first chunk left may start before `mint`: written again without
  // the samples before it.
  const bool head = hs.chunks.empty();
  const int64_t min_t = head ? hs.head_min_t : hs.chunks[0].min_t;
  if (min_t >= mint) return;
  HistogramDecoder d = head ? HistogramDecoder(hs.head.data(), hs.head.size(), hs.enc.count(), hs.head_min_t)
                            : HistogramDecoder(hs.chunks[0].data.get(), hs.chunks[0].size, hs.chunks[0].count,
                                               hs.chunks[0].min_t);
  std::vector<uint8_t> bytes;
  HistogramEncoder enc;
  int64_t first = 0;
  size_t dropped = 0;
  while (d.next()) {
    if (d.t() < mint) {
      ++dropped;
      continue;
    }
    if (enc.count() == 0) first = d.t();
    enc.append(bytes, d.t(), std::make_shared<FloatHistogram>(d.value()));
  }
  hs.count -= dropped;
  if (head) {
    hs.head = std::move(bytes);
    hs.enc = std::move(enc);
    hs.head_min_t = first;
    return;
  }
  SealedChunk& c = hs.chunks[0];
  c.min_t = first;
  c.count = enc.count();
  c.size = static_cast<uint32_t>(bytes.size());
  c.data = std::make_unique_for_overwrite<uint8_t[]>(bytes.size());
  std::memcpy(c.data.get(), bytes.data(), bytes.size());
}

size_t Series::histogram_bytes() const {
  if (!hist_) return 0;
  size_t n = sizeof(HistogramChunks) + hist_->chunks.capacity() * sizeof(SealedChunk) + hist_->head.capacity();
  for (const auto& c : hist_->chunks) n += c.size;
  return n;
}

double Series::last_value() const { return std::bit_cast<double>(last_v_); }

void Series::read(int64_t after, int64_t until, std::vector<int64_t>& t, std::vector<double>& v,
                  bool skip_stale) const {
  if (empty() || last_t_ <= after) return;
  SampleIterator it(*this);
  for (bool ok = it.seek_after(after); ok && it.t() <= until; ok = it.next()) {
    const double x = it.v();
    if (skip_stale && is_stale_nan(x)) continue;
    t.push_back(it.t());
    v.push_back(x);
  }
}

bool Series::has_sample_in(int64_t from, int64_t to) const {
  if (empty() || last_t_ < from || from > to) return false;
  SampleIterator it(*this);
  return it.seek_after(from == std::numeric_limits<int64_t>::min() ? from : from - 1) ? it.t() <= to
                                                                                        : false;
}

size_t Series::sample_bytes() const {
  size_t n = chunks_.capacity() * sizeof(SealedChunk) + head_.capacity() + histogram_bytes();
  for (const auto& c : chunks_) n += c.size;
  return n;
}

Series::Append Series::append(int64_t t, double v, uint16_t chunk_samples) {
  const uint64_t bits = std::bit_cast<uint64_t>(v);
  if (count_ > 0) {
    if (t < last_t_) return Append::kOutOfOrder;
    if (t == last_t_) return bits == last_v_ ? Append::kSame : Append::kDuplicate;
  }
  // The largest sample takes 4 + 64 + 2 + 5 + 6 + 64 bits (19 bytes): grow
  // the head in small steps rather than doubling, so that a series' spare
  // buffer stays small.
  if (head_.capacity() - head_.size() < 19) head_.reserve(head_.size() + 32);
  if (enc_.count() == 0) head_min_t_ = t;
  enc_.append(head_, t, v);
  last_t_ = t;
  last_v_ = bits;
  ++count_;
  if (enc_.count() >= chunk_samples) seal();
  return Append::kOk;
}

void Series::seal() {
  SealedChunk c;
  c.min_t = head_min_t_;
  c.max_t = enc_.last_t();
  c.count = enc_.count();
  c.size = static_cast<uint32_t>(head_.size());
  c.data = std::make_unique_for_overwrite<uint8_t[]>(head_.size());
  std::memcpy(c.data.get(), head_.data(), head_.size());
  chunks_.push_back(std::move(c));
  head_ = std::vector<uint8_t>();  // frees the buffer (assigning {} would keep it)
  enc_.reset();
}

void Series::truncate_before(int64_t mint) {
  if (count_ == 0 || (floor_ != std::numeric_limits<int64_t>::min() && mint <= floor_)) return;
  size_t drop = 0;
  while (drop < chunks_.size() && chunks_[drop].max_t < mint) ++drop;
  if (drop > 0) {
    for (size_t i = 0; i < drop; ++i) count_ -= chunks_[i].count;
    chunks_.erase(chunks_.begin(), chunks_.begin() + static_cast<ptrdiff_t>(drop));
    hidden_ = 0;  // hidden samples only ever sit in the first chunk
  }
  if (chunks_.empty() && enc_.count() > 0 && enc_.last_t() < mint) {
    count_ -= enc_.count();
    head_ = std::vector<uint8_t>();  // frees the buffer (assigning {} would keep it)
    enc_.reset();
  }
  if (count_ == 0) {
    hidden_ = 0;
    floor_ = std::numeric_limits<int64_t>::min();
    return;
  }
  floor_ = mint;
  // Count what the first chunk holds before the new floor.
  hidden_ = 0;
  ChunkDecoder d = chunks_.empty() ? ChunkDecoder(head_.data(), head_.size(), enc_.count(), head_min_t_)
                                   : ChunkDecoder(chunks_[0].data.get(), chunks_[0].size, chunks_[0].count,
                                                  chunks_[0].min_t);
  while (d.next() && d.t() < mint) ++hidden_;
}

void Series::compact() {
  chunks_.shrink_to_fit();
  head_.shrink_to_fit();
  if (hist_) {
    hist_->chunks.shrink_to_fit();
    hist_->head.shrink_to_fit();
  }
}

SeriesRef MemoryStore::series(const Labels& labels) {
  auto& bucket = by_hash_[labels.hash()];
  for (SeriesRef r : bucket) {
    if (series_[r].labels == labels) return r;
  }
  auto ref = static_cast<SeriesRef>(series_.size());
  series_.emplace_back(labels);
  series_.back().id_ = next_id_++;
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

Result<SeriesRef> MemoryStore::add_series(const Labels& labels) {
  if (max_series_ == 0 || series_.size() < max_series_) return series(labels);
  if (auto it = by_hash_.find(labels.hash()); it != by_hash_.end()) {
    for (SeriesRef r : it->second) {
      if (series_[r].labels == labels) return r;
    }
  }
  ++series_refused_;
  last_refused_ = labels;
  // No label text in the message: a churning target has this said for
  // every sample of a scrape.
  return fail(fmt::format("series limit reached: the store holds {} series (--storage.max-series); new series refused",
                          max_series_));
}

Result<void> MemoryStore::append(SeriesRef ref, int64_t t, double v) {
  Series& s = series_[ref];
  switch (s.append(t, v, chunk_samples_)) {
    case Series::Append::kOk:
      ++num_samples_;
      if (wal_) wal_->add(s, t, v);
      return {};
    case Series::Append::kSame: return {};
    case Series::Append::kOutOfOrder:
      return fail(fmt::format("out of order sample for {} at {} (last {})", s.labels.to_string(), t, s.last_t_));
    case Series::Append::kDuplicate:
      return fail(fmt::format("duplicate sample for timestamp {} of {}", t, s.labels.to_string()));
  }
  return {};
}

Result<void> MemoryStore::append_histogram(SeriesRef ref, int64_t t, HistogramPtr h) {
  return add_histogram(ref, t, std::move(h), true);
}

Result<void> MemoryStore::add_histogram(SeriesRef ref, int64_t t, HistogramPtr h, bool derive_hint) {
  Series& s = series_[ref];
  const HistogramChunks* hs = s.hist_.get();
  if (hs && hs->enc.last_t() == t && same_sample(*hs->enc.last(), *h)) return {};  // as floats: the same again
  if (hs && hs->enc.last_t() >= t) {
    return fail(fmt::format("out of order histogram sample for {} at {} (last {})", s.labels.to_string(), t,
                            hs->enc.last_t()));
  }
  if (!spans_match_buckets(*h)) {
    return fail(fmt::format("histogram sample for {} at {}: its spans do not cover its {} positive and {} negative "
                            "buckets",
                            s.labels.to_string(), t, h->positive_buckets.size(), h->negative_buckets.size()));
  }
  if (derive_hint) {
    // Counter-reset hints as Prometheus' store yields them back: gauges stay
    // gauges; a histogram following another one without a reset is not a
    // reset; the first one, one following a float, and one after a detected
    // reset (which starts a new chunk there) read back as unknown.
    CounterResetHint hint = CounterResetHint::kUnknown;
    if (h->hint == CounterResetHint::kGauge) {
      hint = CounterResetHint::kGauge;
    } else if (h->hint == CounterResetHint::kReset) {
      hint = CounterResetHint::kReset;
    } else if (hs && (s.empty() || s.max_time() < hs->enc.last_t())) {
      const FloatHistogram& prev = *hs->enc.last();
      hint = h->detect_reset(prev) ? CounterResetHint::kUnknown : CounterResetHint::kNotReset;
      if (prev.hint == CounterResetHint::kGauge && hint == CounterResetHint::kNotReset) hint = CounterResetHint::kUnknown;
    }
    if (hint != h->hint) {
      auto c = std::make_shared<FloatHistogram>(*h);
      c->hint = hint;
      h = std::move(c);
    }
  }
  if (wal_) wal_->add_histogram(s, t, h);
  s.append_histogram(t, std::move(h), chunk_samples_);
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
  num_samples_ = 0;
  bool emptied = false;
  for (auto& s : series_) {
    s.truncate_before(mint);
    s.truncate_histograms_before(mint);
    num_samples_ += s.num_samples() + s.num_histograms();
    emptied = emptied || (s.empty() && s.num_histograms() == 0);
  }
  if (emptied) drop_empty_series();
}

void MemoryStore::drop_empty_series() {
  // Survivors keep their order, so refs are renumbered monotonically and
  // every postings list stays sorted after mapping.
  constexpr SeriesRef kGone = std::numeric_limits<SeriesRef>::max();
  std::vector<SeriesRef> remap(series_.size(), kGone);
  size_t kept = 0;
  for (size_t i = 0; i < series_.size(); ++i) {
    if (series_[i].empty() && series_[i].num_histograms() == 0) continue;
    remap[i] = static_cast<SeriesRef>(kept);
    if (kept != i) series_[kept] = std::move(series_[i]);
    ++kept;
  }
  series_removed_ += series_.size() - kept;
  ++generation_;
  series_.erase(series_.begin() + static_cast<ptrdiff_t>(kept), series_.end());
  if (series_.capacity() > 2 * series_.size() + 64) series_.shrink_to_fit();

  auto remap_list = [&](std::vector<SeriesRef>& refs) {
    size_t n = 0;
    for (SeriesRef r : refs) {
      if (remap[r] != kGone) refs[n++] = remap[r];
    }
    refs.resize(n);
    if (refs.capacity() > 2 * n + 4) refs.shrink_to_fit();
  };
  for (auto it = by_hash_.begin(); it != by_hash_.end();) {
    remap_list(it->second);
    it = it->second.empty() ? by_hash_.erase(it) : std::next(it);
  }
  by_hash_.rehash(0);
  for (auto name = index_.begin(); name != index_.end();) {
    for (auto value = name->second.begin(); value != name->second.end();) {
      remap_list(value->second);
      value = value->second.empty() ? name->second.erase(value) : std::next(value);
    }
    name->second.rehash(0);
    name = name->second.empty() ? index_.erase(name) : std::next(name);
  }
  index_.rehash(0);
  std::lock_guard lock(rank_.mu);
  rank_.rank.clear();
  rank_.rank.shrink_to_fit();
}

void MemoryStore::compact() {
  for (auto& s : series_) s.compact();
}

void MemoryStore::clear() {
  {
    std::lock_guard lock(rank_.mu);
    rank_.rank.clear();
  }
  series_.clear();
  ++generation_;
  by_hash_.clear();
  index_.clear();
  num_samples_ = 0;
}

size_t MemoryStore::sample_bytes() const {
  size_t n = 0;
  for (const auto& s : series_) n += s.sample_bytes();
  return n;
}

}  // namespace vigil::storage
