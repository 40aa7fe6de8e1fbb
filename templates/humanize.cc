#include "templates/humanize.h"

#include <cmath>
#include <cstdint>

#include <fmt/format.h>

#include "model/go_format.h"
#include "templates/go_time.h"
#include "templates/literals.h"

namespace vigil::templates {

namespace {

// fmt's "%.4g".
std::string g4(double v) {
  std::string s = go_format_float(v, 'g', 4);
  // fmt puts no '+' before positive numbers; strconv never does either, but
  // writes +Inf, which fmt keeps.
  return s;
}

}  // namespace

Result<double> convert_to_float(const Value& v) {
  if (v.type() == duration_type()) return static_cast<double>(v.as_int()) / 1e9;
  switch (v.kind()) {
    case Kind::kFloat:
      if (v.type() == float64_type()) return v.as_float();
      break;
    case Kind::kString:
      if (v.type() == string_type()) return go_parse_float(v.as_string());
      break;
    case Kind::kInt:
      if (v.type() == int_type() || v.type() == int64_type()) return static_cast<double>(v.as_int());
      break;
    case Kind::kUint:
      if (v.type() == uint64_type() || v.type()->name == "uint") return static_cast<double>(v.as_uint());
      break;
    case Kind::kInvalid: return fail("can't convert <nil> to float");
    default: break;
  }
  return fail("can't convert " + v.type()->name + " to float");
}

Result<std::string> humanize(const Value& in) {
  auto f = convert_to_float(in);
  if (!f) return std::unexpected(f.error());
  double v = *f;
  if (v == 0 || std::isnan(v) || std::isinf(v)) return g4(v);
  std::string prefix;
  if (std::fabs(v) >= 1) {
    for (const char* p : {"k", "M", "G", "T", "P", "E", "Z", "Y"}) {
      if (std::fabs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
    return g4(v) + prefix;
  }
  for (const char* p : {"m", "u", "n", "p", "f", "a", "z", "y"}) {
    if (std::fabs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return g4(v) + prefix;
}

Result<std::string> humanize_1024(const Value& in) {
  auto f = convert_to_float(in);
  if (!f) return std::unexpected(f.error());
  double v = *f;
  if (std::fabs(v) <= 1 || std::isnan(v) || std::isinf(v)) return g4(v);
  std::string prefix;
  for (const char* p : {"ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"}) {
    if (std::fabs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return g4(v) + prefix;
}

Result<std::string> humanize_duration(const Value& in) {
  auto f = convert_to_float(in);
  if (!f) return std::unexpected(f.error());
  double v = *f;
  if (std::isnan(v) || std::isinf(v)) return g4(v);
  if (v == 0) return g4(v) + "s";
  if (std::fabs(v) >= 1) {
    std::string sign;
    if (v < 0) {
      sign = "-";
      v = -v;
    }
    // Go converts with int64(v): out of range gives the minimum int64.
    int64_t duration = v >= 9.2233720368547758e18 ? INT64_MIN : static_cast<int64_t>(v);
    int64_t seconds = duration % 60;
    int64_t minutes = (duration / 60) % 60;
    int64_t hours = (duration / 60 / 60) % 24;
    int64_t days = duration / 60 / 60 / 24;
    if (days != 0) return fmt::format("{}{}d {}h {}m {}s", sign, days, hours, minutes, seconds);
    if (hours != 0) return fmt::format("{}{}h {}m {}s", sign, hours, minutes, seconds);
    if (minutes != 0) return fmt::format("{}{}m {}s", sign, minutes, seconds);
    return sign + g4(v) + "s";
  }
  std::string prefix;
  for (const char* p : {"m", "u", "n", "p", "f", "a", "z", "y"}) {
    if (std::fabs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return g4(v) + prefix + "s";
}

Result<std::string> humanize_percentage(const Value& in) {
  auto f = convert_to_float(in);
  if (!f) return std::unexpected(f.error());
  return g4(*f * 100) + "%";
}

Result<std::string> humanize_timestamp(const Value& in) {
  auto f = convert_to_float(in);
  if (!f) return std::unexpected(f.error());
  double v = *f;
  if (std::isnan(v) || std::isinf(v)) return g4(v);
  double ts = v * 1e9;
  if (ts > 9.2233720368547758e18 || ts < -9.2233720368547758e18) {
    return fail(go_format_float(v, 'g', -1) +
                " cannot be represented as a nanoseconds timestamp since it overflows int64");
  }
  auto nanos = static_cast<int64_t>(ts);
  int64_t sec = nanos / 1'000'000'000;
  int64_t ns = nanos % 1'000'000'000;
  if (ns < 0) {
    ns += 1'000'000'000;
    --sec;
  }
  return go_time_string(go_time_from_unix(sec, static_cast<int32_t>(ns)));
}

}  // namespace vigil::templates
