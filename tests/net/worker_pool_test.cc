// The worker pool runs tasks now or when the injected clock says they are due.
#include <doctest/doctest.h>

#include <atomic>
#include <latch>

#include "net/worker_pool.h"

using namespace vigil;
using namespace vigil::net;

TEST_CASE("worker pool: a task due now runs, a later one waits for the clock") {
  ManualClock clock(1000);
  WorkerPool pool(2, clock);
  std::atomic<int> now_ran{0}, later_ran{0};
  REQUIRE(pool.submit([&](bool cancelled) { now_ran += cancelled ? 100 : 1; }));
  REQUIRE(pool.submit([&](bool cancelled) { later_ran += cancelled ? 100 : 1; }, 5000));
  pool.wait_idle();
  CHECK(now_ran == 1);
  CHECK(later_ran == 0);
  CHECK(pool.next_due() == 5000);
  clock.set(4999);
  pool.wake();
  pool.wait_idle();
  CHECK(later_ran == 0);
  clock.set(5000);
  pool.wake();
  pool.wait_idle();
  CHECK(later_ran == 1);
  CHECK_FALSE(pool.next_due().has_value());
}

TEST_CASE("worker pool: tasks run concurrently on several threads") {
  ManualClock clock(0);
  WorkerPool pool(3, clock);
  std::latch all_started(3);
  std::atomic<int> done{0};
  for (int i = 0; i < 3; ++i)
    pool.submit([&](bool) {
      all_started.count_down();
      all_started.wait();  // only returns when three run at once
      ++done;
    });
  pool.wait_idle();
  CHECK(done == 3);
}

TEST_CASE("worker pool: the queue is bounded and stopping cancels what waits") {
  ManualClock clock(0);
  WorkerPool pool(1, clock, 2);
  std::atomic<int> cancelled{0}, ran{0};
  auto task = [&](bool c) { (c ? cancelled : ran)++; };
  CHECK(pool.submit(task, 100));
  CHECK(pool.submit(task, 200));
  CHECK_FALSE(pool.submit(task, 300));  // full
  CHECK(pool.queued() == 2);
  pool.stop();
  CHECK(cancelled == 2);
  CHECK(ran == 0);
  CHECK_FALSE(pool.submit(task));
}
