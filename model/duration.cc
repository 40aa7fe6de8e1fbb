#include "model/duration.h"

#include <limits>

#include <fmt/format.h>

namespace vigil {

Result<Millis> parse_duration(std::string_view s) {
  if (s.empty()) return fail("empty duration string");
  if (s == "0") return 0;
  struct Unit {
    std::string_view name;
    Millis mult;
  };
  static constexpr Unit units[] = {{"y", kYear}, {"w", kWeek}, {"d", kDay}, {"h", kHour},
                                   {"m", kMinute}, {"s", kSecond}, {"ms", 1}};
  auto invalid = [&] { return fail(fmt::format("not a valid duration string: \"{}\"", s)); };
  Millis total = 0;
  size_t i = 0;
  int next_unit = 0;  // units must appear in decreasing order, each once
  while (i < s.size()) {
    size_t start = i;
    unsigned __int128 v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      v = v * 10 + (s[i] - '0');
      if (v > std::numeric_limits<int64_t>::max()) return fail("duration out of range");
      ++i;
    }
    if (i == start) return invalid();
    size_t ustart = i;
    while (i < s.size() && s[i] >= 'a' && s[i] <= 'z') ++i;
    std::string_view u = s.substr(ustart, i - ustart);
    int found = -1;
    for (int k = next_unit; k < 7; ++k) {
      if (units[k].name == u) {
        found = k;
        break;
      }
    }
    if (found < 0) return invalid();
    next_unit = found + 1;
    unsigned __int128 add = v * static_cast<unsigned __int128>(units[found].mult);
    if (add + total > static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max()))
      return fail("duration out of range");
    total += static_cast<Millis>(add);
  }
  return total;
}

std::string format_duration(Millis ms) {
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out += '-';
    ms = -ms;
  }
  auto part = [&](const char* unit, Millis mult, bool exact) {
    if (exact && ms % mult != 0) return;
    if (Millis v = ms / mult; v > 0) {
      out += fmt::format("{}{}", v, unit);
      ms -= v * mult;
    }
  };
  part("y", kYear, true);
  part("w", kWeek, true);
  part("d", kDay, false);
  part("h", kHour, false);
  part("m", kMinute, false);
  part("s", kSecond, false);
  part("ms", 1, false);
  return out;
}

}  // namespace vigil

namespace vigil {

Result<Millis> parse_go_duration(std::string_view s) {
  const std::string quoted = fmt::format("\"{}\"", s);
  auto invalid = [&] { return fail("time: invalid duration " + quoted); };
  std::string_view in = s;
  bool neg = false;
  if (!in.empty() && (in[0] == '-' || in[0] == '+')) {
    neg = in[0] == '-';
    in.remove_prefix(1);
  }
  if (in == "0") return 0;
  if (in.empty()) return invalid();
  struct Unit {
    std::string_view name;
    long double ns;
  };
  static constexpr Unit units[] = {{"ns", 1},         {"us", 1e3},  {"\xC2\xB5s", 1e3},
                                   {"\xCE\xBCs", 1e3}, {"ms", 1e6},  {"s", 1e9},
                                   {"m", 60e9},       {"h", 3600e9}};
  long double total_ns = 0;
  while (!in.empty()) {
    size_t i = 0;
    long double v = 0;
    bool digits = false;
    while (i < in.size() && in[i] >= '0' && in[i] <= '9') v = v * 10 + (in[i++] - '0'), digits = true;
    if (i < in.size() && in[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < in.size() && in[i] >= '0' && in[i] <= '9') {
        v += (in[i++] - '0') * scale;
        scale /= 10;
        digits = true;
      }
    }
    if (!digits) return invalid();
    size_t u = i;
    while (u < in.size() && !(in[u] >= '0' && in[u] <= '9') && in[u] != '.') ++u;
    std::string_view unit = in.substr(i, u - i);
    if (unit.empty()) return fail("time: missing unit in duration " + quoted);
    const Unit* found = nullptr;
    for (const Unit& c : units)
      if (c.name == unit) found = &c;
    if (found == nullptr) return fail(fmt::format("time: unknown unit \"{}\" in duration {}", unit, quoted));
    total_ns += v * found->ns;
    if (total_ns > 9.223372036854775807e18L) return invalid();
    in.remove_prefix(u);
  }
  auto ms = static_cast<Millis>(total_ns / 1e6L);
  return neg ? -ms : ms;
}

namespace {
std::string frac(uint64_t* v, int prec) {
  std::string out;
  bool print = false;
  for (int i = 0; i < prec; ++i) {
    int digit = static_cast<int>(*v % 10);
    print = print || digit != 0;
    if (print) out.insert(out.begin(), static_cast<char>('0' + digit));
    *v /= 10;
  }
  if (print) out.insert(out.begin(), '.');
  return out;
}

}  // namespace

std::string format_go_duration(int64_t d) {
  uint64_t u = static_cast<uint64_t>(d);
  bool neg = d < 0;
  if (neg) u = -u;
  std::string out;
  if (u < static_cast<uint64_t>(1'000'000'000)) {
    if (u == 0) return "0s";
    int prec;
    std::string unit;
    if (u < 1000) {
      prec = 0;
      unit = "ns";
    } else if (u < 1'000'000) {
      prec = 3;
      unit = "\xC2\xB5s";
    } else {
      prec = 6;
      unit = "ms";
    }
    std::string f = frac(&u, prec);
    out = std::to_string(u) + f + unit;
  } else {
    std::string f = frac(&u, 9);
    out = std::to_string(u % 60) + f + "s";
    u /= 60;
    if (u > 0) {
      out = std::to_string(u % 60) + "m" + out;
      u /= 60;
      if (u > 0) out = std::to_string(u) + "h" + out;
    }
  }
  return neg ? "-" + out : out;
}

}  // namespace vigil
