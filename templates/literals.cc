#include "templates/literals.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>

#include "model/names.h"
#include "model/quote.h"

namespace vigil::templates {

namespace {

char lower(char c) { return static_cast<char>(c | 0x20); }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (lower(c) >= 'a' && lower(c) <= 'f') return lower(c) - 'a' + 10;
  return -1;
}

// Go's rule: '_' only between digits, or between a base prefix and a digit.
bool underscore_ok(std::string_view s) {
  char saw = '^';
  size_t i = 0;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  bool hex = false;
  if (s.size() >= 2 && s[0] == '0' &&
      (lower(s[1]) == 'b' || lower(s[1]) == 'o' || lower(s[1]) == 'x')) {
    i = 2;
    saw = '0';
    hex = lower(s[1]) == 'x';
  }
  for (; i < s.size(); ++i) {
    char c = s[i];
    if ((c >= '0' && c <= '9') || (hex && lower(c) >= 'a' && lower(c) <= 'f')) {
      saw = '0';
      continue;
    }
    if (c == '_') {
      if (saw != '0') return false;
      saw = '_';
      continue;
    }
    if (saw == '_') return false;
    saw = '!';
  }
  return saw != '_';
}

// strconv.ParseUint(s, 0, 64).
std::optional<uint64_t> parse_uint0(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::string_view s0 = s;
  int base = 10;
  if (s[0] == '0') {
    if (s.size() >= 3 && lower(s[1]) == 'b') {
      base = 2;
      s.remove_prefix(2);
    } else if (s.size() >= 3 && lower(s[1]) == 'o') {
      base = 8;
      s.remove_prefix(2);
    } else if (s.size() >= 3 && lower(s[1]) == 'x') {
      base = 16;
      s.remove_prefix(2);
    } else {
      base = 8;
      s.remove_prefix(1);
    }
  }
  bool underscores = false;
  unsigned __int128 n = 0;
  for (char c : s) {
    if (c == '_') {
      underscores = true;
      continue;
    }
    int d = hex_value(c);
    if (d < 0 || d >= base) return std::nullopt;
    n = n * base + d;
    if (n > UINT64_MAX) return std::nullopt;
  }
  if (underscores && !underscore_ok(s0)) return std::nullopt;
  return static_cast<uint64_t>(n);
}

// strconv.ParseInt(s, 0, 64).
std::optional<int64_t> parse_int0(std::string_view s) {
  if (s.empty()) return std::nullopt;
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  auto u = parse_uint0(s);
  if (!u) return std::nullopt;
  if (!neg && *u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  if (neg && *u > static_cast<uint64_t>(INT64_MAX) + 1) return std::nullopt;
  return neg ? static_cast<int64_t>(0 - *u) : static_cast<int64_t>(*u);
}

// strconv.ParseFloat(s, 64), for the literals the lexer lets through.
std::optional<double> parse_float(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::string_view body = s;
  if (body[0] == '+' || body[0] == '-') body.remove_prefix(1);
  bool hex = body.size() >= 2 && body[0] == '0' && lower(body[1]) == 'x';
  if (s.find('_') != std::string_view::npos && !underscore_ok(s)) return std::nullopt;
  std::string clean;
  for (char c : s) {
    if (c != '_') clean += c;
  }
  if (hex && clean.find_first_of("pP") == std::string::npos) return std::nullopt;
  // Only digits, one '.', exponent marks and signs may remain.
  for (char c : clean) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == '+' || c == '-' || lower(c) == 'e' ||
          lower(c) == 'p' || lower(c) == 'x' || (hex && hex_value(c) >= 0))) {
      return std::nullopt;
    }
  }
  errno = 0;
  char* end = nullptr;
  double f = std::strtod(clean.c_str(), &end);
  if (end != clean.c_str() + clean.size()) return std::nullopt;
  if (std::isinf(f)) return std::nullopt;  // out of range
  return f;
}


}  // namespace

