#pragma once

// The Prometheus rule-file format (upstream docs/configuration/recording_rules.md
// and alerting_rules.md) and its loader, with promtool's validations.
//
// The rule manager loads a file with load_rule_file(path); when ok(), each
// RuleGroup gives its interval/limit/query_offset/labels and its rules in
// evaluation order, each with the parsed expression, for/keep_firing_for and
// label/annotation templates. Groups are identified by (path, name).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/duration.h"
#include "model/labels.h"
#include "promql/ast.h"
#include "promql/parser.h"

namespace vigil::rules {

// 1-based line and column in the rule file; 0 when unknown.
struct Position {
  int line = 0;
  int column = 0;
};

// One alerting or recording rule, as written.
struct Rule {
  enum class Kind { Alerting, Recording };
  Kind kind = Kind::Recording;
  std::string name;  // the `alert` or `record` value
  std::string expr;  // the PromQL text, unchanged
  // The parsed expression; set whenever `expr` parsed (always, when the
  // file loaded without errors). Shared so that RuleFile stays copyable.
  std::shared_ptr<const promql::Expr> parsed;
  Millis for_duration = 0;     // alerting rules only
  Millis keep_firing_for = 0;  // alerting rules only
  // In file order. Values are templates for alerting rules (rendered later).
  std::vector<Label> labels;
  std::vector<Label> annotations;  // alerting rules only
  // Where each label / annotation key is written, parallel to the vectors above.
  std::vector<Position> label_positions;
  std::vector<Position> annotation_positions;

  Position position;       // the rule's mapping (the first key of its `- ` item)
  // The start of the `expr` value (for a block scalar, its `|` or `>`), the
  // position promtool prints; PromQL error positions are relative to the text.
  Position expr_position;

  bool is_alert() const { return kind == Kind::Alerting; }
};

// Rules evaluated one after another at the group's interval.
struct RuleGroup {
  std::string name;
  std::optional<Millis> interval;      // unset: the global evaluation_interval
  std::optional<Millis> query_offset;  // unset: the global rule_query_offset
  int64_t limit = 0;                   // 0: no limit on alerts/series per rule
  std::vector<Label> labels;           // added to every rule's result; rule labels win
  std::vector<Rule> rules;             // in file order
  Position position;
};

struct RuleFile {
  std::string path;               // as given to load_rule_file; empty for parse_rule_file
  std::vector<RuleGroup> groups;  // in file order
  size_t rule_count() const;
};

// A problem with a rule file. `text` is what promtool prints for it after the
// "FILE: " prefix; `line`/`column` locate it (0 when the error is about the
// file as a whole, such as an unreadable file).
struct LoadError {
  enum class Kind {
    Read,       // the file could not be read
    Syntax,     // not YAML
    Structure,  // YAML of the wrong shape: type mismatch, unknown field, bad duration
    Invalid,    // well-formed but rejected: bad name, missing expr, parse error, ...
  };
  Kind kind = Kind::Invalid;
  std::string text;
  int line = 0;
  int column = 0;
};

struct LoadOptions {
  // promtool's --ignore-unknown-fields: extra keys in groups and rules are
  // accepted (for custom metadata) instead of being errors.
  bool ignore_unknown_fields = false;
  promql::ParseOptions promql;
};

struct LoadResult {
  RuleFile file;                  // complete only when errors is empty
  std::vector<LoadError> errors;  // every problem found, in file order
  bool multiple_documents = false;  // only the first YAML document was read
  bool ok() const { return errors.empty(); }
};

// Decodes and validates rule-file content. All errors are collected; nothing
// throws. Label and annotation templates of alerting rules are parsed as
// Prometheus parses them, and syntax errors reported in Go's words.
LoadResult parse_rule_file(std::string_view content, const LoadOptions& opts = {});

// Reads `path` and parses it; an unreadable path (missing, a directory, no
// permission) gives one Read error worded like Go's os.ReadFile.
LoadResult load_rule_file(const std::string& path, const LoadOptions& opts = {});


// The error lines promtool prints for a file (without the "FILE: " prefix):
// Structure errors are gathered into one "yaml: unmarshal errors:" block as
// Go's yaml reports them; the rest one entry each.
std::vector<std::string> format_errors(const std::vector<LoadError>& errors);

}  // namespace vigil::rules
