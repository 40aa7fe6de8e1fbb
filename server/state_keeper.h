#pragma once

// What the daemon keeps in its storage folder besides the router's own logs:
// when each part's state is written, restored and folded, with one writer
// of state files at a time. The router writes silences, alerts and the
// notification log (routing/router.h); the rules' `for` timers and
// keep_firing_for state go to rules.json.

#include <mutex>
#include <string>
#include <vector>

#include "model/clock.h"
#include "model/state_file.h"
#include "routing/router.h"
#include "rules/manager.h"
#include "server/log.h"

namespace vigil::server {

class StateKeeper {
 public:
  // `router` and `rules` must outlive the keeper.
  StateKeeper(std::string storage_path, routing::Router& router, rules::RuleManager& rules, const Clock& clock,
              Logger& log);

  // Loads everything at start. What is damaged is logged, set aside and
  // remembered for metrics, never a reason not to start.
  void restore();
  // Writes what changed since the last save (after each router flush, or
  // each rule evaluation round).
  void save_router();
  void save_rules();
  // Folds the router's logs into fresh snapshots (every few seconds).
  void compact();
  // Everything, at shutdown.
  void save_all();

  // Constant after restore().
  const std::vector<StateDamage>& damage() const { return damage_; }

 private:
  std::string path(const char* name) const { return storage_path_ + "/" + name; }
  void log_error(const char* msg, const Error& e);

  // Constant after construction.
  const std::string storage_path_;
  routing::Router& router_;
  rules::RuleManager& rules_;
  const Clock& clock_;
  Logger& log_;
  std::vector<StateDamage> damage_;  // written by restore() only

  // One writer of state files at a time; guards the versions saved.
  std::mutex mu_;
  routing::Router::SavedVersions saved_;  // guarded by mu_
  uint64_t rules_saved_ = ~0ULL;          // guarded by mu_
};

}  // namespace vigil::server
