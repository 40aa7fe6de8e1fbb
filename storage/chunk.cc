#include "storage/chunk.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace vigil::storage {

namespace {

// Two's complement arithmetic that wraps instead of overflowing: any pair of
// int64 timestamps encodes and decodes back exactly.
int64_t wrap_sub(int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b)); }
int64_t wrap_add(int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b)); }

bool fits(int64_t x, int n) { return x >= -(int64_t{1} << (n - 1)) && x < (int64_t{1} << (n - 1)); }

int64_t sign_extend(uint64_t x, int n) {
  const int shift = 64 - n;
  return static_cast<int64_t>(x << shift) >> shift;
}

}  // namespace

void ChunkEncoder::put(std::vector<uint8_t>& out, uint64_t bits, int n) {
  while (n > 0) {
    if (free_bits_ == 0) {
      out.push_back(0);
      free_bits_ = 8;
    }
    const int take = std::min<int>(n, free_bits_);
    const auto piece = static_cast<uint8_t>((bits >> (n - take)) & ((1u << take) - 1));
    out.back() = static_cast<uint8_t>(out.back() | (piece << (free_bits_ - take)));
    free_bits_ = static_cast<uint8_t>(free_bits_ - take);
    n -= take;
  }
}

void ChunkEncoder::append(std::vector<uint8_t>& out, int64_t t, double v) {
  const uint64_t vb = std::bit_cast<uint64_t>(v);
  if (count_ == 0) {
    put(out, vb, 64);
    t_ = t;
    delta_ = 0;
    v_ = vb;
    count_ = 1;
    return;
  }
  const int64_t delta = wrap_sub(t, t_);
  const int64_t dod = wrap_sub(delta, delta_);
  const auto udod = static_cast<uint64_t>(dod);
  if (dod == 0) {
    put(out, 0, 1);
  } else if (fits(dod, 14)) {
    put(out, 0b10, 2);
    put(out, udod & ((1u << 14) - 1), 14);
  } else if (fits(dod, 17)) {
    put(out, 0b110, 3);
    put(out, udod & ((1u << 17) - 1), 17);
  } else if (fits(dod, 20)) {
    put(out, 0b1110, 4);
    put(out, udod & ((1u << 20) - 1), 20);
  } else {
    put(out, 0b1111, 4);
    put(out, udod, 64);
  }
  t_ = t;
  delta_ = delta;

  const uint64_t x = vb ^ v_;
  if (x == 0) {
    put(out, 0, 1);
  } else {
    const int lead = std::min(std::countl_zero(x), 31);
    const int trail = std::countr_zero(x);
    if (leading_ != 0xff && lead >= leading_ && trail >= trailing_) {
      put(out, 0b10, 2);
      put(out, x >> trailing_, 64 - leading_ - trailing_);
    } else {
      const int sig = 64 - lead - trail;
      put(out, 0b11, 2);
      put(out, static_cast<uint64_t>(lead), 5);
      put(out, static_cast<uint64_t>(sig & 63), 6);
      put(out, x >> trail, sig);
      leading_ = static_cast<uint8_t>(lead);
      trailing_ = static_cast<uint8_t>(trail);
    }
  }
  v_ = vb;
  ++count_;
}

namespace {

// Reads bits most significant first, for the decoder's rare cases.
struct BitReader {
  const uint8_t* data;
  size_t size;
  size_t pos;

  bool bit() {
    const size_t byte = pos >> 3;
    const auto off = static_cast<int>(pos & 7);
    ++pos;
    if (byte >= size) return false;
    return (data[byte] >> (7 - off)) & 1;
  }
  uint64_t bits(int n) {
    if (n == 0) return 0;
    if (n > 56) {
      const uint64_t hi = bits(n - 32);
      return (hi << 32) | bits(32);
    }
    const size_t byte = pos >> 3;
    uint64_t w = 0;
    if (byte + 8 <= size) {
      std::memcpy(&w, data + byte, 8);
    } else if (byte < size) {
      std::memcpy(&w, data + byte, size - byte);
    }
    if constexpr (std::endian::native == std::endian::little) w = __builtin_bswap64(w);
    w <<= (pos & 7);
    pos += static_cast<size_t>(n);
    return w >> (64 - n);
  }
};

}  // namespace

// The first sample; a timestamp in a wide bucket (its first two bits 11);
// a value written with a new window or with more than 55 meaningful bits
// (after its timestamp was read).
bool ChunkDecoder::next_slow(bool timestamp_read) {
  if (read_ >= count_) return false;
  BitReader r{data_, size_, pos_};
  if (read_ == 0) {
    v_ = r.bits(64);
  } else {
    if (!timestamp_read) {
      r.pos += 2;  // '11'
      int64_t dod;
      if (!r.bit()) {
        dod = sign_extend(r.bits(17), 17);
      } else if (!r.bit()) {
        dod = sign_extend(r.bits(20), 20);
      } else {
        dod = static_cast<int64_t>(r.bits(64));
      }
      delta_ = wrap_add(delta_, dod);
      t_ = wrap_add(t_, delta_);
    }
    if (r.bit()) {
      if (r.bit()) {
        leading_ = static_cast<uint8_t>(r.bits(5));
        int sig = static_cast<int>(r.bits(6));
        if (sig == 0) sig = 64;
        if (leading_ + sig > 64) {
          read_ = count_;
          return false;
        }
        trailing_ = static_cast<uint8_t>(64 - leading_ - sig);
      }
      v_ ^= r.bits(64 - leading_ - trailing_) << trailing_;
    }
  }
  pos_ = r.pos;
  if (pos_ > size_ * 8) {
    read_ = count_;
    return false;
  }
  ++read_;
  return true;
}

}  // namespace vigil::storage
