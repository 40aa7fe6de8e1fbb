#pragma once

// Discovery that asks a source for its targets every refresh_interval, as
// Prometheus' refresh discoveries do (dns_sd_configs, http_sd_configs): an
// answer replaces the targets; a failed refresh keeps the previous ones and
// shows its error until a refresh succeeds.

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/duration.h"
#include "storage/file_sd.h"

namespace vigil::storage {

class RefreshDiscovery {
 public:
  virtual ~RefreshDiscovery() = default;

  struct Answer {
    std::optional<std::vector<TargetGroup>> groups;  // nullopt: keep the previous ones
    std::string error;
  };

  // Asks the source when due (or when `force`); true when the groups
  // changed.
  bool refresh(Millis now, bool force);

  // The same in three steps, so that the asking can run on another thread
  // while the caller goes on: begin() when due() (it schedules the next
  // refresh), ask() on any thread (it touches nothing but the counters),
  // then finish() with its answer, serialised with begin() and the readers
  // of groups() and error(); true when the groups changed.
  bool due(Millis now) const { return !asking_ && now >= next_; }
  void begin(Millis now) {
    next_ = now + interval_;
    asking_ = true;
  }
  Answer ask() { return fetch(); }
  bool finish(Answer a);

  // When the next refresh is due (while one is being asked: the one after).
  Millis next_due() const { return next_; }
  bool asking() const { return asking_; }
  const std::vector<TargetGroup>& groups() const { return groups_; }
  // What is asked ("dns_sd_configs _api._tcp.example.org", the URL).
  const std::string& source() const { return source_; }
  // The last refresh's failure; empty when it succeeded.
  const std::string& error() const { return error_; }
  // The mechanism ("dns", "http"), its lookups and failed lookups so far.
  virtual const char* mechanism() const = 0;
  uint64_t lookups() const { return lookups_; }
  uint64_t failures() const { return failures_; }

 protected:
  RefreshDiscovery(std::string source, Millis interval) : source_(std::move(source)), interval_(interval) {}

  virtual Answer fetch() = 0;

  // Counted by fetch(), read from any thread.
  std::atomic<uint64_t> lookups_ = 0;
  std::atomic<uint64_t> failures_ = 0;

 private:
  std::string source_;
  Millis interval_;
  Millis next_ = 0;
  bool asking_ = false;
  std::vector<TargetGroup> groups_;
  std::string error_;
};

}  // namespace vigil::storage
