// Retry policy: which failures are retried, how long to wait, and when to stop.
#include <doctest/doctest.h>

#include "notifiers/retry.h"

using namespace vigil;
using namespace vigil::net;
using namespace vigil::notifiers;

namespace {

Result<HttpResponse> status(long code, std::string body = "", std::string retry_after = "") {
  HttpResponse r;
  r.status = code;
  r.body = std::move(body);
  r.retry_after = std::move(retry_after);
  return r;
}

}  // namespace

TEST_CASE("retry: 2xx succeeds, 5xx and 429 are retried, other 4xx are not") {
  CHECK(check_http(status(200), 0).ok);
  CHECK(check_http(status(204), 0).ok);
  for (long code : {500L, 502L, 503L, 429L}) {
    AttemptResult r = check_http(status(code), 0);
    CHECK_FALSE(r.ok);
    CHECK_MESSAGE(r.retry, code);
  }
  for (long code : {400L, 401L, 403L, 404L, 413L}) {
    AttemptResult r = check_http(status(code), 0);
    CHECK_FALSE(r.ok);
    CHECK_FALSE_MESSAGE(r.retry, code);
  }
  const long extra[] = {403};
  CHECK(check_http(status(403), 0, extra).retry);
  CHECK(check_http(Result<HttpResponse>(fail("Connection refused")), 0).retry);
}

TEST_CASE("retry: failure reasons follow upstream's classes") {
  CHECK(check_http(status(500), 0).reason == FailureReason::kServerError);
  CHECK(check_http(status(404), 0).reason == FailureReason::kClientError);
  CHECK(check_http(status(401), 0).reason == FailureReason::kAuthError);
  CHECK(check_http(status(403), 0).reason == FailureReason::kAuthError);
  CHECK(check_http(status(429), 0).reason == FailureReason::kRateLimited);
  CHECK(reason_name(FailureReason::kDeadlineExceeded) == "contextDeadlineExceeded");
}

TEST_CASE("retry: the error carries the status and the start of the body") {
  AttemptResult r = check_http(status(503, "upstream down\n"), 0);
  CHECK(r.error == "unexpected status code 503: upstream down");
  AttemptResult long_body = check_http(status(500, std::string(5000, 'x')), 0);
  CHECK(long_body.error.size() < 600);
  CHECK(long_body.error.ends_with("..."));
}

TEST_CASE("retry: Retry-After in seconds or as an HTTP date") {
  const Millis now = 1'700'000'000'000;
  CHECK(parse_retry_after("30", now) == now + 30 * kSecond);
  CHECK(parse_retry_after(" 0 ", now) == now);
  // 2023-11-14T22:14:20Z is a minute after now.
  CHECK(parse_retry_after("Tue, 14 Nov 2023 22:14:20 GMT", now) == now + kMinute);
  // A date in the past means now.
  CHECK(parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", now) == now);
  CHECK_FALSE(parse_retry_after("soon", now).has_value());
  CHECK_FALSE(parse_retry_after("-5", now).has_value());
  CHECK_FALSE(parse_retry_after("", now).has_value());
  AttemptResult r = check_http(status(429, "", "120"), now);
  REQUIRE(r.retry_after.has_value());
  CHECK(*r.retry_after == now + 120 * kSecond);
}

TEST_CASE("retry: backoff grows by 1.5 with +-50% jitter and a 60s cap") {
  Backoff b({}, 42);
  double interval = 500;
  for (int i = 0; i < 30; ++i) {
    Millis w = b.next();
    CHECK(w >= static_cast<Millis>(interval * 0.5) - 1);
    CHECK(w <= static_cast<Millis>(interval * 1.5) + 1);
    interval = std::min(interval * 1.5, 60000.0);
  }
  // Two seeds give two different sequences: the jitter is real.
  Backoff x({}, 1), y({}, 2);
  bool differ = false;
  for (int i = 0; i < 5; ++i) differ |= x.next() != y.next();
  CHECK(differ);
}

TEST_CASE("retry: the next attempt honours Retry-After and never passes the deadline") {
  CHECK(next_attempt_at(1000, 500, std::nullopt, 10'000) == 1500);
  CHECK(next_attempt_at(1000, 500, 5000, 10'000) == 5000);
  CHECK(next_attempt_at(1000, 500, 1200, 10'000) == 1500);  // the backoff is longer
  CHECK_FALSE(next_attempt_at(9800, 500, std::nullopt, 10'000).has_value());
  CHECK_FALSE(next_attempt_at(1000, 500, 20'000, 10'000).has_value());
}
