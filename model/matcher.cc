#include "model/matcher.h"

#include <re2/re2.h>

#include "model/names.h"

namespace vigil {

std::string_view match_type_string(MatchType t) {
  switch (t) {
    case MatchType::kEqual: return "=";
    case MatchType::kNotEqual: return "!=";
    case MatchType::kRegex: return "=~";
    case MatchType::kNotRegex: return "!~";
  }
  return "=";
}

Result<Matcher> Matcher::make(MatchType type, std::string name, std::string value,
                              Dialect dialect) {
  Matcher m;
  m.type_ = type;
  m.name_ = std::move(name);
  m.value_ = std::move(value);
  if (type == MatchType::kRegex || type == MatchType::kNotRegex) {
    RE2::Options opts;
    opts.set_log_errors(false);
    std::string pattern =
        (dialect == Dialect::kPrometheus ? "(?s:" : "(?:") + m.value_ + ")";
    auto re = std::make_shared<RE2>(pattern, opts);
    if (!re->ok()) {
      return fail("error parsing regexp: " + re->error());
    }
    m.re_ = std::move(re);
  }
  return m;
}

bool Matcher::matches(std::string_view v) const {
  switch (type_) {
    case MatchType::kEqual: return v == value_;
    case MatchType::kNotEqual: return v != value_;
    case MatchType::kRegex: return RE2::FullMatch(v, *re_);
    case MatchType::kNotRegex: return !RE2::FullMatch(v, *re_);
  }
  return false;
}

std::string Matcher::to_string() const {
  std::string out = is_legacy_label_name(name_) ? name_ : go_quote(name_);
  out += match_type_string(type_);
  out += go_quote(value_);
  return out;
}

}  // namespace vigil
