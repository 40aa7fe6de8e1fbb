#include "routing/time_interval.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>

namespace vigil::routing {

namespace {

constexpr std::string_view kWeekdays[] = {"sunday",   "monday", "tuesday", "wednesday",
                                          "thursday", "friday", "saturday"};
constexpr std::string_view kMonths[] = {"january", "february", "march",     "april",
                                        "may",     "june",     "july",      "august",
                                        "september", "october", "november", "december"};

// Go's strconv.Atoi.
Result<int> atoi(std::string_view s) {
  std::string_view digits = s;
  bool neg = false;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    neg = digits[0] == '-';
    digits.remove_prefix(1);
  }
  int64_t v = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (digits.empty() || digits[0] == '+' || digits[0] == '-' || p != digits.data() + digits.size() ||
      (ec != std::errc() && ec != std::errc::result_out_of_range))
    return fail(fmt::format("strconv.Atoi: parsing \"{}\": invalid syntax", s));
  if (ec == std::errc::result_out_of_range || v > INT32_MAX)
    return fail(fmt::format("strconv.Atoi: parsing \"{}\": value out of range", s));
  return static_cast<int>(neg ? -v : v);
}

template <typename Member>
Result<InclusiveRange> parse_range(std::string_view in, Member member) {
  std::string lower(in);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view s = lower;
  size_t colon = s.find(':');
  if (colon == std::string_view::npos) {
    auto v = member(s);
    if (!v) return std::unexpected(v.error());
    return InclusiveRange{*v, *v};
  }
  if (s.find(':', colon + 1) != std::string_view::npos)
    return fail(fmt::format("couldn't parse range {}, invalid format", s));
  auto b = member(s.substr(0, colon));
  if (!b) return std::unexpected(b.error());
  auto e = member(s.substr(colon + 1));
  if (!e) return std::unexpected(e.error());
  return InclusiveRange{*b, *e};
}

Result<int> parse_clock(std::string_view s) {
  bool ok = s == "24:00";
  if (!ok && s.size() == 5 && s[2] == ':' && std::isdigit(static_cast<unsigned char>(s[0])) &&
      std::isdigit(static_cast<unsigned char>(s[1])) && s[3] >= '0' && s[3] <= '5' &&
      std::isdigit(static_cast<unsigned char>(s[4]))) {
    int h = (s[0] - '0') * 10 + (s[1] - '0');
    ok = h <= 23;
  }
  if (!ok) return fail(fmt::format("couldn't parse timestamp {}, invalid format", s));
  return ((s[0] - '0') * 10 + (s[1] - '0')) * 60 + (s[3] - '0') * 10 + (s[4] - '0');
}

template <typename Pred>
bool any_of(const std::vector<InclusiveRange>& rs, Pred in) {
  return std::any_of(rs.begin(), rs.end(), in);
}

}  // namespace

Result<TimeRange> parse_time_range(std::string_view start, std::string_view end) {
  if (start.empty() || end.empty()) return fail("both start and end times must be provided");
  auto s = parse_clock(start);
  if (!s) return std::unexpected(s.error());
  auto e = parse_clock(end);
  if (!e) return std::unexpected(e.error());
  if (*s >= *e) return fail("start time cannot be equal or greater than end time");
  return TimeRange{*s, *e};
}

Result<InclusiveRange> parse_weekday_range(std::string_view s) {
  auto r = parse_range(s, [](std::string_view m) -> Result<int> {
    for (int i = 0; i < 7; ++i)
      if (kWeekdays[i] == m) return i;
    return fail(fmt::format("{} is not a valid weekday", m));
  });
  if (r && r->begin > r->end) return fail("start day cannot be before end day");
  return r;
}

Result<InclusiveRange> parse_day_of_month_range(std::string_view s) {
  auto r = parse_range(s, atoi);
  if (!r) return r;
  for (int d : {r->begin, r->end})
    if (d == 0 || d < -31 || d > 31) return fail(fmt::format("{} is not a valid day of the month: out of range", d));
  if (r->begin < 0 && r->end > 0) return fail("end day must be negative if start day is negative");
  // Months have at least 28 days: catch ranges that are always empty.
  int b = r->begin < 0 ? 28 + r->begin : r->begin;
  int e = r->end < 0 ? 28 + r->end : r->end;
  if (b > e) return fail(fmt::format("end day {} is always before start day {}", r->end, r->begin));
  return r;
}

