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
