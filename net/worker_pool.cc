#include "net/worker_pool.h"

#include <algorithm>
#include <chrono>

namespace vigil::net {

WorkerPool::WorkerPool(size_t threads, const Clock& clock, size_t max_queued)
    : clock_(clock), max_queued_(max_queued) {
  threads = std::max<size_t>(threads, 1);
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

WorkerPool::~WorkerPool() { stop(); }

void WorkerPool::stop() {
  std::deque<Task> dropped;
  {
    std::lock_guard lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    dropped.swap(ready_);
    while (!timed_.empty()) {
      Task* t = timed_.top().task;
      timed_.pop();
      dropped.push_back(std::move(*t));
      delete t;
    }
  }
  work_cv_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
  for (auto& t : dropped) t(true);
  idle_cv_.notify_all();
}

bool WorkerPool::submit(Task task, Millis due) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || ready_.size() + timed_.size() >= max_queued_) return false;
    if (due <= 0 || due <= clock_.now()) {
      ready_.push_back(std::move(task));
    } else {
      timed_.push(Timed{due, seq_++, new Task(std::move(task))});
    }
  }
  work_cv_.notify_one();
  return true;
}

void WorkerPool::wake() {
  {
    std::lock_guard lock(mu_);
    promote_due_locked(clock_.now());
  }
  work_cv_.notify_all();
}

std::optional<Millis> WorkerPool::next_due() const {
  std::lock_guard lock(mu_);
  if (timed_.empty()) return std::nullopt;
  return timed_.top().due;
}

void WorkerPool::wait_idle() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return (ready_.empty() && running_ == 0) || stopping_; });
}

bool WorkerPool::wait_idle_until(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_until(lock, deadline, [&] { return (ready_.empty() && running_ == 0) || stopping_; });
}

size_t WorkerPool::queued() const {
  std::lock_guard lock(mu_);
  return ready_.size() + timed_.size();
}

void WorkerPool::promote_due_locked(Millis now) {
  while (!timed_.empty() && timed_.top().due <= now) {
    Task* t = timed_.top().task;
    timed_.pop();
    ready_.push_back(std::move(*t));
    delete t;
  }
}

void WorkerPool::run() {
  std::unique_lock lock(mu_);
  while (true) {
    if (stopping_) return;
    promote_due_locked(clock_.now());
    if (!ready_.empty()) {
      Task task = std::move(ready_.front());
      ready_.pop_front();
      ++running_;
      lock.unlock();
      task(false);
      task = nullptr;  // release what the task holds before reporting idle
      lock.lock();
      --running_;
      if (ready_.empty() && running_ == 0) idle_cv_.notify_all();
      continue;
    }
    if (timed_.empty()) {
      work_cv_.wait(lock);
    } else {
      // Re-read the clock at least once a second: it may jump.
      Millis wait = std::clamp<Millis>(timed_.top().due - clock_.now(), 1, 1000);
      work_cv_.wait_for(lock, std::chrono::milliseconds(wait));
    }
  }
}

}  // namespace vigil::net
