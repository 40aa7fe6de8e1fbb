#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "model/error.h"

namespace re2 {
class RE2;
}

namespace vigil {

enum class MatchType { kEqual, kNotEqual, kRegex, kNotRegex };

// "=", "!=", "=~", "!~".
std::string_view match_type_string(MatchType t);

// A label matcher. Regular expressions are RE2 (Go syntax) and fully anchored.
// Prometheus lets '.' match newlines in matchers, Alertmanager does not: the
// dialect picks which.
class Matcher {
 public:
  enum class Dialect { kPrometheus, kAlertmanager };

  static Result<Matcher> make(MatchType type, std::string name, std::string value,
                              Dialect dialect = Dialect::kPrometheus);

  MatchType type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }

  // A missing label is matched as the empty string.
  bool matches(std::string_view v) const;

  // name="value", with the name quoted when it is not a classic name.
  std::string to_string() const;

  bool operator==(const Matcher& o) const {
    return type_ == o.type_ && name_ == o.name_ && value_ == o.value_;
  }

 private:
  MatchType type_ = MatchType::kEqual;
  std::string name_;
  std::string value_;
  std::shared_ptr<const re2::RE2> re_;
};

}  // namespace vigil
