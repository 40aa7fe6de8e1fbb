// Go's time.ParseInLocation(layout, value, time.UTC), for the template
// functions toDate and mustToDate: the value is read element by element of
// the layout, with Go's leniency (one- or two-digit numbers where Go takes
// them, names matched without regard to case, fractional seconds after a
// seconds element even when the layout has none) and Go's error messages.

#include <date/date.h>
#include <fmt/format.h>

#include "templates/go_layout.h"
#include "templates/go_time.h"

namespace vigil::templates {

using namespace go_layout;

namespace {

const char* const kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                               "July",    "August",   "September", "October", "November", "December"};
const char* const kDays[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};

// The quoting of time's errors: ASCII kept (with " and \ escaped), every
// other byte of a non-ASCII or control character as \x.. .
std::string time_quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x80 || u < ' ') {
      out += fmt::format("\\x{:02x}", u);
    } else {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
  }
  return out + "\"";
}

bool is_digit(std::string_view s, size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; }

// Go's getnum: one or two digits (exactly two when `fixed`).
bool get_num(std::string_view& s, bool fixed, int& out) {
  if (!is_digit(s, 0)) return false;
  if (!is_digit(s, 1)) {
    if (fixed) return false;
    out = s[0] - '0';
    s.remove_prefix(1);
    return true;
  }
  out = (s[0] - '0') * 10 + (s[1] - '0');
  s.remove_prefix(2);
  return true;
}

// Go's getnum3: one to three digits (exactly three when `fixed`).
bool get_num3(std::string_view& s, bool fixed, int& out) {
  int n = 0;
  size_t i = 0;
  for (; i < 3 && is_digit(s, i); ++i) n = n * 10 + (s[i] - '0');
  if (i == 0 || (fixed && i != 3)) return false;
  out = n;
  s.remove_prefix(i);
  return true;
}

// Go's atoi: an optional sign, then only digits (none reads as 0).
bool go_atoi(std::string_view s, int64_t& out) {
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  int64_t x = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || x > (INT64_MAX - 9) / 10) return false;
    x = x * 10 + (c - '0');
  }
  out = neg ? -x : x;
  return true;
}

// Go's lookup: the first name the value starts with, ignoring ASCII case.
bool lookup(const char* const* names, int n, size_t len, std::string_view& s, int& out) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
  for (int i = 0; i < n; ++i) {
    std::string_view name = names[i];
    if (len != 0) name = name.substr(0, len);
    if (s.size() < name.size()) continue;
    bool same = true;
    for (size_t k = 0; k < name.size() && same; ++k) same = lower(s[k]) == lower(name[k]);
    if (same) {
      out = i;
      s.remove_prefix(name.size());
      return true;
    }
  }
  return false;
}

// Go's parseNanoseconds: `n` bytes of `s`, a '.' or ',' and digits (at
// most nine count).
bool parse_nanos(std::string_view s, size_t n, int32_t& nsec, std::string& range) {
  if (s[0] != '.' && s[0] != ',') return false;
  if (n > 10) n = 10;
  int64_t ns = 0;
  if (!go_atoi(s.substr(1, n - 1), ns)) return false;
  if (ns < 0) {
    range = "fractional second";
    return true;
  }
  for (size_t i = n; i < 10; ++i) ns *= 10;
  nsec = static_cast<int32_t>(ns);
  return true;
}

// Go's parseSignedOffset: the length of "+3", "-12" (hours up to 12), or 0.
size_t signed_offset_len(std::string_view s) {
  if (s.empty() || (s[0] != '-' && s[0] != '+')) return 0;
  size_t i = 1;
  int64_t x = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9' && x <= 12) x = x * 10 + (s[i++] - '0');
  if (i == 1 || x > 12) return 0;
  return i;
}

