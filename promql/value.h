#pragma once

// What a PromQL query returns: a scalar, a string, an instant vector or a
// range vector (matrix), plus the annotations (warnings and infos) upstream
// attaches to results.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "model/histogram.h"
#include "model/labels.h"
#include "promql/ast.h"

namespace vigil::promql {

struct Scalar {
  double value = 0;
  int64_t t = 0;
};

struct String {
  std::string value;
  int64_t t = 0;
};

// One element of an instant vector: a float, or a native histogram when `h`
// is set (`value` is then meaningless).
struct Sample {
  Labels labels;
  double value = 0;
  int64_t t = 0;
  HistogramPtr h = nullptr;
};
using Vector = std::vector<Sample>;

// One series of a range vector: parallel timestamp (ms) and value arrays.
// `h` is empty when every point is a float; otherwise it runs parallel to `t`
// and a set entry makes that point a native histogram.
struct RangeSeries {
  Labels labels;
  std::vector<int64_t> t;
  std::vector<double> v;
  std::vector<HistogramPtr> h = {};
};
using Matrix = std::vector<RangeSeries>;

using Value = std::variant<Scalar, String, Vector, Matrix>;

enum class AnnotationKind { kWarning, kInfo };

// A warning or info about a query result, pointing at the part of the query
// it concerns.
struct Annotation {
  AnnotationKind kind = AnnotationKind::kWarning;
  std::string message;  // e.g. "PromQL info: metric might not be a counter, ..."
  PosRange pos;
};

// A set of annotations: each distinct message is kept once, in first-seen order.
class Annotations {
 public:
  void add(AnnotationKind kind, std::string message, PosRange pos);
  void merge(const Annotations& other);

  const std::vector<Annotation>& items() const { return items_; }
  bool empty() const { return items_.empty(); }
  size_t count(AnnotationKind kind) const;

  // Messages with their position in `query` appended as " (LINE:COL)", as
  // upstream reports them.
  std::vector<std::string> strings(AnnotationKind kind, std::string_view query) const;

 private:
  std::vector<Annotation> items_;
};

}  // namespace vigil::promql
