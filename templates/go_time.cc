#include "templates/go_time.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <memory>

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>

#include "model/duration.h"
#include "model/names.h"
#include "templates/go_layout.h"

namespace vigil::templates {

namespace go_layout {

namespace {

bool starts_lower(std::string_view s) { return !s.empty() && s[0] >= 'a' && s[0] <= 'z'; }

}  // namespace

Chunk next_chunk(std::string_view l) {
  auto at = [&](size_t i, std::string_view w) { return l.substr(i).starts_with(w); };
  auto mk = [&](size_t i, Std s, size_t len) {
    return Chunk{l.substr(0, i), s, 0, '.', l.substr(i + len)};
  };
  for (size_t i = 0; i < l.size(); ++i) {
    switch (l[i]) {
      case 'J':
        if (at(i, "Jan")) {
          if (at(i, "January")) return mk(i, kLongMonth, 7);
          if (!starts_lower(l.substr(i + 3))) return mk(i, kMonth, 3);
        }
        break;
      case 'M':
        if (at(i, "Mon")) {
          if (at(i, "Monday")) return mk(i, kLongWeekDay, 6);
          if (!starts_lower(l.substr(i + 3))) return mk(i, kWeekDay, 3);
        }
        if (at(i, "MST")) return mk(i, kTZ, 3);
        break;
      case '0':
        if (i + 1 < l.size() && l[i + 1] >= '1' && l[i + 1] <= '6') {
          static const Std s0x[] = {kZeroMonth, kZeroDay, kZeroHour12, kZeroMinute, kZeroSecond, kYear};
          return mk(i, s0x[l[i + 1] - '1'], 2);
        }
        if (at(i, "002")) return mk(i, kZeroYearDay, 3);
        break;
      case '1':
        if (at(i, "15")) return mk(i, kHour, 2);
        return mk(i, kNumMonth, 1);
      case '2':
        if (at(i, "2006")) return mk(i, kLongYear, 4);
        return mk(i, kDay, 1);
      case '_':
        if (at(i, "_2")) {
          if (at(i, "_2006")) return Chunk{l.substr(0, i + 1), kLongYear, 0, '.', l.substr(i + 5)};
          return mk(i, kUnderDay, 2);
        }
        if (at(i, "__2")) return mk(i, kUnderYearDay, 3);
        break;
      case '3': return mk(i, kHour12, 1);
      case '4': return mk(i, kMinute, 1);
      case '5': return mk(i, kSecond, 1);
      case 'P':
        if (at(i, "PM")) return mk(i, kPM, 2);
        break;
      case 'p':
        if (at(i, "pm")) return mk(i, kpm, 2);
        break;
      case '-':
        if (at(i, "-070000")) return mk(i, kNumSecondsTz, 7);
        if (at(i, "-07:00:00")) return mk(i, kNumColonSecondsTZ, 9);
        if (at(i, "-0700")) return mk(i, kNumTZ, 5);
        if (at(i, "-07:00")) return mk(i, kNumColonTZ, 6);
        if (at(i, "-07")) return mk(i, kNumShortTZ, 3);
        break;
      case 'Z':
        if (at(i, "Z070000")) return mk(i, kISO8601SecondsTZ, 7);
        if (at(i, "Z07:00:00")) return mk(i, kISO8601ColonSecondsTZ, 9);
        if (at(i, "Z0700")) return mk(i, kISO8601TZ, 5);
        if (at(i, "Z07:00")) return mk(i, kISO8601ColonTZ, 6);
        if (at(i, "Z07")) return mk(i, kISO8601ShortTZ, 3);
        break;
      case '.':
      case ',':
        if (i + 1 < l.size() && (l[i + 1] == '0' || l[i + 1] == '9')) {
          char ch = l[i + 1];
          size_t j = i + 1;
          while (j < l.size() && l[j] == ch) ++j;
          if (!(j < l.size() && l[j] >= '0' && l[j] <= '9')) {
            return Chunk{l.substr(0, i), ch == '0' ? kFracSecond0 : kFracSecond9,
                         static_cast<int>(j - (i + 1)), l[i], l.substr(j)};
          }
        }
        break;
      default: break;
    }
  }
  return Chunk{l, kNone, 0, '.', {}};
}

}  // namespace go_layout

using namespace go_layout;

namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;

const char* const kLongMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                                   "July",    "August",   "September", "October", "November", "December"};
const char* const kLongDays[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};

