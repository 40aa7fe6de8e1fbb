#pragma once

// Compressed chunks of native-histogram samples, byte-oriented (varints and
// trimmed XORs rather than the float chunks' bit stream: a histogram sample
// is tens of values, so byte alignment costs little and decodes fast).
//
// A chunk's bytes hold its samples one after the other; the first sample's
// timestamp is kept by the chunk's owner, as for float chunks. A sample:
//
//   header  one byte: bits 0-1 the counter-reset hint; bit 2 the layout
//           follows; bit 3 the counts are written as integers; bits 4-7 zero
//   time    sample 0: nothing; sample k > 0: zigzag varint of the delta of
//           deltas (t_k - t_{k-1}) - (t_{k-1} - t_{k-2}), with t_{-1} = t_0
//   layout  (sample 0 of a chunk, and whenever it changes)
//           zigzag varint schema | zero threshold, 8 bytes |
//           positive spans, negative spans: each a varint n, then n ×
//           (zigzag varint offset, varint length) |
//           schema -53 only: varint n, then n custom bounds, 8 bytes each
//   values  count, zero count, sum, then the positive buckets and the
//           negative ones, each against the same value of the previous
//           sample (0 after a layout change, for the buckets):
//             integer counts: zigzag varint of the difference (the sum is
//             always written as a float)
//             floats: x = bits XOR previous bits, as one byte 0 when x is
//             0, else a byte (leading zero bytes << 4 | bytes kept) and the
//             bytes of x between its leading and trailing zero bytes
//
// Counts are written as integers when every count of the sample and of the
// values they are taken against is an integer of at most 2^53 in magnitude
// (not -0): scraped histograms count observations, so a sample usually costs
// a byte per bucket. Everything else goes through the XOR form, so that every
// float, NaN payloads (stale markers) included, decodes bit-identical.
//
// Fixed-size values are little-endian.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "model/histogram.h"

namespace vigil::storage {

// Appends histogram samples to a chunk's bytes. Times must not decrease
// (the store checks order before appending).
class HistogramEncoder {
 public:
  // Appends to `out`, which holds this encoder's earlier output (and nothing
  // else). `t` of the first sample is not written: the caller keeps it.
  // `h` is kept (shared) as the base of the next sample.
  void append(std::vector<uint8_t>& out, int64_t t, HistogramPtr h);

  uint16_t count() const { return count_; }
  int64_t last_t() const { return t_; }
  // The last sample appended (null before the first).
  const HistogramPtr& last() const { return prev_; }
  // Starts a new chunk; the last sample stays readable through last().
  void restart() {
    count_ = 0;
    delta_ = 0;
  }

 private:
  HistogramPtr prev_;
  int64_t t_ = 0;
  int64_t delta_ = 0;
  uint16_t count_ = 0;
};

// Reads a chunk's samples in order. The bytes must outlive the decoder.
class HistogramDecoder {
 public:
  HistogramDecoder() = default;
  HistogramDecoder(const uint8_t* data, size_t size, uint16_t count, int64_t min_t)
      : data_(data), size_(size), count_(count), t_(min_t) {}

  // Moves to the next sample; false past the last one, or on bytes that do
  // not decode (failed() tells which).
  bool next();
  bool failed() const { return failed_; }
  // Samples read so far.
  uint16_t read() const { return read_; }

  int64_t t() const { return t_; }
  // The current sample, valid until the next call of next().
  const FloatHistogram& value() const { return h_; }

 private:
  bool fail() {
    failed_ = true;
    read_ = count_;
    return false;
  }
  bool read_layout();
  bool read_value(double& v, bool integer);

  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t pos_ = 0;
  uint16_t count_ = 0;
  uint16_t read_ = 0;
  int64_t t_ = 0;
  int64_t delta_ = 0;
  FloatHistogram h_;
  bool failed_ = false;
};

// Whether the spans cover as many buckets as the histogram holds (what the
// encoding relies on: it writes the spans, then one value per bucket).
bool spans_match_buckets(const FloatHistogram& h);

// Whether two histograms are the same sample: layout, counts and sum bit
// for bit (the counter-reset hint aside, which the store derives).
bool same_sample(const FloatHistogram& a, const FloatHistogram& b);

// One chunk holding the samples given (in time order): what the write-ahead
// log writes for single samples, and tests for round trips.
std::vector<uint8_t> encode_histograms(std::span<const int64_t> t, std::span<const HistogramPtr> h);

}  // namespace vigil::storage
