#include "server/state_keeper.h"

#include "model/file.h"

namespace vigil::server {

StateKeeper::StateKeeper(std::string storage_path, routing::Router& router, rules::RuleManager& rules,
                         const Clock& clock, Logger& log)
    : storage_path_(std::move(storage_path)), router_(router), rules_(rules), clock_(clock), log_(log) {}

void StateKeeper::log_error(const char* msg, const Error& e) {
  log_.error(msg, {{"component", "storage"}, {"err", e.message}});
}

void StateKeeper::restore() {
  std::lock_guard lock(mu_);
  auto restored = router_.restore();
  damage_ = std::move(restored.damage);
  for (const Error& e : restored.errors) log_error("rewriting state files failed", e);
  if (auto d = restore_state_file(path("rules.json"), clock_.now(),
                                  [this](std::string_view text) { return rules_.restore(text); },
                                  "`for` timers and keep_firing_for start afresh"))
    damage_.push_back(std::move(*d));
  for (const StateDamage& d : damage_) {
    log_.error("state file damaged: what it held is lost, the rest is loaded",
               {{"component", "storage"}, {"file", d.file}, {"offset", std::to_string(d.begin)},
                {"bytes", std::to_string(d.bytes())}, {"moved_to", d.moved_to}, {"err", d.what}});
  }
}

void StateKeeper::save_router() {
  std::lock_guard lock(mu_);
  if (auto r = router_.save_changed(saved_); !r) log_error("saving state failed", r.error());
}

void StateKeeper::save_rules() {
  std::lock_guard lock(mu_);
  uint64_t v = rules_.version();
  if (v == rules_saved_) return;
  if (auto r = write_file_atomic(path("rules.json"), rules_.snapshot()); !r) {
    log_error("saving rule state failed", r.error());
    return;
  }
  rules_saved_ = v;
}

void StateKeeper::compact() {
  std::lock_guard lock(mu_);
  if (auto r = router_.compact(); !r) log_error("folding a state log into its snapshot failed", r.error());
}

void StateKeeper::save_all() {
  save_rules();
  std::lock_guard lock(mu_);
  if (auto r = router_.snapshot(); !r) log_error("saving state failed", r.error());
}

}  // namespace vigil::server