struct Civil {
  int64_t year;
  int month;  // 1..12
  int day;
  int hour, minute, second;
  int weekday;  // 0 = Sunday
  int yday;     // 1..366
};

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

Civil civil(const GoTime& t) {
  // Beyond about ±34000 years the calendar arithmetic would overflow; such
  // times can only come from piling up Add calls, and print clamped.
  constexpr int64_t kLimit = int64_t{1} << 40;
  int64_t local = std::clamp<int64_t>(t.sec, -kLimit, kLimit) + t.offset;
  int64_t days = floor_div(local, 86400);
  int64_t secs = local - days * 86400;
  date::sys_days sd{date::days{days}};
  date::year_month_day ymd{sd};
  Civil c;
  c.year = static_cast<int>(ymd.year());
  c.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  c.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  c.hour = static_cast<int>(secs / 3600);
  c.minute = static_cast<int>(secs / 60 % 60);
  c.second = static_cast<int>(secs % 60);
  c.weekday = static_cast<int>(date::weekday{sd}.c_encoding());
  date::sys_days jan1{date::year_month_day{ymd.year(), date::January, date::day{1}}};
  c.yday = static_cast<int>((sd - jan1).count()) + 1;
  return c;
}

void append_int(std::string& b, int64_t x, int width) {
  if (x < 0) {
    b += '-';
    x = -x;
  }
  std::string digits = std::to_string(x);
  for (int i = static_cast<int>(digits.size()); i < width; ++i) b += '0';
  b += digits;
}

void append_zone(std::string& b, int offset, Std std) {
  int zone = offset / 60;
  int abs_offset = offset;
  if (zone < 0) {
    b += '-';
    zone = -zone;
    abs_offset = -abs_offset;
  } else {
    b += '+';
  }
  append_int(b, zone / 60, 2);
  if (std == kISO8601ColonTZ || std == kNumColonTZ || std == kISO8601ColonSecondsTZ ||
      std == kNumColonSecondsTZ) {
    b += ':';
  }
  if (std != kNumShortTZ && std != kISO8601ShortTZ) append_int(b, zone % 60, 2);
  if (std == kISO8601SecondsTZ || std == kNumSecondsTz || std == kNumColonSecondsTZ ||
      std == kISO8601ColonSecondsTZ) {
    if (std == kNumColonSecondsTZ || std == kISO8601ColonSecondsTZ) b += ':';
    append_int(b, abs_offset % 60, 2);
  }
}

void append_frac(std::string& b, int32_t nsec, int digits, bool trim, char sep) {
  std::string d = fmt::format("{:09d}", nsec);
  if (digits < 9) d.resize(digits);
  if (trim) {
    while (!d.empty() && d.back() == '0') d.pop_back();
    if (d.empty()) return;
  }
  b += sep;
  b += d;
}

// fmtFrac and fmtInt of Go's Duration.String.
}  // namespace

GoTime go_time_from_unix(int64_t sec, int32_t nsec) {
  GoTime t;
  t.sec = sec;
  t.nsec = nsec;
  return t;
}

GoTime go_time_from_unix_millis(int64_t ms) {
  int64_t sec = floor_div(ms, 1000);
  return go_time_from_unix(sec, static_cast<int32_t>((ms - sec * 1000) * 1'000'000));
}