Result<InclusiveRange> parse_month_range(std::string_view s) {
  auto r = parse_range(s, [](std::string_view m) -> Result<int> {
    for (int i = 0; i < 12; ++i)
      if (kMonths[i] == m) return i + 1;
    auto n = atoi(m);
    if (!n) return fail(fmt::format("{} is not a valid month", m));
    return *n;
  });
  if (r && r->begin > r->end) {
    auto name = [](int m) { return m >= 1 && m <= 12 ? kMonths[m - 1] : std::string_view(); };
    return fail(fmt::format("end month {} is before start month {}", name(r->end), name(r->begin)));
  }
  return r;
}

Result<InclusiveRange> parse_year_range(std::string_view s) {
  auto r = parse_range(s, atoi);
  if (r && r->begin > r->end)
    return fail(fmt::format("end year {} is before start year {}", r->end, r->begin));
  return r;
}

Result<const date::time_zone*> load_location(std::string_view name) {
  if (name.empty() || name == "UTC") return nullptr;
  try {
    if (name == "Local") return date::current_zone();
    // Go refuses paths that climb out of the zone database.
    if (name.find("..") != std::string_view::npos || name.starts_with('/'))
      return fail(fmt::format("unknown time zone {}", name));
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return fail(fmt::format("unknown time zone {}", name));
  }
}

bool TimeInterval::contains(Millis t) const {
  using std::chrono::milliseconds;
  const date::sys_time<milliseconds> tp{milliseconds(t)};
  date::local_time<milliseconds> lt{tp.time_since_epoch()};
  if (location != nullptr) lt = location->to_local(tp);
  const auto day = date::floor<date::days>(lt);
  const date::year_month_day ymd{day};
  const int minute =
      static_cast<int>(std::chrono::duration_cast<std::chrono::minutes>(lt - day).count());
  if (times) {
    bool in = std::any_of(times->begin(), times->end(), [&](const TimeRange& r) {
      return minute >= r.start_minute && minute < r.end_minute;
    });
    if (!in) return false;
  }
  const int mday = static_cast<int>(static_cast<unsigned>(ymd.day()));
  if (days_of_month) {
    const int last = static_cast<int>(static_cast<unsigned>(
        date::year_month_day_last(ymd.year(), date::month_day_last(ymd.month())).day()));
    bool in = any_of(*days_of_month, [&](const InclusiveRange& r) {
      int b = r.begin < 0 ? last + r.begin + 1 : r.begin;
      int e = r.end < 0 ? last + r.end + 1 : r.end;
      if (b > last) return false;  // the range starts after this month's end
      b = std::clamp(b, -last, last);
      e = std::clamp(e, -last, last);
      return mday >= b && mday <= e;
    });
    if (!in) return false;
  }
  if (months) {
    const int m = static_cast<int>(static_cast<unsigned>(ymd.month()));
    if (!any_of(*months, [&](const InclusiveRange& r) { return m >= r.begin && m <= r.end; }))
      return false;
  }
  if (weekdays) {
    const int wd = static_cast<int>(date::weekday(day).c_encoding());
    if (!any_of(*weekdays, [&](const InclusiveRange& r) { return wd >= r.begin && wd <= r.end; }))
      return false;
  }
  if (years) {
    const int y = static_cast<int>(ymd.year());
    if (!any_of(*years, [&](const InclusiveRange& r) { return y >= r.begin && y <= r.end; }))
      return false;
  }
  return true;
}

void TimeIntervals::add(std::string name, std::vector<TimeInterval> intervals) {
  intervals_[std::move(name)] = std::move(intervals);
}

bool TimeIntervals::has(std::string_view name) const { return intervals_.contains(name); }

Result<std::vector<std::string>> TimeIntervals::active(const std::vector<std::string>& names,
                                                       Millis t) const {
  std::vector<std::string> in;
  for (const std::string& name : names) {
    auto it = intervals_.find(name);
    if (it == intervals_.end())
      return fail(fmt::format("time interval {} doesn't exist in config", name));
    for (const TimeInterval& ti : it->second)
      if (ti.contains(t)) in.push_back(name);
  }
  return in;
}

}  // namespace vigil::routing
