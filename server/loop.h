#pragma once

// A thread that runs a task whenever its next deadline comes due (asked of
// `next` after each run, at least every `max_wait`) or when woken: the shape
// of each of the daemon's loops (rules, router, scrape, upkeep).

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "model/clock.h"

namespace vigil::server {

class Loop {
 public:
  using NextFn = std::function<std::optional<Millis>()>;  // the next deadline, if any
  using RunFn = std::function<void()>;

  Loop(const Clock& clock, NextFn next, RunFn run, Millis max_wait);
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  void start();
  // Runs the task again as soon as the running one (if any) finishes.
  void wake();
  // Waits for the running task, then ends the thread. Idempotent.
  void stop();

 private:
  void loop();

  // Constant after construction.
  const Clock& clock_;
  const NextFn next_;
  const RunFn run_;
  const Millis max_wait_;

  std::mutex mu_;  // guards stop_, woken_ and the thread's start and end
  std::condition_variable cv_;
  bool stop_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace vigil::server
