#include "storage/wal.h"

#include <bit>
#include <cstring>
#include <string_view>
#include <unordered_map>

#include "storage/memory_store.h"

namespace vigil::storage {

namespace {

constexpr char kSeries = 'S';
constexpr char kSamples = 'D';
constexpr char kSnapshot = 'C';
constexpr char kHistograms = 'H';
constexpr char kHistogramSnapshot = 'G';
// Samples gathered into one 'D' record at most: a record stays well under
// the record log's size limits however large one flush is.
constexpr uint32_t kSamplesPerRecord = 8192;
// The same for histogram samples, which take tens of bytes each.
constexpr uint32_t kHistogramsPerRecord = 1024;

void put_chunk(PayloadWriter& w, int64_t min_t, uint16_t count, const uint8_t* data, size_t size) {
  w.put(min_t);
  w.put(count);
  w.put_string(std::string_view(reinterpret_cast<const char*>(data), size));
}

}  // namespace

Wal::Wal(std::string dir, size_t min_fold_bytes)
    : log_(RecordLog::Options{std::move(dir), "wal", "vigilwal", "", min_fold_bytes}) {}

void Wal::log_series(Series& s) {
  // The series' record goes before any sample that names it.
  flush_samples();
  flush_histograms();
  PayloadWriter w(batch_.begin());
  w.put(kSeries);
  w.put(s.id_);
  put_labels(w, s.labels);
  batch_.end();
  s.logged_ = true;
}

void Wal::add_histogram(Series& s, int64_t t, const HistogramPtr& h) {
  if (!s.logged_) log_series(s);
  PayloadWriter w(histograms_);
  w.put(s.id_);
  w.put(t);
  HistogramEncoder enc;
  std::vector<uint8_t> one;
  enc.append(one, t, h);
  w.put_string(std::string_view(reinterpret_cast<const char*>(one.data()), one.size()));
  if (++pending_histograms_ == kHistogramsPerRecord) flush_histograms();
}

void Wal::flush_histograms() {
  if (pending_histograms_ == 0) return;
  std::string& payload = batch_.begin();
  PayloadWriter w(payload);
  w.put(kHistograms);
  w.put(pending_histograms_);
  payload.append(histograms_);
  batch_.end();
  histograms_.clear();
  pending_histograms_ = 0;
}

void Wal::add(Series& s, int64_t t, double v) {
  if (!s.logged_) log_series(s);
  const uint64_t bits = std::bit_cast<uint64_t>(v);
  const size_t at = samples_.size();
  samples_.resize(at + 24);
  std::memcpy(samples_.data() + at, &s.id_, 8);
  std::memcpy(samples_.data() + at + 8, &t, 8);
  std::memcpy(samples_.data() + at + 16, &bits, 8);
  if (++pending_samples_ == kSamplesPerRecord) flush_samples();
}

void Wal::flush_samples() {
  if (pending_samples_ == 0) return;
  std::string& payload = batch_.begin();
  PayloadWriter w(payload);
  w.put(kSamples);
  w.put(pending_samples_);
  payload.append(samples_.data(), samples_.size());
  batch_.end();
  samples_.clear();
  pending_samples_ = 0;
}

Result<uint64_t> Wal::write() {
  flush_samples();
  flush_histograms();
  if (batch_.empty()) return uint64_t{0};
  auto pos = log_.write(batch_.bytes());
  batch_.clear();
  return pos;
}

Result<void> Wal::sync(uint64_t position) {
  if (position == 0) return {};
  return log_.sync(position);
}

Result<void> Wal::flush() {
  auto pos = write();
  if (!pos) return fail(pos.error().message);
  return sync(*pos);
}

Wal::Replayed Wal::open(MemoryStore& store, Millis now) {
  Replayed out;
  store.set_wal(nullptr);
  std::unordered_map<uint64_t, SeriesRef> refs;  // log id -> series
  auto replay_sample = [&](uint64_t id, int64_t t, double v) {
    auto it = refs.find(id);
    if (it == refs.end() || !store.append(it->second, t, v)) {
      ++out.dropped;
      return;
    }
    ++out.samples;
  };
  // Histograms are replayed with the counter-reset hints they were stored
  // with.
  auto replay_histogram = [&](uint64_t id, int64_t t, const FloatHistogram& h) {
    auto it = refs.find(id);
    if (it == refs.end() || !store.add_histogram(it->second, t, std::make_shared<FloatHistogram>(h), false)) {
      ++out.dropped;
      return;
    }
    ++out.samples;
  };
  auto replay_histogram_chunk = [&](uint64_t id, int64_t min_t, uint16_t count, const std::string& bytes) {
    HistogramDecoder d(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), count, min_t);
    while (d.next()) replay_histogram(id, d.t(), d.value());
    return !d.failed();
  };
  auto apply = [&](std::string_view payload) -> bool {
    PayloadReader r(payload);
    char type = 0;
    if (!r.get(type)) return false;
    if (type == kSeries || type == kSnapshot || type == kHistogramSnapshot) {
      uint64_t id = 0;
      Labels ls;
      if (!r.get(id) || !get_labels(r, ls)) return false;
      const SeriesRef ref = store.series(ls);
      if (refs.emplace(id, ref).second) ++out.series;
      if (type == kSeries) return r.done();
      uint32_t chunks = 0;
      if (!r.get(chunks)) return false;
      if (type == kHistogramSnapshot) {
        for (uint32_t c = 0; c < chunks; ++c) {
          int64_t min_t = 0;
          uint16_t count = 0;
          std::string bytes;
          if (!r.get(min_t) || !r.get(count) || !r.get_string(bytes)) return false;
          if (!replay_histogram_chunk(id, min_t, count, bytes)) return false;
        }
        return r.done();
      }
      for (uint32_t c = 0; c < chunks; ++c) {
        int64_t min_t = 0;
        uint16_t count = 0;
        std::string bytes;
        if (!r.get(min_t) || !r.get(count) || !r.get_string(bytes)) return false;
        ChunkDecoder d(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), count, min_t);
        while (d.next()) replay_sample(id, d.t(), d.v());
      }
      return r.done();
    }
    if (type == kSamples) {
      uint32_t n = 0;
      if (!r.get(n)) return false;
      for (uint32_t i = 0; i < n; ++i) {
        uint64_t id = 0, bits = 0;
        int64_t t = 0;
        if (!r.get(id) || !r.get(t) || !r.get(bits)) return false;
        replay_sample(id, t, std::bit_cast<double>(bits));
      }
      return r.done();
    }
    if (type == kHistograms) {
      uint32_t n = 0;
      if (!r.get(n)) return false;
      for (uint32_t i = 0; i < n; ++i) {
        uint64_t id = 0;
        int64_t t = 0;
        std::string bytes;
        if (!r.get(id) || !r.get(t) || !r.get_string(bytes)) return false;
        if (!replay_histogram_chunk(id, t, 1, bytes)) return false;
      }
      return r.done();
    }
    return false;
  };
  auto loaded = log_.load(apply, now);
  out.damage = std::move(loaded.damage);
  store.set_wal(this);
  // The replayed series have new ids: write them down afresh.
  if (auto r = fold(store); !r) out.fold_error = r.error().message;
  return out;
}

