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
// Samples gathered into one 'D' record at most: a record stays well under
// the record log's size limits however large one flush is.
constexpr uint32_t kSamplesPerRecord = 8192;

}  // namespace

Wal::Wal(std::string dir, size_t min_fold_bytes)
    : log_(RecordLog::Options{std::move(dir), "wal", "vigilwal", "", min_fold_bytes}) {}

void Wal::add(Series& s, int64_t t, double v) {
  if (!s.logged_) {
    // The series' record goes before any sample that names it.
    flush_samples();
    PayloadWriter w(batch_.begin());
    w.put(kSeries);
    w.put(s.id_);
    put_labels(w, s.labels);
    batch_.end();
    s.logged_ = true;
  }
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
  auto apply = [&](std::string_view payload) -> bool {
    PayloadReader r(payload);
    char type = 0;
    if (!r.get(type)) return false;
    if (type == kSeries || type == kSnapshot) {
      uint64_t id = 0;
      Labels ls;
      if (!r.get(id) || !get_labels(r, ls)) return false;
      const SeriesRef ref = store.series(ls);
      if (refs.emplace(id, ref).second) ++out.series;
      if (type == kSeries) return r.done();
      uint32_t chunks = 0;
      if (!r.get(chunks)) return false;
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
    for (; next < store.num_series() && bytes < (size_t{1} << 20); ++next) {
      Series& s = store.series_[next];
      s.logged_ = true;
      if (s.count_ == 0) continue;
      PayloadWriter w(batch.begin());
      w.put(kSnapshot);
      w.put(s.id_);
      put_labels(w, s.labels);
      const bool head = s.enc_.count() > 0;
      w.put(static_cast<uint32_t>(s.chunks_.size() + (head ? 1 : 0)));
      for (const SealedChunk& c : s.chunks_) {
        w.put(c.min_t);
        w.put(c.count);
        w.put_string(std::string_view(reinterpret_cast<const char*>(c.data.get()), c.size));
        bytes += c.size;
      }
      if (head) {
        w.put(s.head_min_t_);
        w.put(s.enc_.count());
        w.put_string(std::string_view(reinterpret_cast<const char*>(s.head_.data()), s.head_.size()));
        bytes += s.head_.size();
      }
      batch.end();
    }
    return next < store.num_series();
  };
  return log_.fold([&]() -> RecordLog::Producer { return produce; });
}

}  // namespace vigil::storage
