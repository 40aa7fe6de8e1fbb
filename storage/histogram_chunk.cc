#include "storage/histogram_chunk.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

namespace vigil::storage {

namespace {

constexpr uint8_t kHintMask = 0x03;
constexpr uint8_t kLayout = 0x04;
constexpr uint8_t kInteger = 0x08;
constexpr uint8_t kReserved = 0xf0;
constexpr double kMaxExact = 9007199254740992.0;  // 2^53

int64_t wrap_sub(int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b)); }
int64_t wrap_add(int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b)); }

uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t unzigzag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

void put_varint(std::vector<uint8_t>& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}

void put_fixed(std::vector<uint8_t>& out, double d) {
  uint64_t v = std::bit_cast<uint64_t>(d);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// x = bits XOR previous bits, trimmed to the bytes between its leading and
// trailing zero bytes.
void put_xor(std::vector<uint8_t>& out, double v, double prev) {
  const uint64_t x = std::bit_cast<uint64_t>(v) ^ std::bit_cast<uint64_t>(prev);
  if (x == 0) {
    out.push_back(0);
    return;
  }
  const int lead = std::countl_zero(x) / 8;
  const int trail = std::countr_zero(x) / 8;
  const int keep = 8 - lead - trail;
  out.push_back(static_cast<uint8_t>((lead << 4) | keep));
  for (int i = keep - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>(x >> (8 * (trail + i))));
}

// A count the integer form carries exactly.
bool integral(double v) { return std::fabs(v) <= kMaxExact && v == std::trunc(v) && !(v == 0 && std::signbit(v)); }

void put_int_delta(std::vector<uint8_t>& out, double v, double prev) {
  put_varint(out, zigzag(static_cast<int64_t>(v) - static_cast<int64_t>(prev)));
}

bool same_bits(double a, double b) { return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b); }

bool same_values(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

bool same_layout(const FloatHistogram& a, const FloatHistogram& b) {
  return a.schema == b.schema && same_bits(a.zero_threshold, b.zero_threshold) &&
         a.positive_spans == b.positive_spans && a.negative_spans == b.negative_spans &&
         same_values(a.custom_values, b.custom_values);
}

void put_spans(std::vector<uint8_t>& out, const std::vector<HistogramSpan>& spans) {
  put_varint(out, spans.size());
  for (const auto& s : spans) {
    put_varint(out, zigzag(s.offset));
    put_varint(out, s.length);
  }
}

}  // namespace

void HistogramEncoder::append(std::vector<uint8_t>& out, int64_t t, HistogramPtr hp) {
  const FloatHistogram& h = *hp;
  // What each value is written against: nothing at a chunk's start (chunks
  // decode on their own), the previous sample otherwise; buckets only while
  // the layout stays.
  const FloatHistogram* base = count_ > 0 ? prev_.get() : nullptr;
  const bool layout = base == nullptr || !same_layout(*base, h);
  const FloatHistogram* bucket_base = layout ? nullptr : base;

  bool integer = integral(h.count) && integral(h.zero_count) && (!base || (integral(base->count) && integral(base->zero_count)));
  auto all_integral = [](const std::vector<double>& v) {
    for (double x : v) {
      if (!integral(x)) return false;
    }
    return true;
  };
  integer = integer && all_integral(h.positive_buckets) && all_integral(h.negative_buckets);
  if (integer && bucket_base) {
    integer = all_integral(bucket_base->positive_buckets) && all_integral(bucket_base->negative_buckets);
  }

  out.push_back(static_cast<uint8_t>((static_cast<uint8_t>(h.hint) & kHintMask) | (layout ? kLayout : 0) |
                                     (integer ? kInteger : 0)));
  if (count_ == 0) {
    delta_ = 0;
  } else {
    const int64_t delta = wrap_sub(t, t_);
    put_varint(out, zigzag(wrap_sub(delta, delta_)));
    delta_ = delta;
  }
  t_ = t;

  if (layout) {
    put_varint(out, zigzag(h.schema));
    put_fixed(out, h.zero_threshold);
    put_spans(out, h.positive_spans);
    put_spans(out, h.negative_spans);
    put_varint(out, h.custom_values.size());
    for (double v : h.custom_values) put_fixed(out, v);
  }

  auto put = [&](double v, double prev) {
    if (integer) {
      put_int_delta(out, v, prev);
    } else {
      put_xor(out, v, prev);
    }
  };
  put(h.count, base ? base->count : 0.0);
  put(h.zero_count, base ? base->zero_count : 0.0);
  put_xor(out, h.sum, base ? base->sum : 0.0);
  for (size_t i = 0; i < h.positive_buckets.size(); ++i) put(h.positive_buckets[i], bucket_base ? bucket_base->positive_buckets[i] : 0.0);
  for (size_t i = 0; i < h.negative_buckets.size(); ++i) put(h.negative_buckets[i], bucket_base ? bucket_base->negative_buckets[i] : 0.0);

  prev_ = std::move(hp);
  ++count_;
}

namespace {

struct Reader {
  const uint8_t* data;
  size_t size;
  size_t& pos;