Result<void> Wal::maybe_fold(MemoryStore& store) {
  if (!log_.wants_fold()) return {};
  return fold(store);
}

Result<void> Wal::fold(MemoryStore& store) {
  // Everything appended so far goes into the log being folded away; the
  // snapshot then covers it.
  if (auto w = write(); !w) return fail(w.error().message);
  for (Series& s : store.series_) s.logged_ = false;
  SeriesRef next = 0;
  auto produce = [&](RecordBatch& batch) {
    size_t bytes = 0;
    // A series' float chunks ('C') or histogram chunks ('G'), the head last.
    auto put_snapshot = [&](char type, const Series& s, const std::vector<SealedChunk>& chunks, int64_t head_min_t,
                            uint16_t head_count, const std::vector<uint8_t>& head) {
      PayloadWriter w(batch.begin());
      w.put(type);
      w.put(s.id_);
      put_labels(w, s.labels);
      w.put(static_cast<uint32_t>(chunks.size() + (head_count > 0 ? 1 : 0)));
      for (const SealedChunk& c : chunks) {
        put_chunk(w, c.min_t, c.count, c.data.get(), c.size);
        bytes += c.size;
      }
      if (head_count > 0) {
        put_chunk(w, head_min_t, head_count, head.data(), head.size());
        bytes += head.size();
      }
      batch.end();
    };
    for (; next < store.num_series() && bytes < (size_t{1} << 20); ++next) {
      Series& s = store.series_[next];
      s.logged_ = true;
      if (s.count_ > 0) put_snapshot(kSnapshot, s, s.chunks_, s.head_min_t_, s.enc_.count(), s.head_);
      if (s.num_histograms() > 0) {
        const HistogramChunks& hs = *s.hist_;
        put_snapshot(kHistogramSnapshot, s, hs.chunks, hs.head_min_t, hs.enc.count(), hs.head);
      }
    }
    return next < store.num_series();
  };
  return log_.fold([&]() -> RecordLog::Producer { return produce; });
}

}  // namespace vigil::storage