std::string go_time_format(const GoTime& t, std::string_view layout) {
  Civil c = civil(t);
  std::string b;
  while (!layout.empty()) {
    Chunk ch = next_chunk(layout);
    b += ch.prefix;
    if (ch.std == kNone) break;
    layout = ch.suffix;
    switch (ch.std) {
      case kYear: append_int(b, ((c.year % 100) + 100) % 100, 2); break;
      case kLongYear: append_int(b, c.year, 4); break;
      case kMonth: b += std::string_view(kLongMonths[c.month - 1]).substr(0, 3); break;
      case kLongMonth: b += kLongMonths[c.month - 1]; break;
      case kNumMonth: append_int(b, c.month, 0); break;
      case kZeroMonth: append_int(b, c.month, 2); break;
      case kWeekDay: b += std::string_view(kLongDays[c.weekday]).substr(0, 3); break;
      case kLongWeekDay: b += kLongDays[c.weekday]; break;
      case kDay: append_int(b, c.day, 0); break;
      case kUnderDay:
        if (c.day < 10) b += ' ';
        append_int(b, c.day, 0);
        break;
      case kZeroDay: append_int(b, c.day, 2); break;
      case kUnderYearDay:
        if (c.yday < 100) b += ' ';
        if (c.yday < 10) b += ' ';
        append_int(b, c.yday, 0);
        break;
      case kZeroYearDay: append_int(b, c.yday, 3); break;
      case kHour: append_int(b, c.hour, 2); break;
      case kHour12: append_int(b, c.hour % 12 == 0 ? 12 : c.hour % 12, 0); break;
      case kZeroHour12: append_int(b, c.hour % 12 == 0 ? 12 : c.hour % 12, 2); break;
      case kMinute: append_int(b, c.minute, 0); break;
      case kZeroMinute: append_int(b, c.minute, 2); break;
      case kSecond: append_int(b, c.second, 0); break;
      case kZeroSecond: append_int(b, c.second, 2); break;
      case kPM: b += c.hour >= 12 ? "PM" : "AM"; break;
      case kpm: b += c.hour >= 12 ? "pm" : "am"; break;
      case kISO8601TZ: case kISO8601ColonTZ: case kISO8601SecondsTZ: case kISO8601ShortTZ:
      case kISO8601ColonSecondsTZ:
        if (t.offset == 0) {
          b += 'Z';
          break;
        }
        append_zone(b, t.offset, ch.std);
        break;
      case kNumTZ: case kNumSecondsTz: case kNumShortTZ: case kNumColonTZ: case kNumColonSecondsTZ:
        append_zone(b, t.offset, ch.std);
        break;
      case kTZ:
        if (!t.zone.empty()) {
          b += t.zone;
        } else {
          append_zone(b, t.offset, kNumTZ);
        }
        break;
      case kFracSecond0: append_frac(b, t.nsec, ch.frac_digits, false, ch.frac_sep); break;
      case kFracSecond9: append_frac(b, t.nsec, ch.frac_digits, true, ch.frac_sep); break;
      case kNone: break;
    }
  }
  return b;
}

std::string go_time_string(const GoTime& t) {
  return go_time_format(t, "2006-01-02 15:04:05.999999999 -0700 MST");
}

Result<GoTime> go_time_parse_rfc3339(std::string_view s) {
  auto bad = [&] {
    return fail(fmt::format("parsing time {} as \"2006-01-02T15:04:05Z07:00\": cannot parse", go_quote(s)));
  };
  auto num = [&](size_t pos, size_t n, int* out) {
    if (pos + n > s.size()) return false;
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
  };
  int y, mo, d, h, mi, sec;
  if (s.size() < 20 || !num(0, 4, &y) || s[4] != '-' || !num(5, 2, &mo) || s[7] != '-' ||
      !num(8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !num(11, 2, &h) || s[13] != ':' ||
      !num(14, 2, &mi) || s[16] != ':' || !num(17, 2, &sec)) {
    return bad();
  }
  size_t i = 19;
  int32_t nsec = 0;
  if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
    size_t j = i + 1;
    int digits = 0;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') {
      if (digits < 9) {
        nsec = nsec * 10 + (s[j] - '0');
        ++digits;
      }
      ++j;
    }
    if (j == i + 1) return bad();
    for (; digits < 9; ++digits) nsec *= 10;
    i = j;
  }
  int offset = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh, om;
    if (!num(i + 1, 2, &oh) || i + 3 >= s.size() || s[i + 3] != ':' || !num(i + 4, 2, &om)) return bad();
    offset = (oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return bad();
  }
  if (i != s.size() || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59) {
    return bad();
  }
  date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(mo)},
                           date::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return bad();
  int64_t days = date::sys_days{ymd}.time_since_epoch().count();
  GoTime t;
  t.sec = days * 86400 + h * 3600 + mi * 60 + sec - offset;
  t.nsec = nsec;
  t.offset = offset;
  t.zone = offset == 0 ? "UTC" : "";
  return t;
}

