#include "notifiers/retry.h"

#include <algorithm>
#include <charconv>
#include <ctime>

#include <fmt/format.h>

namespace vigil::notifiers {

using net::HttpResponse;

std::string_view reason_name(FailureReason r) {
  switch (r) {
    case FailureReason::kOther: return "other";
    case FailureReason::kClientError: return "clientError";
    case FailureReason::kServerError: return "serverError";
    case FailureReason::kContextCanceled: return "contextCanceled";
    case FailureReason::kDeadlineExceeded: return "contextDeadlineExceeded";
    case FailureReason::kAuthError: return "authError";
    case FailureReason::kRateLimited: return "rateLimited";
  }
  return "other";
}

FailureReason reason_from_status(long status) {
  if (status == 401 || status == 403) return FailureReason::kAuthError;
  if (status == 429) return FailureReason::kRateLimited;
  if (status / 100 == 4) return FailureReason::kClientError;
  if (status / 100 == 5) return FailureReason::kServerError;
  return FailureReason::kOther;
}

namespace {

// Bodies can be long HTML pages; an error message needs the start only.
std::string excerpt(std::string_view body) {
  constexpr size_t kMax = 512;
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r' || body.back() == ' ')) body.remove_suffix(1);
  if (body.size() <= kMax) return std::string(body);
  return std::string(body.substr(0, kMax)) + "...";
}

int month_number(std::string_view m) {
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; ++i)
    if (kMonths[i] == m) return i;
  return -1;
}

}  // namespace

std::optional<Millis> parse_retry_after(std::string_view v, Millis now) {
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v.empty()) return std::nullopt;
  int64_t secs = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), secs);
  if (ec == std::errc() && end == v.data() + v.size()) {
    if (secs < 0) return std::nullopt;
    return now + std::min<int64_t>(secs, 365LL * 24 * 3600) * kSecond;
  }
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
  char wday[4] = {0}, mon[4] = {0}, zone[4] = {0};
  int day = 0, year = 0, hh = 0, mm = 0, ss = 0;
  std::string s(v);
  if (std::sscanf(s.c_str(), "%3s, %d %3s %d %d:%d:%d %3s", wday, &day, mon, &year, &hh, &mm, &ss, zone) != 8)
    return std::nullopt;
  int m = month_number(mon);
  if (m < 0 || std::string_view(zone) != "GMT") return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = m;
  tm.tm_mday = day;
  tm.tm_hour = hh;
  tm.tm_min = mm;
  tm.tm_sec = ss;
  time_t t = timegm(&tm);
  return std::max<Millis>(now, static_cast<Millis>(t) * kSecond);
}

AttemptResult check_http(const Result<HttpResponse>& r, Millis now, std::span<const long> extra_retry_codes) {
  if (!r) return AttemptResult::transient(r.error().message);
  const long status = r->status;
  if (status / 100 == 2) return AttemptResult::success();
  AttemptResult out;
  out.retry = status / 100 == 5 || status == 429 ||
              std::find(extra_retry_codes.begin(), extra_retry_codes.end(), status) != extra_retry_codes.end();
  out.reason = reason_from_status(status);
  out.error = fmt::format("unexpected status code {}", status);
  if (std::string body = excerpt(r->body); !body.empty()) out.error += ": " + body;
  if (!r->retry_after.empty()) out.retry_after = parse_retry_after(r->retry_after, now);
  return out;
}

Backoff::Backoff(Options o, uint64_t seed) : o_(o), interval_(static_cast<double>(o.initial)), rng_(seed) {}

Millis Backoff::next() {
  std::uniform_real_distribution<double> dist(1 - o_.jitter, 1 + o_.jitter);
  Millis wait = static_cast<Millis>(interval_ * dist(rng_));
  interval_ = std::min(interval_ * o_.multiplier, static_cast<double>(o_.max_interval));
  return std::max<Millis>(wait, 1);
}

std::optional<Millis> next_attempt_at(Millis now, Millis wait, std::optional<Millis> retry_after, Millis deadline) {
  Millis at = now + wait;
  if (retry_after && *retry_after > at) at = *retry_after;
  if (at >= deadline) return std::nullopt;
  return at;
}

}  // namespace vigil::notifiers
