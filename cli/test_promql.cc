// vigil test promql: runs PromQL test scripts against vigil's engine.
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "model/file.h"
#include "promql/test_runner.h"

namespace vigil::cli {
namespace {

struct Options {
  std::vector<std::string> files;
  int min_passed = -1;
  bool quiet = false;
};

int run(const Options& o) {
  int passed = 0, failed = 0, skipped = 0;
  bool unreadable = false;
  for (const auto& path : o.files) {
    auto text = read_file(path);
    if (!text) {
      fmt::print(stderr, "{}\n", text.error().message);
      unreadable = true;
      continue;
    }
    auto report = promql::script::run_script(*text, path);
    if (!report) {
      const auto& e = report.error();
      fmt::print(stderr, "{}:{}: {}\n", path, e.line, e.message);
      unreadable = true;
      continue;
    }
    for (const auto& ev : report->evals) {
      using S = promql::script::EvalReport::Status;
      if (ev.status == S::kFailed) {
        fmt::print("FAIL {}:{}: {}\n     {}\n", path, ev.line, ev.expr, ev.message);
      } else if (ev.status == S::kSkipped && !o.quiet) {
        fmt::print("SKIP {}:{}: {} ({})\n", path, ev.line, ev.expr, ev.message);
      }
    }
    fmt::print("{}: {} passed, {} failed, {} skipped\n", path, report->passed(), report->failed(),
               report->skipped());
    passed += report->passed();
    failed += report->failed();
    skipped += report->skipped();
  }
  fmt::print("{} passed, {} failed, {} skipped\n", passed, failed, skipped);
  if (unreadable) return 1;
  if (o.min_passed >= 0) return passed >= o.min_passed ? 0 : 1;
  return failed == 0 ? 0 : 1;
}

}  // namespace

void register_test_promql(CLI::App& test, int* exit_code) {
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = test.add_subcommand(
      "promql",
      "Run PromQL test scripts (the promqltest format: load, clear, eval with expect lines) "
      "against vigil's engine, native histograms included.");
  cmd->add_option("files", opts->files, "Test script files")->required()->check(CLI::ExistingFile);
  cmd->add_option("--min-passed", opts->min_passed,
                  "Succeed when at least this many evals pass (for tracking a corpus), instead of "
                  "requiring every eval to pass");
  cmd->add_flag("-q,--quiet", opts->quiet, "Do not list skipped evals");
  cmd->callback([opts, exit_code] { *exit_code = run(*opts); });
}

}  // namespace vigil::cli
