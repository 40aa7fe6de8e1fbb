#pragma once

// Reads a native histogram from a Prometheus query answer ("histogram" /
// "histograms" fields: count, sum and [boundary rule, lower, upper, count]
// buckets). The answer carries bounds, not the schema: a layout whose
// buckets all span one power-of-two ratio 2^(2^-s) reads back as exponential
// schema s (with the zero bucket as [-t, t]); any other layout as custom
// buckets whose upper bounds are the buckets' own.

#include <nlohmann/json.hpp>

#include "model/error.h"
#include "model/histogram.h"
#include "rules/evaluation.h"

namespace vigil::rules {

Result<FloatHistogram> histogram_from_json(const nlohmann::json& j);

// One series of a matrix answer (defined in rules/remote_query.cc, beside the
// answer's other readers): its float points
// ("values") and native histogram points ("histograms"), either or both,
// merged in time order. Fails on points out of order, a histogram it cannot
// read; throws nlohmann::json's exceptions on a body of the wrong shape.
Result<RemoteSeries> remote_series_from_json(const nlohmann::json& series);

}  // namespace vigil::rules
