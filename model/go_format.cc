#include "model/go_format.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string_view>

namespace vigil {

namespace {

// Decimal digits d1d2d3... and exponent dp such that |v| = 0.d1d2d3... × 10^dp.
struct Digits {
  std::string d;
  int dp = 0;
};

// Shortest round-trip digits (prec < 0) or `n` significant digits, correctly rounded.
Digits decimal_digits(double av, int n) {
  char buf[64];
  std::to_chars_result r = n < 0 ? std::to_chars(buf, buf + sizeof buf, av, std::chars_format::scientific)
                                 : std::to_chars(buf, buf + sizeof buf, av,
                                                 std::chars_format::scientific, n - 1);
  std::string_view s(buf, r.ptr - buf);
  Digits out;
  size_t e = s.find('e');
  for (char c : s.substr(0, e)) {
    if (c != '.') out.d += c;
  }
  out.dp = std::atoi(std::string(s.substr(e + 1)).c_str()) + 1;
  if (av == 0) {
    out.dp = 1;
  }
  // Trim trailing zeros of the shortest form (Go keeps only significant digits).
  if (n < 0) {
    while (out.d.size() > 1 && out.d.back() == '0') out.d.pop_back();
  }
  return out;
}

std::string format_e(const Digits& dg, bool neg, char fmtc, int prec) {
  std::string out;
  if (neg) out += '-';
  out += dg.d.empty() ? '0' : dg.d[0];
  int frac = prec < 0 ? static_cast<int>(dg.d.size()) - 1 : prec;
  if (frac > 0) {
    out += '.';
    for (int i = 1; i <= frac; ++i) out += i < static_cast<int>(dg.d.size()) ? dg.d[i] : '0';
  }
  out += fmtc;
  int exp = dg.d == "0" ? 0 : dg.dp - 1;
  out += exp < 0 ? '-' : '+';
  exp = std::abs(exp);
  if (exp < 10) out += '0';
  out += std::to_string(exp);
  return out;
}

std::string format_f(const Digits& dg, bool neg, int frac) {
  std::string out;
  if (neg) out += '-';
  if (dg.dp > 0) {
    for (int i = 0; i < dg.dp; ++i) out += i < static_cast<int>(dg.d.size()) ? dg.d[i] : '0';
  } else {
    out += '0';
  }
  if (frac > 0) {
    out += '.';
    for (int i = 0; i < frac; ++i) {
      int idx = dg.dp + i;
      out += (idx >= 0 && idx < static_cast<int>(dg.d.size())) ? dg.d[idx] : '0';
    }
  }
  return out;
}

}  // namespace

std::string go_format_float(double v, char fmt, int prec) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  bool neg = std::signbit(v);
  double av = std::fabs(v);
  switch (fmt) {
    case 'e':
    case 'E':
      return format_e(decimal_digits(av, prec < 0 ? -1 : prec + 1), neg, fmt, prec);
    case 'f': {
      if (prec < 0) {
        Digits dg = decimal_digits(av, -1);
        int frac = std::max(0, static_cast<int>(dg.d.size()) - dg.dp);
        return format_f(dg, neg, frac);
      }
      char buf[400];
      auto r = std::to_chars(buf, buf + sizeof buf, av, std::chars_format::fixed, prec);
      return (neg ? "-" : "") + std::string(buf, r.ptr);
    }
    case 'g':
    case 'G': {
      bool shortest = prec < 0;
      if (prec == 0) prec = 1;
      Digits dg = decimal_digits(av, shortest ? -1 : prec);
      if (!shortest) {
        while (dg.d.size() > 1 && dg.d.back() == '0') dg.d.pop_back();
      }
      // Go switches to %e when the exponent is below -4 or at least the
      // precision, taking 6 as the precision of the shortest form.
      int eprec = shortest ? 6 : prec;
      int exp = av == 0 ? 0 : dg.dp - 1;
      if (exp < -4 || exp >= eprec) {
        return format_e(dg, neg, fmt == 'g' ? 'e' : 'E', static_cast<int>(dg.d.size()) - 1);
      }
      int frac = std::max(0, static_cast<int>(dg.d.size()) - dg.dp);
      return format_f(dg, neg, frac);
    }
  }
  return "%!" + std::string(1, fmt);
}

}  // namespace vigil
