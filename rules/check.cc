#include "rules/check.h"

#include <algorithm>
#include <iostream>
#include <iterator>
#include <sstream>

#include <fmt/format.h>

#include "model/names.h"

namespace vigil::rules {
namespace {

struct LintSettings {
  bool duplicate_rules = false;
};

LintSettings parse_lint(std::string_view spec, std::ostream& out) {
  LintSettings s;
  if (spec.empty()) return s;
  size_t start = 0;
  while (true) {
    size_t comma = spec.find(',', start);
    std::string_view item = spec.substr(start, comma == std::string_view::npos ? spec.npos : comma - start);
    if (item == "all" || item == "duplicate-rules") {
      s.duplicate_rules = true;
    } else if (item != "none") {
      out << "WARNING: unknown lint option: " << go_quote(item) << "\n";
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return s;
}

// promtool's lint report: one message, its first line prefixed "lint error".
std::string duplicates_message(const std::vector<DuplicateRule>& dups) {
  std::string m = fmt::format("lint error {} duplicate rule(s) found.\n", dups.size());
  for (const auto& d : dups) {
    m += fmt::format("Metric: {}\nLabel(s):\n", d.name);
    for (const LabelView l : d.labels) m += fmt::format("\t{}: {}\n", l.name, l.value);
  }
  m += "Might cause inconsistency while recording expressions";
  return m;
}

struct FileOutcome {
  bool failed = false;      // errors or lint findings
  bool has_errors = false;  // errors proper
};

FileOutcome check_content(const std::string& display, const LoadResult& r, const LintSettings& lint,
                          std::ostream& out, std::ostream& err) {
  FileOutcome o;
  if (!r.ok()) {
    err << "  FAILED:\n";
    for (const std::string& e : format_errors(r.errors)) {
      // Read errors already name the file (as Go's do); promtool prints the
      // file name again in front, and so do we. Standard input gets no prefix.
      if (!display.empty()) err << display << ": ";
      err << e << "\n";
    }
    err.flush();
    // promtool moves straight on to the next file after errors: no blank line.
    return {true, true};
  }
  if (lint.duplicate_rules) {
    auto dups = find_duplicate_rules(r.file);
    if (!dups.empty()) {
      err << "  FAILED:\n" << duplicates_message(dups) << "\n";
      err.flush();
      out << "\n";
      return {true, false};
    }
  }
  out << "  SUCCESS: " << r.file.rule_count() << " rules found\n\n";
  return o;
}

}  // namespace

void enable_features(std::string_view features, CheckRulesOptions& opts, std::ostream& err) {
  size_t start = 0;
  while (start <= features.size()) {
    size_t comma = features.find(',', start);
    if (comma == std::string_view::npos) comma = features.size();
    std::string_view f = features.substr(start, comma - start);
    start = comma + 1;
    if (f.empty()) continue;
    if (f == "promql-experimental-functions") {
      opts.load.promql.experimental_functions = true;
    } else if (f == "promql-delayed-name-removal" || f == "promql-duration-expr" ||
               f == "promql-extended-range-selectors" || f == "promql-binop-fill-modifiers") {
      err << "  WARNING: feature " << f << " is not supported by vigil yet and has no effect\n";
    } else {
      err << "  WARNING: Unknown feature passed to --enable-feature: " << f << "\n";
    }
  }
}

std::vector<DuplicateRule> find_duplicate_rules(const RuleFile& file) {
  std::vector<DuplicateRule> all;
  for (const RuleGroup& g : file.groups) {
    for (const Rule& r : g.rules) {
      LabelsBuilder b(Labels(g.labels));
      for (const Label& l : r.labels) b.set(l.name, l.value);
      all.push_back({r.name, b.build(), r.position});
    }
  }
  auto less = [](const DuplicateRule& a, const DuplicateRule& b) {
    if (a.name != b.name) return a.name < b.name;
    return a.labels < b.labels;
  };
  auto same = [](const DuplicateRule& a, const DuplicateRule& b) {
    return a.name == b.name && a.labels == b.labels;
  };
  std::stable_sort(all.begin(), all.end(), less);
  std::vector<DuplicateRule> dups;
  for (size_t i = 1; i < all.size(); ++i) {
    if (same(all[i - 1], all[i]) && (dups.empty() || !same(dups.back(), all[i])))
      dups.push_back(all[i]);
  }
  return dups;
}

std::vector<Finding> load_error_findings(const std::string& path, const LoadResult& r) {
  std::vector<Finding> out;
  for (const LoadError& e : r.errors) {
    // The text starts with "line:col: " when the error has a position;
    // the finding carries those separately.
    std::string text = e.text;
    std::string prefix = fmt::format("{}:{}: ", e.line, e.column);
    if (e.line && text.starts_with(prefix)) text = text.substr(prefix.size());
    out.push_back({path, e.line, e.column, "rules/load", Severity::kBug, std::move(text)});
  }
  return out;
}

std::vector<Finding> duplicate_findings(const std::string& path, const RuleFile& file) {
  std::vector<Finding> out;
  for (const auto& d : find_duplicate_rules(file)) {
    std::string labels;
    for (const LabelView l : d.labels) {
      labels += fmt::format("{}{}={}", labels.empty() ? "" : ", ", l.name, go_quote(l.value));
    }
    out.push_back({path, d.position.line, d.position.column, "rules/duplicate-rules", Severity::kBug,
                   fmt::format("{}{{{}}} is defined more than once: the rules overwrite each other's "
                               "results",
                               d.name, labels)});
  }
  return out;
}

namespace {

// A file, or standard input for "-".
LoadResult load_input(const std::string& f, const LoadOptions& load, std::istream& in) {
  if (f != "-") return load_rule_file(f, load);
  std::string content{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  return parse_rule_file(content, load);
}

int check_rules_findings(const std::vector<std::string>& inputs, const CheckRulesOptions& opts,
                         const LintSettings& lint, std::istream& in, std::ostream& out) {
  std::vector<Finding> findings;
  bool has_errors = false, lint_found = false;
  for (const std::string& f : inputs) {
    const bool stdin_input = f == "-";
    LoadResult r = load_input(f, opts.load, in);
    std::string display = stdin_input ? "<stdin>" : f;
    if (!r.ok()) {
      has_errors = true;
      auto more = load_error_findings(display, r);
      findings.insert(findings.end(), more.begin(), more.end());
    } else if (lint.duplicate_rules) {
      auto more = duplicate_findings(display, r.file);
      lint_found = lint_found || !more.empty();
      findings.insert(findings.end(), more.begin(), more.end());
    }
  }
  std::vector<std::string> checked;
  for (const auto& f : inputs) checked.push_back(f == "-" ? "<stdin>" : f);
  write_findings(out, opts.format, std::move(findings), checked, "vigil check rules");
  out.flush();
  if (has_errors) return kExitFailure;
  if (lint_found && opts.lint_fatal) return kExitLint;
  return kExitSuccess;
}

}  // namespace

int check_rules(const std::vector<std::string>& files, const CheckRulesOptions& opts,
                std::istream& in, std::ostream& out, std::ostream& err) {
  LintSettings lint = parse_lint(opts.lint, opts.format == FindingFormat::kText ? out : err);
  std::vector<std::string> inputs = files;
  if (inputs.empty()) inputs.push_back("-");
  if (opts.format != FindingFormat::kText) return check_rules_findings(inputs, opts, lint, in, out);

  bool failed = false, has_errors = false;
  for (const std::string& f : inputs) {
    const bool stdin_input = f == "-";
    out << "Checking " << (stdin_input ? "standard input" : f) << "\n";
    out.flush();
    LoadResult r = load_input(f, opts.load, in);
    if (r.multiple_documents) {
      err << "WARNING: multiple document YAML rule files are not supported, only the first "
             "document is processed\n";
    }
    FileOutcome o = check_content(stdin_input ? "" : f, r, lint, out, err);
    failed = failed || o.failed;
    has_errors = has_errors || o.has_errors;
  }
  out.flush();
  if (failed && has_errors) return kExitFailure;
  if (failed && opts.lint_fatal) return kExitLint;
  return kExitSuccess;
}

}  // namespace vigil::rules
