#pragma once

// The PromQL test-script language (upstream promql/promqltest/README.md):
// `load`, `clear` and `eval` commands with their expectations. This file only
// reads the script; series lines are kept as text for the series-description
// parser, and the runner executes the commands against an engine.

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "model/duration.h"
#include "model/error.h"

namespace vigil::promql::script {

// A line of the script, trimmed, with its 1-based number.
struct Line {
  int number = 0;
  std::string text;
};

struct Load {
  int line = 0;
  Millis interval = 0;
  bool with_nhcb = false;           // load_with_nhcb: also load classic histograms as native ones
  std::vector<Line> series;         // "metric{labels} values..."
  std::vector<Line> start_times;    // "@st metric{labels} values..." (start-timestamp lines)
};

struct Clear {
  int line = 0;
};

enum class ExpectKind { kFail, kWarn, kNoWarn, kInfo, kNoInfo, kOrdered };
enum class MessageMatch { kAny, kExact, kRegex };

struct Expect {
  ExpectKind kind = ExpectKind::kFail;
  MessageMatch match = MessageMatch::kAny;
  std::string text;  // the message or regular expression
};

struct Eval {
  int line = 0;
  std::string expr;
  bool range = false;
  Millis at = 0;                        // instant queries
  Millis start = 0, end = 0, step = 0;  // range queries
  std::vector<Expect> expects;
  // Expected results: a scalar, a string literal (still quoted), or series.
  std::optional<double> scalar;
  std::optional<std::string> quoted_string;
  // `expect range vector from A to B step S`: an instant query returning a matrix.
  bool range_vector = false;
  Millis rv_start = 0, rv_end = 0, rv_step = 0;
  std::vector<Line> series;

  bool has(ExpectKind k) const;
};

using Command = std::variant<Load, Clear, Eval>;

// Reads a whole script. Errors name the line and what was expected.
Result<std::vector<Command>> parse(std::string_view text);

// Go's strconv.ParseInt(s, 0, 64), falling back to ParseFloat, as the script
// reads a scalar result.
std::optional<double> parse_number(std::string_view s);

}  // namespace vigil::promql::script