Result<GoTime> go_time_in(const GoTime& t, std::string_view location) {
  GoTime out = t;
  if (location.empty() || location == "UTC" || location == "Local") {
    out.offset = 0;
    out.zone = "UTC";
    return out;
  }
  try {
    const date::time_zone* z = date::locate_zone(location);
    date::sys_seconds at{std::chrono::seconds{t.sec}};
    date::sys_info info = z->get_info(at);
    out.offset = static_cast<int32_t>(info.offset.count());
    out.zone = info.abbrev;
    // The tz database writes unnamed zones as "+03"; Go shows them the same.
    return out;
  } catch (const std::exception&) {
    return fail("unknown time zone " + std::string(location));
  }
}

int64_t go_time_sub(const GoTime& b, const GoTime& a) {
  __int128 d = static_cast<__int128>(b.sec - a.sec) * kNanosPerSecond + (b.nsec - a.nsec);
  if (d > INT64_MAX) return INT64_MAX;
  if (d < INT64_MIN) return INT64_MIN;
  return static_cast<int64_t>(d);
}

GoTime go_time_add(const GoTime& t, int64_t nanos) {
  GoTime out = t;
  int64_t sec = nanos / kNanosPerSecond;
  int64_t ns = t.nsec + nanos % kNanosPerSecond;
  if (ns < 0) {
    ns += kNanosPerSecond;
    --sec;
  } else if (ns >= kNanosPerSecond) {
    ns -= kNanosPerSecond;
    ++sec;
  }
  out.sec += sec;
  out.nsec = static_cast<int32_t>(ns);
  return out;
}

