#pragma once

// Alertmanager's label matchers: the classic syntax (`foo=bar`, `{a=~"b.*"}`),
// the UTF-8 syntax of Alertmanager 0.27+ (`"a b"="c"`, quoted or bare
// values), and the fallback mode Alertmanager runs in by default (UTF-8
// first, the classic parser when that fails), as in upstream's matcher/compat.
// A route, inhibition rule or silence holds its matchers as `Matchers`.

#include <string>
#include <string_view>
#include <vector>

#include "model/error.h"
#include "model/labels.h"
#include "model/matcher.h"

namespace vigil::routing {

// Which parser reads matchers and which label names are valid: Alertmanager's
// default (kFallback), `--enable-feature=classic-mode` or `utf8-strict-mode`.
enum class MatcherSyntax { kFallback, kClassic, kUtf8 };

// A conjunction of matchers, kept sorted as upstream sorts them (by name,
// then value, then type), which is also how they print.
class Matchers {
 public:
  Matchers() = default;
  explicit Matchers(std::vector<Matcher> ms);

  // All match; a missing label matches as the empty string.
  bool matches(const Labels& ls) const {
    for (const Matcher& m : ms_)
      if (!m.matches(ls.get(m.name()))) return false;
    return true;
  }
  bool empty() const { return ms_.empty(); }
  size_t size() const { return ms_.size(); }
  auto begin() const { return ms_.begin(); }
  auto end() const { return ms_.end(); }
  const std::vector<Matcher>& items() const { return ms_; }

  // `{a="b",c=~"d"}`, as amtool prints a route's matchers.
  std::string to_string() const;

 private:
  std::vector<Matcher> ms_;
};

// A matcher as Alertmanager prints it: `name="value"` with OpenMetrics
// escaping of the value, or both quoted when the name needs quoting.
std::string format_matcher(const Matcher& m);

// An Alertmanager matcher (regular expressions are fully anchored; '.' does
// not match a newline).
Result<Matcher> make_matcher(MatchType type, std::string name, std::string value);

// Parses a list of matchers (`a=b, c!~"d"`, braces optional). Errors are
// worded as upstream's parsers word them.
// In fallback mode, `warning` (when given) is set, as upstream warns, when
// the input parses only with the classic parser or when the two parsers read
// it differently (the classic reading is used then).
Result<std::vector<Matcher>> parse_matchers(std::string_view input, MatcherSyntax syntax,
                                            std::string* warning = nullptr);

// Parses exactly one matcher (no braces).
Result<Matcher> parse_matcher(std::string_view input, MatcherSyntax syntax);

// The same parsers on their own.
Result<std::vector<Matcher>> parse_classic_matchers(std::string_view input);
Result<Matcher> parse_classic_matcher(std::string_view input);
Result<std::vector<Matcher>> parse_utf8_matchers(std::string_view input);

// Label names allowed in group_by, equal and route labels: classic names in
// classic mode, any non-empty valid UTF-8 otherwise.
bool is_valid_label_name(std::string_view name, MatcherSyntax syntax);

}  // namespace vigil::routing
