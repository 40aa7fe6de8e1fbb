#pragma once

// Runs PromQL test scripts (upstream promql/promqltest/README.md) against the
// engine: `load` fills a fresh in-memory store, `clear` empties it, and every
// `eval` is checked exactly as upstream's runner checks it — the instant query
// itself, the same query with every selector pinned by `@` at several times,
// and the query in range mode around the evaluation time.
//
// Native histograms load with the series notation ({{...}}), and load_with_nhcb
// also stores each classic histogram as a custom-buckets native one; expected
// histograms compare bucket by bucket as upstream's runner does.

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "model/error.h"
#include "promql/engine.h"

namespace vigil::promql::script {

struct EvalReport {
  enum class Status { kPassed, kFailed, kSkipped };
  Status status = Status::kPassed;
  int line = 0;
  std::string expr;
  std::string message;  // why it failed or was skipped
};

struct FileReport {
  std::string path;
  std::vector<EvalReport> evals;
  int passed() const;
  int failed() const;
  int skipped() const;
};

// Runs one script. Fails only when the script itself cannot be read.
Result<FileReport> run_script(std::string_view text, std::string path,
                              const EngineOptions& opts = {});

}  // namespace vigil::promql::script