namespace {

Result<Value> string_result(std::string s) { return Value::string(std::move(s)); }

const GoTime& recv_time(const CallArgs& c) { return *as_time(c.args[0]); }

Value weekday_value(int d) {
  static const Type* t = [] {
    Type* w = make_mutable_type(Kind::kInt, "time.Weekday", "int");
    w->methods.push_back({"String", {}, [](const CallArgs& c) -> Result<Value> {
                            int64_t d = c.args[0].as_int();
                            if (d >= 0 && d < 7) return Value::string(kLongDays[d]);
                            return Value::string(fmt::format("%!Weekday({})", d));
                          }});
    return w;
  }();
  return Value::integer(d, t);
}

Value month_value(int m) {
  static const Type* t = [] {
    Type* mt = make_mutable_type(Kind::kInt, "time.Month", "int");
    mt->methods.push_back({"String", {}, [](const CallArgs& c) -> Result<Value> {
                             int64_t m = c.args[0].as_int();
                             if (m >= 1 && m <= 12) return Value::string(kLongMonths[m - 1]);
                             return Value::string(fmt::format("%!Month({})", m));
                           }});
    return mt;
  }();
  return Value::integer(m, t);
}

GoTime round_time(const GoTime& t, int64_t d, bool round) {
  if (d <= 0) return t;
  // Go rounds the absolute time since its zero time; Unix-based arithmetic
  // gives the same result for durations dividing a day.
  __int128 abs = (static_cast<__int128>(t.sec) + 62135596800) * kNanosPerSecond + t.nsec;
  __int128 r = abs % d;
  if (round && r + r >= d) {
    return go_time_add(t, static_cast<int64_t>(d - r));
  }
  return go_time_add(t, -static_cast<int64_t>(r));
}

void add_time_methods(Type* t) {
  auto m = [t](const char* name, Signature sig, Callable fn) {
    t->methods.push_back({name, std::move(sig), std::move(fn)});
  };
  const Type* tt = t;
  m("String", {}, [](const CallArgs& c) { return string_result(go_time_string(recv_time(c))); });
  m("Format", {{string_type()}}, [](const CallArgs& c) {
    return string_result(go_time_format(recv_time(c), c.args[1].as_string()));
  });
  m("Unix", {}, [](const CallArgs& c) -> Result<Value> { return Value::integer(recv_time(c).sec, int64_type()); });
  m("UnixMilli", {}, [](const CallArgs& c) -> Result<Value> {
    const GoTime& t = recv_time(c);
    return Value::integer(t.sec * 1000 + t.nsec / 1'000'000, int64_type());
  });
  m("UnixMicro", {}, [](const CallArgs& c) -> Result<Value> {
    const GoTime& t = recv_time(c);
    return Value::integer(t.sec * 1'000'000 + t.nsec / 1000, int64_type());
  });
  m("UnixNano", {}, [](const CallArgs& c) -> Result<Value> {
    const GoTime& t = recv_time(c);
    return Value::integer(t.sec * kNanosPerSecond + t.nsec, int64_type());
  });
  m("UTC", {}, [](const CallArgs& c) -> Result<Value> { return time_value(*go_time_in(recv_time(c), "UTC")); });
  m("Local", {}, [](const CallArgs& c) -> Result<Value> { return time_value(*go_time_in(recv_time(c), "Local")); });
  m("IsZero", {}, [](const CallArgs& c) -> Result<Value> { return Value::boolean(recv_time(c).is_zero()); });
  m("Year", {}, [](const CallArgs& c) -> Result<Value> { return Value::integer(civil(recv_time(c)).year); });
  m("Month", {}, [](const CallArgs& c) -> Result<Value> { return month_value(civil(recv_time(c)).month); });
  m("Day", {}, [](const CallArgs& c) -> Result<Value> { return Value::integer(civil(recv_time(c)).day); });
  m("Hour", {}, [](const CallArgs& c) -> Result<Value> { return Value::integer(civil(recv_time(c)).hour); });
  m("Minute", {}, [](const CallArgs& c) -> Result<Value> { return Value::integer(civil(recv_time(c)).minute); });
  m("Second", {}, [](const CallArgs& c) -> Result<Value> { return Value::integer(civil(recv_time(c)).second); });
  m("Nanosecond", {}, [](const CallArgs& c) -> Result<Value> { return Value::integer(recv_time(c).nsec); });
  m("YearDay", {}, [](const CallArgs& c) -> Result<Value> { return Value::integer(civil(recv_time(c)).yday); });
  m("Weekday", {}, [](const CallArgs& c) -> Result<Value> { return weekday_value(civil(recv_time(c)).weekday); });
  m("Sub", {{tt}}, [](const CallArgs& c) -> Result<Value> {
    return duration_value(go_time_sub(recv_time(c), *as_time(c.args[1])));
  });
  m("Add", {{duration_type()}}, [](const CallArgs& c) -> Result<Value> {
    return time_value(go_time_add(recv_time(c), c.args[1].as_int()));
  });
  m("Before", {{tt}}, [](const CallArgs& c) -> Result<Value> {
    return Value::boolean(go_time_sub(*as_time(c.args[1]), recv_time(c)) > 0);
  });
  m("After", {{tt}}, [](const CallArgs& c) -> Result<Value> {
    return Value::boolean(go_time_sub(recv_time(c), *as_time(c.args[1])) > 0);
  });
  m("Equal", {{tt}}, [](const CallArgs& c) -> Result<Value> {
    return Value::boolean(go_time_sub(recv_time(c), *as_time(c.args[1])) == 0);
  });
  m("Truncate", {{duration_type()}}, [](const CallArgs& c) -> Result<Value> {
    return time_value(round_time(recv_time(c), c.args[1].as_int(), false));
  });
  m("Round", {{duration_type()}}, [](const CallArgs& c) -> Result<Value> {
    return time_value(round_time(recv_time(c), c.args[1].as_int(), true));
  });
}

int64_t round_duration(int64_t d, int64_t m, bool round) {
  if (m <= 0) return d;
  int64_t r = d % m;
  if (!round) return d - r;
  if (d < 0) {
    r = -r;
    if (r + r < m) return d + r;
    int64_t d1 = d - m + r;
    return d1 < d ? d1 : INT64_MIN;
  }
  if (r + r < m) return d - r;
  int64_t d1 = d + m - r;
  return d1 > d ? d1 : INT64_MAX;
}

void add_duration_methods(Type* t) {
  auto m = [t](const char* name, Signature sig, Callable fn) {
    t->methods.push_back({name, std::move(sig), std::move(fn)});
  };
  auto secs = [](const CallArgs& c, double unit) {
    int64_t d = c.args[0].as_int();
    int64_t whole = d / static_cast<int64_t>(unit);
    int64_t rest = d % static_cast<int64_t>(unit);
    return Value::floating(static_cast<double>(whole) + static_cast<double>(rest) / unit);
  };
  m("String", {}, [](const CallArgs& c) { return string_result(format_go_duration(c.args[0].as_int())); });
  m("Seconds", {}, [secs](const CallArgs& c) -> Result<Value> { return secs(c, 1e9); });
  m("Minutes", {}, [secs](const CallArgs& c) -> Result<Value> { return secs(c, 60e9); });
  m("Hours", {}, [secs](const CallArgs& c) -> Result<Value> { return secs(c, 3600e9); });
  m("Milliseconds", {}, [](const CallArgs& c) -> Result<Value> {
    return Value::integer(c.args[0].as_int() / 1'000'000, int64_type());
  });
  m("Microseconds", {}, [](const CallArgs& c) -> Result<Value> {
    return Value::integer(c.args[0].as_int() / 1000, int64_type());
  });
  m("Nanoseconds", {}, [](const CallArgs& c) -> Result<Value> {
    return Value::integer(c.args[0].as_int(), int64_type());
  });
  const Type* dt = t;
  m("Round", {{dt}}, [](const CallArgs& c) -> Result<Value> {
    return duration_value(round_duration(c.args[0].as_int(), c.args[1].as_int(), true));
  });
  m("Truncate", {{dt}}, [](const CallArgs& c) -> Result<Value> {
    return duration_value(round_duration(c.args[0].as_int(), c.args[1].as_int(), false));
  });
}

}  // namespace

const Type* time_type() {
  static const Type* t = [] {
    Type* tt = make_mutable_type(Kind::kStruct, "time.Time",
                                 "struct { wall uint64; ext int64; loc *time.Location }");
    tt->unexported = {"wall", "ext", "loc"};
    add_time_methods(tt);
    return tt;
  }();
  return t;
}

const Type* duration_type() {
  static const Type* t = [] {
    Type* dt = make_mutable_type(Kind::kInt, "time.Duration", "int64");
    add_duration_methods(dt);
    return dt;
  }();
  return t;
}

Value time_value(GoTime t) {
  return Value::native(std::make_shared<const GoTime>(std::move(t)), time_type());
}

Value duration_value(int64_t nanos) { return Value::integer(nanos, duration_type()); }

const GoTime* as_time(const Value& v) {
  const Value& x = v.kind() == Kind::kPointer ? v.pointee() : v;
  if (x.type() != time_type()) return nullptr;
  return x.native<GoTime>();
}

}  // namespace vigil::templates
