#pragma once

// Discovery that asks a source for its targets every refresh_interval, as
// Prometheus' refresh discoveries do (dns_sd_configs, http_sd_configs): an
// answer replaces the targets; a failed refresh keeps the previous ones and
// shows its error until a refresh succeeds.

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

  // Asks the source when due (or when `force`); true when the groups
  // changed.
  bool refresh(Millis now, bool force);
  Millis next_due() const { return next_; }
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

  struct Answer {
    std::optional<std::vector<TargetGroup>> groups;  // nullopt: keep the previous ones
    std::string error;
  };
  virtual Answer fetch() = 0;

  uint64_t lookups_ = 0;
  uint64_t failures_ = 0;

 private:
  std::string source_;
  Millis interval_;
  Millis next_ = 0;
  std::vector<TargetGroup> groups_;
  std::string error_;
};

}  // namespace vigil::storage
