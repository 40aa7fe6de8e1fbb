// Parses every expression of the upstream promqltest corpus
// (../shared/conformance/promql/*.test) and round-trips it through the printer.
//
// Which failures are parse-time: upstream's test loader parses each eval
// expression while loading the file and aborts the whole file on a parse
// error, so an expected failure ("expect fail", eval_fail) in a corpus file
// that upstream runs green is an evaluation-time failure and the expression
// must parse. Only an expected message that is itself a parse error (it
// contains "parse error") would count as a parse-time failure we must
// reproduce.

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "promql/parser.h"
#include "promql/printer.h"
#include "tests/shared_corpus.h"

namespace {

namespace fs = std::filesystem;
using namespace vigil::promql;

struct EvalCase {
  int line;
  std::string expr;
  bool expect_parse_error = false;
  bool expect_fail = false;
};

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t\r");
  auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<EvalCase> read_cases(const fs::path& p) {
  static const RE2 instant(R"(^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$)");
  static const RE2 range(R"(^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$)");
  static const RE2 expect(R"(^expect\s+fail(?:\s+(regex|msg):(.+))?$)");
  static const RE2 old_expect(R"(^expected_fail_(message|regexp)\s+(.+)$)");
  std::ifstream in(p);
  std::vector<EvalCase> out;
  std::string raw;
  int lineno = 0;
  EvalCase* current = nullptr;
  while (std::getline(in, raw)) {
    ++lineno;
    std::string l = trim(raw);
    if (l.empty()) {
      current = nullptr;
      continue;
    }
    std::string mod, at, from, to, step, expr, kind, msg;
    if (RE2::FullMatch(l, instant, &mod, &at, &expr) || RE2::FullMatch(l, range, &mod, &from, &to, &step, &expr)) {
      out.push_back(EvalCase{lineno, expr, false, mod == "fail"});
      current = &out.back();
      continue;
    }
    if (!current) continue;
    if (RE2::FullMatch(l, expect, &kind, &msg) || RE2::FullMatch(l, old_expect, &kind, &msg)) {
      current->expect_fail = true;
      if (msg.find("parse error") != std::string::npos) current->expect_parse_error = true;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("promql corpus: every eval expression parses and round-trips") {
  VIGIL_NEEDS_SHARED();
  fs::path dir = fs::path(VIGIL_SHARED_DIR) / "conformance" / "promql";
  REQUIRE_MESSAGE(fs::is_directory(dir), "corpus not found at " << dir.string());
  std::vector<fs::path> files;
  for (const auto& f : fs::directory_iterator(dir))
    if (f.path().extension() == ".test") files.push_back(f.path());
  std::sort(files.begin(), files.end());
  REQUIRE(!files.empty());

  int total_exprs = 0, total_parsed = 0, total_rejected = 0, total_expect_fail = 0, total_mismatch = 0,
      total_roundtrip = 0;
  for (const auto& file : files) {
    int parsed = 0, rejected = 0, expect_fail = 0, mismatch = 0, roundtrip = 0;
    auto cases = read_cases(file);
    for (const auto& c : cases) {
      auto r = parse_expr(c.expr);
      std::string where = fmt::format("{}:{}: {}", file.filename().string(), c.line, c.expr);
      if (c.expect_fail) ++expect_fail;
      if (c.expect_parse_error) {
        if (r) {
          ++mismatch;
          FAIL_CHECK(where << ": expected a parse error");
        } else {
          ++rejected;
        }
        continue;
      }
      if (!r) {
        ++mismatch;
        FAIL_CHECK(where << ": " << format_parse_error(r.error()));
        continue;
      }
      ++parsed;
      std::string printed = to_string(**r);
      auto again = parse_expr(printed);
      if (!again) {
        ++mismatch;
        FAIL_CHECK(where << ": printed form does not parse: " << printed << ": " << format_parse_error(again.error()));
        continue;
      }
      if (!equal(**r, **again) || to_string(**again) != printed) {
        ++mismatch;
        FAIL_CHECK(where << ": round trip changed the tree: " << printed << " -> " << to_string(**again));
        continue;
      }
      ++roundtrip;
    }
    fmt::print("{:<28} exprs {:4}  parsed {:4}  round-tripped {:4}  expected-fail(run time) {:3}  "
               "expected parse errors rejected {:2}  mismatches {}\n",
               file.filename().string(), cases.size(), parsed, roundtrip, expect_fail, rejected, mismatch);
    total_exprs += static_cast<int>(cases.size());
    total_parsed += parsed;
    total_rejected += rejected;
    total_expect_fail += expect_fail;
    total_mismatch += mismatch;
    total_roundtrip += roundtrip;
  }
  fmt::print("TOTAL: {} files, {} expressions, {} parsed, {} round-tripped, {} expected to fail at run time, "
             "{} expected parse errors rejected, {} mismatches\n",
             files.size(), total_exprs, total_parsed, total_roundtrip, total_expect_fail, total_rejected,
             total_mismatch);
  CHECK(total_mismatch == 0);
  CHECK(total_exprs > 1000);
}

TEST_CASE("mutated corpus expressions never crash and round-trip when accepted") {
  VIGIL_NEEDS_SHARED();
  // Deterministic mutations (truncate, delete, duplicate, insert a token
  // character) of every corpus expression: the parser must either reject the
  // result or produce a tree that prints back to an equal tree.
  fs::path dir = fs::path(VIGIL_SHARED_DIR) / "conformance" / "promql";
  REQUIRE(fs::is_directory(dir));
  std::vector<std::string> exprs;
  for (const auto& f : fs::directory_iterator(dir))
    if (f.path().extension() == ".test")
      for (auto& c : read_cases(f.path())) exprs.push_back(c.expr);
  std::sort(exprs.begin(), exprs.end());
  static const std::string alphabet = "()[]{}\"'`,:=!~+-*/%^<>@#0123456789.eExXsmhdwy_ \n\\aAzZ";
  uint64_t rng = 0x9E3779B97F4A7C15ull;
  auto next = [&] {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
  };
  int accepted = 0, rejected = 0;
  for (const auto& e : exprs) {
    for (int k = 0; k < 8; ++k) {
      std::string m = e;
      size_t at = m.empty() ? 0 : next() % m.size();
      switch (next() % 4) {
        case 0: m = m.substr(0, at); break;
        case 1: if (!m.empty()) m.erase(at, 1); break;
        case 2: m.insert(at, m.substr(at, 1 + next() % 4)); break;
        default: m.insert(at, 1, alphabet[next() % alphabet.size()]); break;
      }
      auto r = parse_expr(m);
      if (!r) {
        ++rejected;
        CHECK_MESSAGE(!r.error().message.empty(), m);
        CHECK_MESSAGE(r.error().line >= 1, m);
        continue;
      }
      ++accepted;
      std::string printed = to_string(**r);
      auto again = parse_expr(printed);
      if (!again) {
        FAIL_CHECK(m << " printed as " << printed << " which fails: " << format_parse_error(again.error()));
        continue;
      }
      CHECK_MESSAGE(equal(**r, **again), m << " -> " << printed << " -> " << to_string(**again));
    }
  }
  fmt::print("mutations: {} accepted and round-tripped, {} rejected\n", accepted, rejected);
  CHECK(accepted > 1000);
  CHECK(rejected > 1000);
}