  size_t left() const { return size - pos; }
  bool byte(uint8_t& b) {
    if (pos >= size) return false;
    b = data[pos++];
    return true;
  }
  bool varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= size) return false;
      const uint8_t b = data[pos++];
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return shift < 63 || b <= 1;
    }
    return false;
  }
  bool fixed(double& d) {
    if (left() < 8) return false;
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(data[pos + static_cast<size_t>(i)]) << (8 * i);
    pos += 8;
    d = std::bit_cast<double>(v);
    return true;
  }
  bool int32(int32_t& out) {
    uint64_t v = 0;
    if (!varint(v)) return false;
    const int64_t s = unzigzag(v);
    if (s < std::numeric_limits<int32_t>::min() || s > std::numeric_limits<int32_t>::max()) return false;
    out = static_cast<int32_t>(s);
    return true;
  }
  bool spans(std::vector<HistogramSpan>& out, size_t& buckets) {
    uint64_t n = 0;
    if (!varint(n) || n > left() / 2) return false;  // a span takes two bytes at least
    out.resize(static_cast<size_t>(n));
    for (auto& s : out) {
      uint64_t len = 0;
      if (!int32(s.offset) || !varint(len) || len > std::numeric_limits<uint32_t>::max()) return false;
      s.length = static_cast<uint32_t>(len);
      buckets += s.length;
    }
    return true;
  }
};

}  // namespace

bool HistogramDecoder::read_layout() {
  Reader r{data_, size_, pos_};
  size_t buckets = 0;
  if (!r.int32(h_.schema) || !r.fixed(h_.zero_threshold) || !r.spans(h_.positive_spans, buckets)) return false;
  const size_t positive = buckets;
  if (!r.spans(h_.negative_spans, buckets)) return false;
  // Every bucket takes a byte at least: no allocation beyond what the bytes
  // can hold.
  if (buckets > r.left()) return false;
  uint64_t n = 0;
  if (!r.varint(n) || n > r.left() / 8) return false;
  h_.custom_values.resize(static_cast<size_t>(n));
  for (double& v : h_.custom_values) {
    if (!r.fixed(v)) return false;
  }
  h_.positive_buckets.assign(positive, 0.0);
  h_.negative_buckets.assign(buckets - positive, 0.0);
  return true;
}

bool HistogramDecoder::read_value(double& v, bool integer) {
  if (integer) {
    // The common case, a difference of -64..63, is one byte.
    uint64_t z = 0;
    if (pos_ < size_ && data_[pos_] < 0x80) {
      z = data_[pos_++];
    } else {
      Reader r{data_, size_, pos_};
      if (!r.varint(z)) return false;
    }
    // In range, so the conversion is defined (the encoder only writes
    // integers there).
    if (!(v >= -kMaxExact && v <= kMaxExact)) return false;
    const int64_t x = wrap_add(static_cast<int64_t>(v), unzigzag(z));
    if (x > static_cast<int64_t>(kMaxExact) || x < -static_cast<int64_t>(kMaxExact)) return false;
    v = static_cast<double>(x);
    return true;
  }
  if (pos_ >= size_) return false;
  const uint8_t b = data_[pos_++];
  if (b == 0) return true;
  const int lead = b >> 4, keep = b & 15;
  if (keep == 0 || lead + keep > 8 || size_ - pos_ < static_cast<size_t>(keep)) return false;
  uint64_t x = 0;
  for (int i = 0; i < keep; ++i) x = (x << 8) | data_[pos_++];
  x <<= 8 * (8 - lead - keep);
  v = std::bit_cast<double>(std::bit_cast<uint64_t>(v) ^ x);
  return true;
}

bool HistogramDecoder::next() {
  if (read_ >= count_) return false;
  Reader r{data_, size_, pos_};
  uint8_t header = 0;
  if (!r.byte(header) || (header & kReserved)) return fail();
  if (read_ == 0 && !(header & kLayout)) return fail();
  if (read_ > 0) {
    uint64_t z = 0;
    if (!r.varint(z)) return fail();
    delta_ = wrap_add(delta_, unzigzag(z));
    t_ = wrap_add(t_, delta_);
  }
  if ((header & kLayout) && !read_layout()) return fail();
  h_.hint = static_cast<CounterResetHint>(header & kHintMask);
  const bool integer = header & kInteger;
  if (!read_value(h_.count, integer) || !read_value(h_.zero_count, integer) || !read_value(h_.sum, false)) {
    return fail();
  }
  for (double& v : h_.positive_buckets) {
    if (!read_value(v, integer)) return fail();
  }
  for (double& v : h_.negative_buckets) {
    if (!read_value(v, integer)) return fail();
  }
  ++read_;
  return true;
}

bool same_sample(const FloatHistogram& a, const FloatHistogram& b) {
  return same_layout(a, b) && same_bits(a.count, b.count) && same_bits(a.zero_count, b.zero_count) &&
         same_bits(a.sum, b.sum) && same_values(a.positive_buckets, b.positive_buckets) &&
         same_values(a.negative_buckets, b.negative_buckets);
}

bool spans_match_buckets(const FloatHistogram& h) {
  auto covered = [](const std::vector<HistogramSpan>& spans) {
    uint64_t n = 0;
    for (const auto& s : spans) n += s.length;
    return n;
  };
  return covered(h.positive_spans) == h.positive_buckets.size() && covered(h.negative_spans) == h.negative_buckets.size();
}

std::vector<uint8_t> encode_histograms(std::span<const int64_t> t, std::span<const HistogramPtr> h) {
  std::vector<uint8_t> out;
  HistogramEncoder enc;
  for (size_t i = 0; i < t.size() && i < h.size(); ++i) enc.append(out, t[i], h[i]);
  return out;
}

}  // namespace vigil::storage
