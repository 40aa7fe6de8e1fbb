#pragma once

// Replaying rules over a datasource's history: every group evaluated at
// each instant of its schedule between two times, in time order across
// groups, recording rules' outputs kept in a store of their own so that
// later rules read them (overlay_query), and every change of an alert's
// state reported with its instant.
//
// Each evaluation asks the datasource one instant query per rule (and
// fetches the raw samples rules over recorded series combine them with).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/labels.h"
#include "routing/config.h"
#include "rules/evaluation.h"
#include "rules/rule_file.h"

namespace vigil::rules {

struct BacktestOptions {
  int64_t from = 0, to = 0;               // ms, both included
  Millis evaluation_interval = kMinute;   // groups without their own
  // With an Alertmanager configuration: the alerts are sent (with
  // Prometheus' resend rules) to a router on a clock that follows the
  // replay, grouped, inhibited and timed by group_wait, group_interval and
  // repeat_interval, and each notification it would have sent is reported.
  std::shared_ptr<const routing::Config> alertmanager;
};

// A notification the router would have sent to one integration.
struct BacktestNotification {
  int64_t at = 0;  // ms
  std::string receiver, integration;
  std::string group_key;
  size_t firing = 0, resolved = 0;
};

// One change of an alert's state: pending, firing, or inactive (resolved).
struct AlertChange {
  int64_t at = 0;  // ms: the evaluation that saw it
  std::string file, group;
  Labels labels;  // alertname included
  AlertState state = AlertState::kPending;
  int64_t active_at = 0;
};

struct BacktestResult {
  std::vector<AlertChange> changes;  // in time order
  std::vector<BacktestNotification> notifications;  // in time order
  uint64_t evaluations = 0;          // rule evaluations
  // Rule failures, "group/rule at <time>: message", the first 100.
  std::vector<std::string> errors;
  uint64_t failures = 0;
};

BacktestResult backtest(const std::vector<RuleFile>& files, const BacktestOptions& opts, const QueryFn& remote,
                        const SeriesReader& series);

}  // namespace vigil::rules
