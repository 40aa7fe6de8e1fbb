#pragma once

// Relabeling as Prometheus does it: an ordered list of rules that rewrite a
// label set (a target's before it is scraped, each scraped sample's before it
// is stored, each alert's before it is sent) or drop it altogether.
//
// A rule reads the values of `source_labels` joined with `separator`, matches
// them against `regex` (RE2, fully anchored, '.' matching newlines), and acts:
//   replace    target_label (expanded) := replacement (expanded); no match: no-op
//   keep/drop  drop the set unless / when the joined value matches
//   keepequal/dropequal  drop unless / when the joined value equals target_label's
//   hashmod    target_label := md5(joined) mod modulus
//   labelmap   copy every label whose name matches to the expanded replacement
//   labeldrop/labelkeep  remove labels whose name matches / does not match
//   lowercase/uppercase  target_label := the joined value, case-mapped
// Expansion follows Go's Regexp.Expand: `$1`, `${1}`, `$name`, `${name}`, `$$`;
// a bare name takes every letter, digit and underscore after the `$`, so
// `$1x` is the (usually missing, hence empty) group named "1x".

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/error.h"
#include "model/labels.h"
#include "model/yaml.h"

namespace re2 {
class RE2;
}

namespace vigil::config {

enum class RelabelAction {
  kReplace, kKeep, kDrop, kKeepEqual, kDropEqual, kHashMod,
  kLabelMap, kLabelDrop, kLabelKeep, kLowercase, kUppercase,
};

// "replace", "keep", ... as written in configuration files.
std::string_view relabel_action_name(RelabelAction a);

// Which label names a rule may produce: any non-empty UTF-8 (Prometheus 3.x's
// default) or only [a-zA-Z_][a-zA-Z0-9_]*.
enum class NameValidation { kUtf8, kLegacy };

struct RelabelConfig {
  RelabelAction action = RelabelAction::kReplace;
  std::vector<std::string> source_labels;
  std::string separator = ";";
  std::string regex = "(.*)";  // as written, without the anchors
  bool regex_set = false;      // written in the file (even when equal to the default)
  uint64_t modulus = 0;
  std::string target_label;
  std::string replacement = "$1";
  int line = 0;  // where the rule was written; 0 when built in code
  int column = 0;
  // The names replace may write (an expanded target_label that is not a
  // valid name leaves the set alone); set by compile().
  NameValidation names = NameValidation::kUtf8;

  // Checks the combination of fields as upstream does and compiles the regex.
  // Must succeed before the rule is applied.
  Result<void> compile(NameValidation names = NameValidation::kUtf8);
  bool compiled() const { return re_ != nullptr; }
  const re2::RE2& re() const { return *re_; }

 private:
  std::shared_ptr<const re2::RE2> re_;
};

// Decodes one rule (a YAML mapping) and compiles it. Unknown fields, values
// of the wrong type, bad regexes and invalid combinations are errors at the
// offending node's line and column.
Result<RelabelConfig> parse_relabel_config(const YamlDocument& doc, const YamlNode& node,
                                           NameValidation names = NameValidation::kUtf8);

// Decodes a YAML sequence of rules (null: none). A null item is an error, as
// upstream's "empty or null ... relabeling rule".
Result<std::vector<RelabelConfig>> parse_relabel_configs(const YamlDocument& doc, const YamlNode& node,
                                                         NameValidation names = NameValidation::kUtf8);

// Applies rules in order (rules never compiled are skipped); nullopt when a
// rule dropped the set.
std::optional<Labels> relabel(const Labels& in, std::span<const RelabelConfig> rules);

// Go's Regexp.Expand of `tmpl` for a match of `re` whose submatches are
// `groups` (groups[0] is the whole match; an empty view with a null data
// pointer is a group that did not take part).
std::string expand_template(const re2::RE2& re, std::string_view tmpl, std::span<const std::string_view> groups);

}  // namespace vigil::config
