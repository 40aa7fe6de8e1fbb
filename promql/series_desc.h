#pragma once

// Series descriptions of the promqltest `load` command and of promtool's
// `input_series`: `metric{label="value"} 1+2x3 _ stale`, the expanding notation
// of upstream's docs/configuration/unit_testing_rules.md.

#include <string_view>
#include <vector>

#include "model/error.h"
#include "model/histogram.h"
#include "model/labels.h"

namespace vigil::promql {

struct SequenceValue {
  double value = 0;
  bool omitted = false;  // "_": no sample at this step
  // A native histogram ({{...}}) instead of a float; hint_set: the notation
  // named its counter_reset_hint (expected results compare it only then).
  HistogramPtr histogram = nullptr;
  bool hint_set = false;
};

struct SeriesDesc {
  Labels labels;
  std::vector<SequenceValue> values;
};

// Expands the value list: `a` one value; `axn` n+1 copies; `a+bxn` / `a-bxn`
// n+1 values by repeated addition (so float rounding matches upstream);
// `_` one gap, `_xn` n gaps; `stale` a stale marker. Numbers are PromQL number
// literals (decimal, hex, exponent, Inf, NaN) or durations in seconds.
// Native histograms: `{{schema:0 sum:5 count:4 z_bucket:1 z_bucket_w:0.001
// offset:1 buckets:[1 2 1] n_offset:0 n_buckets:[1] custom_values:[1 2]
// counter_reset_hint:gauge}}`, repeated with `{{...}}xn`, or expanded with
// `{{a}}+{{b}}xn` / `{{a}}-{{b}}xn` by histogram addition. Errors carry the
// 1-based column in `text`.
Result<std::vector<SequenceValue>> parse_series_values(std::string_view text);

// Parses `metric{labels} values...`; the metric part is read with the PromQL
// parser, so quoted UTF-8 names work as in queries.
Result<SeriesDesc> parse_series_desc(std::string_view text);

}  // namespace vigil::promql
