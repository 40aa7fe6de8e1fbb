#pragma once

// A fixed set of threads that run delivery attempts, now or at a time read
// from a Clock. Nothing here sleeps on its own idea of time: a task due at T
// runs once clock.now() >= T. With a ManualClock, tests move the clock and
// call wake(); with the system clock, workers wake up by themselves.
//
// The queue is bounded: submit() refuses work beyond max_queued tasks, so an
// overloaded process fails fast instead of growing without limit.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <queue>
#include <thread>
#include <vector>

#include "model/clock.h"

namespace vigil::net {

class WorkerPool {
 public:
  // A task learns whether it runs (false) or is dropped at shutdown (true).
  using Task = std::function<void(bool cancelled)>;

  WorkerPool(size_t threads, const Clock& clock, size_t max_queued = 100'000);
  // Stops: running tasks finish, waiting ones are called with cancelled=true.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs `task` on a free worker once `due` has come (now when 0). False
  // when the queue is full or the pool is stopping; the task is then not run.
  bool submit(Task task, Millis due = 0);

  // The clock may have moved: look again at waiting tasks.
  void wake();
  // The earliest time a waiting task is due, if any waits.
  std::optional<Millis> next_due() const;
  // Blocks until no task is ready to run or running (waiting ones aside).
  void wait_idle();
  // The same, giving up at `deadline` (of the steady clock: shutdown waits
  // real time); true when idle.
  bool wait_idle_until(std::chrono::steady_clock::time_point deadline);
  size_t queued() const;
  size_t threads() const { return threads_.size(); }
  void stop();

 private:
  struct Timed {
    Millis due;
    uint64_t seq;
    Task* task;
    bool operator>(const Timed& o) const { return due > o.due || (due == o.due && seq > o.seq); }
  };
  void run();
  void promote_due_locked(Millis now);

  const Clock& clock_;
  const size_t max_queued_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable idle_cv_;
  std::deque<Task> ready_;
  std::priority_queue<Timed, std::vector<Timed>, std::greater<>> timed_;
  uint64_t seq_ = 0;
  size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace vigil::net
