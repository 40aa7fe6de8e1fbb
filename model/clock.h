#pragma once

#include <atomic>
#include <chrono>

#include "model/duration.h"

namespace vigil {

// Where everything that waits reads the time: group waits, repeat intervals,
// resolve timeouts, silence and notification-log expiry. Times are Unix
// milliseconds. Implementations are safe to read from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Millis now() const = 0;
};

// The wall clock.
class SystemClock final : public Clock {
 public:
  Millis now() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// Milliseconds of the monotonic clock (not Unix time): for deadlines that
// must not move when the wall clock is set.
class SteadyClock final : public Clock {
 public:
  Millis now() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
};

// A clock that moves only when told to: tests drive time with it. It may be
// set backwards, to test what a jumping wall clock does.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Millis start = 0) : now_(start) {}
  Millis now() const override { return now_.load(std::memory_order_relaxed); }
  void set(Millis t) { now_.store(t, std::memory_order_relaxed); }
  void advance(Millis d) { now_.fetch_add(d, std::memory_order_relaxed); }

 private:
  std::atomic<Millis> now_;
};

}  // namespace vigil
