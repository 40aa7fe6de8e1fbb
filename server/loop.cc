#include "server/loop.h"

#include <algorithm>
#include <chrono>

namespace vigil::server {

Loop::Loop(const Clock& clock, NextFn next, RunFn run, Millis max_wait)
    : clock_(clock), next_(std::move(next)), run_(std::move(run)), max_wait_(max_wait) {}

Loop::~Loop() { stop(); }

void Loop::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { loop(); });
}

void Loop::wake() {
  std::lock_guard lock(mu_);
  woken_ = true;
  cv_.notify_one();
}

void Loop::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

void Loop::loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    woken_ = false;
    lock.unlock();
    run_();
    Millis wait = max_wait_;
    if (auto due = next_ ? next_() : std::nullopt) {
      // A deadline already passed (a flush still in flight) is retried
      // shortly, not in a busy loop.
      wait = std::clamp<Millis>(*due - clock_.now(), 5, max_wait_);
    }
    lock.lock();
    if (!stop_ && !woken_) {
      cv_.wait_for(lock, std::chrono::milliseconds(wait), [this] { return stop_ || woken_; });
    }
  }
}

}  // namespace vigil::server
