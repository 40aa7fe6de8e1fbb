#pragma once

// The protobuf exposition format (a run of varint-length-delimited
// io.prometheus.client.MetricFamily messages, storage/metrics.proto), read
// into the samples a text body would give, as Prometheus' scraper reads it:
//
//   counter, gauge, untyped   one sample named after the family
//   summary                   <name>_count, <name>_sum, <name>{quantile="q"} per quantile
//   classic histogram         <name>_count, <name>_sum, <name>_bucket{le="b"} per bucket,
//                             le="+Inf" added (with the count) when missing
//   native histogram          one native-histogram sample named after the family
//
// A histogram is native when it has a span or a zero bucket (threshold or
// count). Integer histograms (delta-encoded bucket counts) and float ones
// (absolute counts; sample_count_float or zero_count_float set) both come out
// as FloatHistogram; empty buckets are dropped. `le` and `quantile` values
// are written as Prometheus formats floats ("1.0", "0.25", "+Inf").
// A timestamp_ms of 0 means none. Exemplars and created timestamps are not
// read.
//
// Errors name the byte offset of the message and what is wrong (a truncated
// length, a message that does not parse, an unknown metric type, a name or
// label that is empty or not UTF-8, a native histogram whose spans and
// buckets disagree or whose schema is out of range); nothing of a body with
// an error is kept.

#include <string_view>

#include "model/error.h"
#include "storage/exposition.h"

namespace vigil::storage {

// How histograms are read (a scrape job's options).
struct HistogramOptions {
  // scrape_native_histograms: off, native parts are ignored and every
  // histogram is read as a classic one.
  bool native = false;
  // always_scrape_classic_histograms: a native histogram's classic buckets
  // are read too, as classic series (when it has any).
  bool keep_classic = false;
  // convert_classic_histograms_to_nhcb: classic histograms become one
  // native histogram with custom buckets (their classic series are dropped
  // unless keep_classic).
  bool convert_nhcb = false;
};

// The media type the protobuf format is served with.
inline constexpr std::string_view kProtobufMediaType = "application/vnd.google.protobuf";

// Appends the body's samples to `out` (cleared first).
Result<void> parse_protobuf_exposition(std::string_view body, const HistogramOptions& options, ParsedBody& out);

}  // namespace vigil::storage
