#pragma once

// Compressed sample chunks in the Gorilla scheme (Pelkonen et al., VLDB 2015)
// that Prometheus' TSDB head uses: timestamps as deltas of deltas in
// variable-width buckets, values as the XOR with the previous value, written
// as the bits between its leading and trailing zeros.
//
// A chunk's bytes hold every sample but the first timestamp, which its owner
// keeps beside them (as the chunk's minimum time, needed for seeking anyway).
// Layout, bit by bit, most significant bit of each byte first:
//
//   sample 0:   value, 64 bits
//   sample k>0: timestamp: dod = (t_k - t_{k-1}) - (t_{k-1} - t_{k-2}),
//               with t_{-1} = t_0 (so sample 1 writes its delta):
//                 '0'                  dod == 0
//                 '10'   + 14 bits     dod in [-2^13, 2^13)
//                 '110'  + 17 bits     dod in [-2^16, 2^16)
//                 '1110' + 20 bits     dod in [-2^19, 2^19)
//                 '1111' + 64 bits     otherwise
//               value: x = bits(v_k) XOR bits(v_{k-1})
//                 '0'                  x == 0
//                 '10' + meaningful bits of x in the previous window
//                      (when x's leading and trailing zeros both reach it)
//                 '11' + 5 bits leading zeros (at most 31)
//                      + 6 bits count of meaningful bits (64 written as 0)
//                      + the meaningful bits; this becomes the window
//
// Values are carried as raw bit patterns, so every NaN (Prometheus' stale
// marker among them) and both infinities come back bit-exact.

#include <cstddef>
#include <bit>
#include <cstdint>
#include <cstring>
#include <vector>

namespace vigil::storage {

// Samples per chunk before the next one is started.
inline constexpr uint16_t kChunkSamples = 120;

// Appends samples to a chunk's bytes. Times must not decrease (the store
// checks order before appending).
class ChunkEncoder {
 public:
  // Appends to `out`, which holds this encoder's earlier output (and nothing
  // else). `t` of the first sample is not written: the caller keeps it.
  void append(std::vector<uint8_t>& out, int64_t t, double v);

  uint16_t count() const { return count_; }
  int64_t last_t() const { return t_; }
  uint64_t last_v_bits() const { return v_; }
  void reset() { *this = ChunkEncoder{}; }

 private:
  void put(std::vector<uint8_t>& out, uint64_t bits, int n);

  int64_t t_ = 0;
  int64_t delta_ = 0;
  uint64_t v_ = 0;
  uint16_t count_ = 0;
  uint8_t leading_ = 0xff;  // 0xff: no window yet
  uint8_t trailing_ = 0;
  uint8_t free_bits_ = 0;  // unused low bits in out.back()
};

// Reads a chunk's samples in order. The bytes must outlive the decoder.
class ChunkDecoder {
 public:
  ChunkDecoder() = default;
  ChunkDecoder(const uint8_t* data, size_t size, uint16_t count, int64_t min_t)
      : data_(data), size_(size), count_(count), t_(min_t) {}

  // Moves to the next sample; false past the last one (or on bytes that do
  // not decode).
  inline bool next();
  int64_t t() const { return t_; }
  double v() const { return std::bit_cast<double>(v_); }
  uint64_t v_bits() const { return v_; }

 private:
  // The 64 bits from the current position on (zeros past the end); at
  // least 57 of them are the chunk's.
  inline uint64_t window() const;
  bool next_slow(bool timestamp_read);

  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t pos_ = 0;  // in bits
  uint16_t count_ = 0;
  uint16_t read_ = 0;
  int64_t t_ = 0;
  int64_t delta_ = 0;
  uint64_t v_ = 0;
  uint8_t leading_ = 0;
  uint8_t trailing_ = 0;
};

inline uint64_t ChunkDecoder::window() const {
  const size_t byte = pos_ >> 3;
  uint64_t w = 0;
  if (byte + 8 <= size_) {
    std::memcpy(&w, data_ + byte, 8);
  } else if (byte < size_) {
    std::memcpy(&w, data_ + byte, size_ - byte);
  }
  if constexpr (std::endian::native == std::endian::little) w = __builtin_bswap64(w);
  return w << (pos_ & 7);
}

// The common cases (a timestamp delta of delta in the '0' or 14-bit buckets;
// a value unchanged or within the previous window with at most 55
// meaningful bits) inline; the rest in next_slow().
inline bool ChunkDecoder::next() {
  if (read_ == 0 || read_ >= count_) return next_slow(false);
  uint64_t w = window();
  int64_t dod;
  if (!(w >> 63)) {
    dod = 0;
    pos_ += 1;
  } else if (!((w >> 62) & 1)) {
    dod = static_cast<int64_t>(w << 2) >> 50;  // 14 bits, sign-extended
    pos_ += 16;
  } else {
    return next_slow(false);
  }
  delta_ = static_cast<int64_t>(static_cast<uint64_t>(delta_) + static_cast<uint64_t>(dod));
  t_ = static_cast<int64_t>(static_cast<uint64_t>(t_) + static_cast<uint64_t>(delta_));
  w = window();
  if (!(w >> 63)) {
    pos_ += 1;
  } else if (!((w >> 62) & 1)) {
    const int sig = 64 - leading_ - trailing_;
    if (sig > 55) return next_slow(true);
    v_ ^= ((w << 2) >> (64 - sig)) << trailing_;
    pos_ += 2 + static_cast<size_t>(sig);
  } else {
    const auto lead = static_cast<int>((w >> 57) & 31);
    int sig = static_cast<int>((w >> 51) & 63);
    if (sig == 0 || sig > 44 || lead + sig > 64) return next_slow(true);
    leading_ = static_cast<uint8_t>(lead);
    trailing_ = static_cast<uint8_t>(64 - lead - sig);
    v_ ^= ((w << 13) >> (64 - sig)) << trailing_;
    pos_ += 13 + static_cast<size_t>(sig);
  }
  if (pos_ > size_ * 8) {
    read_ = count_;
    return false;
  }
  ++read_;
  return true;
}

}  // namespace vigil::storage
