#include "promql/literals.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "model/names.h"
#include "model/quote.h"
#include "promql/parser.h"

namespace vigil::promql {

namespace {

// Go's rule for digit separators: each '_' sits between two digits (a base
// prefix counts as a digit).
bool underscores_ok(std::string_view s) {
  enum { kStart, kDigit, kUnderscore, kOther } saw = kStart;
  size_t i = 0;
  bool hex = false;
  if (s.size() >= 2 && s[0] == '0') {
    char p = static_cast<char>(std::tolower(static_cast<unsigned char>(s[1])));
    if (p == 'x' || p == 'o' || p == 'b') {
      i = 2;
      saw = kDigit;
      hex = p == 'x';
    }
  }
  for (; i < s.size(); ++i) {
    char c = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
    if ((c >= '0' && c <= '9') || (hex && c >= 'a' && c <= 'f')) {
      saw = kDigit;
    } else if (c == '_') {
      if (saw != kDigit) return false;
      saw = kUnderscore;
    } else {
      if (saw == kUnderscore) return false;
      saw = kOther;
    }
  }
  return saw != kUnderscore;
}

std::string strip_underscores(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c != '_') out += c;
  return out;
}

}  // namespace

// Go's strconv.ParseInt(s, 0, 64), falling back to ParseFloat, as upstream.
Result<double> parse_number(std::string_view text) {
  std::string lowered;
  for (char c : text) lowered += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lowered == "inf" || lowered == "+inf" || lowered == "infinity") return std::numeric_limits<double>::infinity();
  if (lowered == "nan") return std::numeric_limits<double>::quiet_NaN();
  bool has_underscore = text.find('_') != std::string_view::npos;
  if (has_underscore && !underscores_ok(text))
    return fail(fmt::format("strconv.ParseFloat: parsing {}: invalid syntax", go_quote(text)));
  std::string s = strip_underscores(text);
  // Integer forms: 0x.., 0o.., 0b.., 0... (octal), decimal.
  int base = 10;
  size_t skip = 0;
  if (s.size() > 1 && s[0] == '0') {
    char p = static_cast<char>(std::tolower(static_cast<unsigned char>(s[1])));
    if (p == 'x') base = 16, skip = 2;
    else if (p == 'o') base = 8, skip = 2;
    else if (p == 'b') base = 2, skip = 2;
    else base = 8, skip = 1;
  }
  std::string digits = s.substr(skip);
  bool int_ok = !digits.empty();
  for (char c : digits) {
    int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
            : std::isxdigit(static_cast<unsigned char>(c)) ? std::tolower(c) - 'a' + 10
                                                            : 99;
    if (d >= base) int_ok = false;
  }
  if (int_ok) {
    errno = 0;
    char* end = nullptr;
    long long v = std::strtoll(digits.c_str(), &end, base);
    if (errno == 0 && *end == '\0') return static_cast<double>(v);
  }
  // Go's ParseFloat wants a 'p' exponent in hex floats, which the lexer never
  // produces, so prefixed numbers that are not integers are errors.
  if (skip == 2) return fail(fmt::format("strconv.ParseFloat: parsing {}: invalid syntax", go_quote(text)));
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0')
    return fail(fmt::format("strconv.ParseFloat: parsing {}: invalid syntax", go_quote(text)));
  if (errno == ERANGE && std::isinf(v))
    return fail(fmt::format("strconv.ParseFloat: parsing {}: value out of range", go_quote(text)));
  return v;
}

// model.ParseDuration's wording for a malformed duration literal.
Result<Millis> parse_duration_literal(std::string_view s) {
  auto d = parse_duration(s);
  if (d) return d;
  // Name the first unit upstream would not know.
  for (size_t i = 0; i < s.size();) {
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    size_t u = i;
    while (i < s.size() && !std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    std::string_view unit = s.substr(u, i - u);
    static constexpr std::string_view known[] = {"y", "w", "d", "h", "m", "s", "ms"};
    bool ok = false;
    for (auto k : known) ok = ok || k == unit;
    if (!ok) return fail(fmt::format("unknown unit {} in duration {}", go_quote(unit), go_quote(s)));
  }
  return d;
}

bool duration_out_of_range(double seconds) {
  constexpr double kLimit = 9223372036.854775807;  // 2^63 nanoseconds, in seconds
  return seconds > kLimit || seconds < -kLimit;
}

Millis seconds_to_millis(double s) {
  if (std::isnan(s)) return std::numeric_limits<int64_t>::min() / 1'000'000;
  return static_cast<Millis>(std::llround(s * 1000.0));
}

Result<std::string> unquote_string(std::string_view q) { return unquote(q, QuoteDialect::kPromQL); }

}  // namespace vigil::promql