Result<double> go_parse_float(std::string_view s) {
  std::string_view body = s;
  bool neg = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  std::string low;
  for (char c : body) low += lower(c);
  if (low == "inf" || low == "infinity") return neg ? -HUGE_VAL : HUGE_VAL;
  if (low == "nan" && s.size() == 3) return std::nan("");
  if (auto f = parse_float(s)) return *f;
  // Syntactically valid but too large: Go reports the range error.
  std::string digits(s);
  if (!digits.empty() && digits.find_first_not_of("+-0123456789.eE_") == std::string::npos) {
    char* end = nullptr;
    errno = 0;
    double f = std::strtod(digits.c_str(), &end);
    if (end == digits.c_str() + digits.size() && std::isinf(f)) {
      return fail("strconv.ParseFloat: parsing " + go_quote(s) + ": value out of range");
    }
  }
  return fail("strconv.ParseFloat: parsing " + go_quote(s) + ": invalid syntax");
}

Result<void> parse_number(NumberNode& n, bool char_constant, bool complex_constant) {
  const std::string& text = n.text;
  if (char_constant) {
    size_t i = 1;
    bool is_byte;
    if (text.size() < 2) return fail("invalid syntax");
    auto r = unquote_char(text, &i, '\'', &is_byte);
    if (!r) return fail("invalid syntax");
    if (text.substr(i) != "'") return fail("malformed character constant: " + text);
    n.int64 = *r;
    n.uint64 = *r;
    n.float64 = *r;
    n.is_int = n.is_uint = n.is_float = true;
    return {};
  }
  auto simplify_complex = [&](double re, double im) {
    n.is_complex = true;
    n.float64 = re;
    n.imag = im;
    n.is_float = im == 0;
    if (n.is_float) {
      if (re >= -9.2233720368547758e18 && re < 9.2233720368547758e18 &&
          static_cast<double>(static_cast<int64_t>(re)) == re) {
        n.is_int = true;
        n.int64 = static_cast<int64_t>(re);
      }
      if (re >= 0 && re < 1.8446744073709552e19 &&
          static_cast<double>(static_cast<uint64_t>(re)) == re) {
        n.is_uint = true;
        n.uint64 = static_cast<uint64_t>(re);
      }
    }
  };
  if (complex_constant) {
    // "a+bi" or "a-bi".
    size_t split = text.find_last_of("+-");
    while (split != std::string::npos && split > 0 && lower(text[split - 1]) == 'e') {
      split = text.find_last_of("+-", split - 1);
    }
    if (split == std::string::npos || split == 0) return fail("invalid syntax");
    auto re = parse_float(text.substr(0, split));
    auto im = parse_float(text.substr(split, text.size() - split - 1));
    if (!re || !im) return fail("expected complex number");
    simplify_complex(*re, *im);
    return {};
  }
  if (!text.empty() && text.back() == 'i') {
    if (auto f = parse_float(std::string_view(text).substr(0, text.size() - 1))) {
      simplify_complex(0, *f);
      return {};
    }
  }
  auto u = parse_uint0(text);
  if (u) {
    n.is_uint = true;
    n.uint64 = *u;
  }
  if (auto i = parse_int0(text)) {
    n.is_int = true;
    n.int64 = *i;
    if (*i == 0) {
      n.is_uint = true;
      n.uint64 = u ? *u : 0;
    }
  }
  if (n.is_int) {
    n.is_float = true;
    n.float64 = static_cast<double>(n.int64);
  } else if (n.is_uint) {
    n.is_float = true;
    n.float64 = static_cast<double>(n.uint64);
  } else if (auto f = parse_float(text)) {
    if (text.find_first_of(".eEpP") == std::string::npos) {
      return fail("integer overflow: " + go_quote(text));
    }
    n.is_float = true;
    n.float64 = *f;
    if (*f >= -9.2233720368547758e18 && *f < 9.2233720368547758e18 &&
        static_cast<double>(static_cast<int64_t>(*f)) == *f) {
      n.is_int = true;
      n.int64 = static_cast<int64_t>(*f);
    }
    if (*f >= 0 && *f < 1.8446744073709552e19 &&
        static_cast<double>(static_cast<uint64_t>(*f)) == *f) {
      n.is_uint = true;
      n.uint64 = static_cast<uint64_t>(*f);
    }
  }
  if (!n.is_int && !n.is_uint && !n.is_float) {
    return fail("illegal number syntax: " + go_quote(text));
  }
  return {};
}

}  // namespace vigil::templates
