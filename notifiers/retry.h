#pragma once

// When a failed delivery is tried again, and why it failed.
//
// An attempt that fails with a retryable error is tried again after an
// exponentially growing, jittered wait (upstream's backoff: 0.5s, x1.5,
// +-50%, at most 60s), or after the receiver's Retry-After when that is
// later, until the notification's deadline. 2xx is success; 5xx, 429 and
// transport errors are retried; other statuses are not (an integration may
// add codes, as PagerDuty's v1 API does with 403).

#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>

#include "model/duration.h"
#include "net/http_client.h"

namespace vigil::notifiers {

// Upstream's failure reasons, the label of the failed-notifications counter.
enum class FailureReason : uint8_t {
  kOther,
  kClientError,
  kServerError,
  kContextCanceled,
  kDeadlineExceeded,
  kAuthError,
  kRateLimited,
};
inline constexpr size_t kFailureReasons = 7;
std::string_view reason_name(FailureReason r);  // "other", "clientError", ...
FailureReason reason_from_status(long status);

// The outcome of one attempt.
struct AttemptResult {
  bool ok = false;
  bool retry = false;
  FailureReason reason = FailureReason::kOther;
  std::string error;                  // redacted; empty when ok
  std::optional<Millis> retry_after;  // the receiver asked to wait until then

  static AttemptResult success() { return {true, false, FailureReason::kOther, {}, std::nullopt}; }
  static AttemptResult permanent(std::string error, FailureReason reason = FailureReason::kOther) {
    return {false, false, reason, std::move(error), std::nullopt};
  }
  static AttemptResult transient(std::string error, FailureReason reason = FailureReason::kOther) {
    return {false, true, reason, std::move(error), std::nullopt};
  }
};

// Classifies an HTTP exchange. `now` turns a Retry-After date into a time.
// The error says "unexpected status code N" and, when the body says more,
// what it says (cut short), as upstream's errors do.
AttemptResult check_http(const Result<net::HttpResponse>& r, Millis now,
                         std::span<const long> extra_retry_codes = {});

// Retry-After is either delay-seconds or an HTTP date; nullopt when it is
// neither.
std::optional<Millis> parse_retry_after(std::string_view value, Millis now);

class Backoff {
 public:
  struct Options {
    Millis initial = 500;
    double multiplier = 1.5;
    double jitter = 0.5;  // each wait is interval * (1 +- jitter)
    Millis max_interval = 60 * kSecond;
  };
  Backoff(Options o, uint64_t seed);
  // The wait before the next attempt.
  Millis next();

 private:
  Options o_;
  double interval_;
  std::mt19937_64 rng_;
};

// When to try again after a failure at `now`: after `wait`, or at the
// receiver's Retry-After when later; nullopt when that is not before the
// deadline.
std::optional<Millis> next_attempt_at(Millis now, Millis wait, std::optional<Millis> retry_after,
                                      Millis deadline);

}  // namespace vigil::notifiers