// Go's parseTimeZone: the length of a zone abbreviation at the start of
// `s` ("MST", "CEST", "ChST", "GMT+3", "+03"), or 0.
size_t time_zone_len(std::string_view s) {
  if (s.size() < 3) return 0;
  if (s.starts_with("ChST") || s.starts_with("MeST")) return 4;
  if (s.starts_with("GMT")) return 3 + signed_offset_len(s.substr(3));
  if (s[0] == '+' || s[0] == '-') return signed_offset_len(s);
  size_t upper = 0;
  while (upper < 6 && upper < s.size() && s[upper] >= 'A' && s[upper] <= 'Z') ++upper;
  switch (upper) {
    case 3: return 3;
    case 4: return s[3] == 'T' || s.starts_with("WITA") ? 4 : 0;
    case 5: return s[4] == 'T' ? 5 : 0;
    default: return 0;
  }
}

bool is_leap(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

int days_in(int month, int64_t year) {
  static const int kDaysIn[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : kDaysIn[month - 1];
}

}  // namespace

Result<GoTime> go_time_parse(std::string_view layout, std::string_view value) {
  const std::string_view whole_layout = layout, whole_value = value;
  auto cannot = [&](std::string_view value_elem, std::string_view layout_elem) {
    return fail(fmt::format("parsing time {} as {}: cannot parse {} as {}", time_quote(whole_value),
                            time_quote(whole_layout), time_quote(value_elem), time_quote(layout_elem)));
  };
  auto problem = [&](std::string_view message) {
    return fail(fmt::format("parsing time {}: {}", time_quote(whole_value), message));
  };
  int64_t year = 0;
  int month = -1, day = -1, yday = -1, hour = 0, minute = 0, second = 0;
  int32_t nsec = 0;
  bool am = false, pm = false, utc = false;
  int zone_offset = -1;  // seconds east of UTC, when the value has a numeric zone
  std::string zone_name;
  while (true) {
    Chunk ch = next_chunk(layout);
    std::string_view elem = layout.substr(ch.prefix.size(), layout.size() - ch.prefix.size() - ch.suffix.size());
    // The literal text: a space in the layout takes any run of spaces.
    for (std::string_view p = ch.prefix; !p.empty();) {
      if (p[0] == ' ') {
        if (!value.empty() && value[0] != ' ') return cannot(value, ch.prefix);
        while (!p.empty() && p[0] == ' ') p.remove_prefix(1);
        while (!value.empty() && value[0] == ' ') value.remove_prefix(1);
        continue;
      }
      if (value.empty() || value[0] != p[0]) return cannot(value, ch.prefix);
      p.remove_prefix(1);
      value.remove_prefix(1);
    }
    if (ch.std == kNone) {
      if (!value.empty()) return problem("extra text: " + time_quote(value));
      break;
    }
    layout = ch.suffix;
    const std::string_view hold = value;
    std::string range;  // which field is out of range
    bool ok = true;
    switch (ch.std) {
      case kYear: {
        int64_t y = 0;
        ok = value.size() >= 2 && go_atoi(value.substr(0, 2), y);
        if (value.size() >= 2) value.remove_prefix(2);
        if (ok) year = y >= 69 ? y + 1900 : y + 2000;
        break;
      }
      case kLongYear:
        ok = value.size() >= 4 && is_digit(value, 0) && go_atoi(value.substr(0, 4), year);
        if (ok) value.remove_prefix(4);
        break;
      case kMonth:
      case kLongMonth:
        ok = lookup(kMonths, 12, ch.std == kMonth ? 3 : 0, value, month);
        ++month;
        break;
      case kNumMonth:
      case kZeroMonth:
        ok = get_num(value, ch.std == kZeroMonth, month);
        if (ok && (month <= 0 || month > 12)) range = "month";
        break;
      case kWeekDay:
      case kLongWeekDay: {  // checked, then ignored
        int wd = 0;
        ok = lookup(kDays, 7, ch.std == kWeekDay ? 3 : 0, value, wd);
        break;
      }
      case kDay:
      case kUnderDay:
      case kZeroDay:
        if (ch.std == kUnderDay && !value.empty() && value[0] == ' ') value.remove_prefix(1);
        ok = get_num(value, ch.std == kZeroDay, day);
        break;
      case kUnderYearDay:
      case kZeroYearDay:
        for (int i = 0; i < 2; ++i)
          if (ch.std == kUnderYearDay && !value.empty() && value[0] == ' ') value.remove_prefix(1);
        ok = get_num3(value, ch.std == kZeroYearDay, yday);
        break;
      case kHour:
        ok = get_num(value, false, hour);
        if (hour < 0 || hour >= 24) range = "hour";
        break;
      case kHour12:
      case kZeroHour12:
        ok = get_num(value, ch.std == kZeroHour12, hour);
        if (hour < 0 || hour > 12) range = "hour";
        break;
      case kMinute:
      case kZeroMinute:
        ok = get_num(value, ch.std == kZeroMinute, minute);
        if (minute < 0 || minute >= 60) range = "minute";
        break;
      case kSecond:
      case kZeroSecond: {
        ok = get_num(value, ch.std == kZeroSecond, second);
        if (!ok) break;
        if (second < 0 || second >= 60) {
          range = "second";
          break;
        }
        // A fraction the layout does not ask for is read all the same.
        if (value.size() >= 2 && (value[0] == '.' || value[0] == ',') && is_digit(value, 1)) {
          Std next = next_chunk(layout).std;
          if (next == kFracSecond0 || next == kFracSecond9) break;
          size_t n = 2;
          while (is_digit(value, n)) ++n;
          ok = parse_nanos(value, n, nsec, range);
          value.remove_prefix(n);
        }
        break;
      }
      case kPM:
      case kpm: {
        if (value.size() < 2) {
          ok = false;
          break;
        }
        std::string_view p = value.substr(0, 2);
        value.remove_prefix(2);
        const bool upper = ch.std == kPM;
        if (p == (upper ? "PM" : "pm")) {
          pm = true;
        } else if (p == (upper ? "AM" : "am")) {
          am = true;
        } else {
          ok = false;
        }
        break;
      }
      case kISO8601TZ: case kISO8601ShortTZ: case kISO8601ColonTZ: case kISO8601SecondsTZ:
      case kISO8601ColonSecondsTZ:
        if (!value.empty() && value[0] == 'Z') {
          value.remove_prefix(1);
          utc = true;
          break;
        }
        [[fallthrough]];
      case kNumTZ: case kNumShortTZ: case kNumColonTZ: case kNumSecondsTz: case kNumColonSecondsTZ: {
        // Where the hours, minutes and seconds are, and how long the zone is.
        size_t len = 5, min_at = 3, sec_at = 0;
        if (ch.std == kISO8601ColonTZ || ch.std == kNumColonTZ) {
          len = 6, min_at = 4;
          if (value.size() >= len && value[3] != ':') ok = false;
        } else if (ch.std == kNumShortTZ || ch.std == kISO8601ShortTZ) {
          len = 3, min_at = 0;
        } else if (ch.std == kISO8601ColonSecondsTZ || ch.std == kNumColonSecondsTZ) {
          len = 9, min_at = 4, sec_at = 7;
          if (value.size() >= len && (value[3] != ':' || value[6] != ':')) ok = false;
        } else if (ch.std == kISO8601SecondsTZ || ch.std == kNumSecondsTz) {
          len = 7, sec_at = 5;
        }
        if (!ok || value.size() < len) {
          ok = false;
          break;
        }
        std::string_view hh = value.substr(1, 2), mm = min_at ? value.substr(min_at, 2) : std::string_view("00"),
                         ss = sec_at ? value.substr(sec_at, 2) : std::string_view("00");
        const char sign = value[0];
        value.remove_prefix(len);
        int h = 0, m = 0, s = 0;
        ok = get_num(hh, true, h) && get_num(mm, true, m) && get_num(ss, true, s);
        if (h > 24) range = "time zone offset hour";
        if (m > 60) range = "time zone offset minute";
        if (s > 60) range = "time zone offset second";
        zone_offset = (h * 60 + m) * 60 + s;
        if (sign == '-') {
          zone_offset = -zone_offset;
        } else if (sign != '+') {
          ok = false;
        }
        break;
      }
      case kTZ: {
        if (value.starts_with("UTC")) {
          utc = true;
          value.remove_prefix(3);
          break;
        }
        size_t n = time_zone_len(value);
        if (n == 0) {
          ok = false;
          break;
        }
        zone_name = std::string(value.substr(0, n));
        value.remove_prefix(n);
        break;
      }
      case kFracSecond0: {
        // Exactly as many digits as the layout has.
        const size_t n = 1 + static_cast<size_t>(ch.frac_digits);
        if (value.size() < n) {
          ok = false;
          break;
        }
        ok = parse_nanos(value, n, nsec, range);
        value.remove_prefix(n);
        break;
      }
      case kFracSecond9: {
        // Optional, and any number of digits.
        if (value.size() < 2 || (value[0] != '.' && value[0] != ',') || !is_digit(value, 1)) break;
        size_t i = 0;
        while (is_digit(value, i + 1)) ++i;
        ok = parse_nanos(value, 1 + i, nsec, range);
        value.remove_prefix(1 + i);
        break;
      }
      case kNone: break;
    }
    if (!range.empty()) return problem(range + " out of range");
    if (!ok) return cannot(hold, elem);
  }
  if (pm && hour < 12) {
    hour += 12;
  } else if (am && hour == 12) {
    hour = 0;
  }
  if (yday >= 0) {
    // The day of the year gives the month and day, which must agree with
    // any the value also has.
    int m = 0, d = 0;
    if (is_leap(year)) {
      if (yday == 31 + 29) {
        m = 2, d = 29;
      } else if (yday > 31 + 29) {
        --yday;
      }
    }
    if (yday < 1 || yday > 365) return problem("day-of-year out of range");
    if (m == 0) {
      static const int kBefore[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365};
      m = (yday - 1) / 31 + 1;
      if (kBefore[m] < yday) ++m;
      d = yday - kBefore[m - 1];
    }
    if (month >= 0 && month != m) return problem("day-of-year does not match month");
    if (day >= 0 && day != d) return problem("day-of-year does not match day");
    month = m;
    day = d;
  } else {
    if (month < 0) month = 1;
    if (day < 0) day = 1;
  }
  if (day < 1 || day > days_in(month, year)) return problem("day out of range");

  const date::year_month_day ymd{date::year{static_cast<int>(year)}, date::month{static_cast<unsigned>(month)},
                                 date::day{static_cast<unsigned>(day)}};
  const int64_t days = date::sys_days{ymd}.time_since_epoch().count();
  GoTime t = go_time_from_unix(days * 86400 + hour * 3600 + minute * 60 + second, nsec);
  // The zone: UTC (the location parsed in) unless the value has an offset,
  // which becomes a fixed zone (named when the value names one too). A zone
  // name alone is not a zone UTC knows: Go keeps the clock reading as UTC
  // and shows it in a zone of that name with offset 0 (GMT+h: h hours).
  if (utc) return t;
  if (zone_offset != -1) {
    t.sec -= zone_offset;
    if (zone_offset == 0 && (zone_name.empty() || zone_name == "UTC")) return t;
    t.offset = zone_offset;
    t.zone = zone_name;
    return t;
  }
  if (!zone_name.empty()) {
    int offset = 0;
    if (zone_name.size() > 3 && zone_name.starts_with("GMT")) {
      int64_t h = 0;
      go_atoi(std::string_view(zone_name).substr(3), h);
      offset = static_cast<int>(h) * 3600;
    }
    t.offset = offset;
    t.zone = zone_name;
  }
  return t;
}

}  // namespace vigil::templates
