#pragma once

// alertmanager.yml (Alertmanager 0.34, upstream docs/configuration.md) and its
// loader, with upstream's validations.
//
// load_config(path) reads and checks a file; when ok(), `config` holds:
//  - global: resolve_timeout and the other global settings (config::ConfigValue),
//  - route: the route tree as written (routing/route.h builds the tree that
//    matches alerts, with inherited options),
//  - inhibit_rules with their matchers, receivers with their integrations
//    (settings with defaults and global values applied; secrets and
//    `*_file` paths kept as written, http_config file paths made absolute),
//  - time intervals (mute_time_intervals and time_intervals, one namespace),
//  - templates: the glob patterns, relative to the file's directory.
// Every error carries the line and column it is about (0 when it is about the
// file as a whole); messages use upstream's wording where upstream has one.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/value.h"
#include "model/duration.h"
#include "model/error.h"
#include "model/labels.h"
#include "routing/matchers.h"
#include "routing/time_interval.h"

namespace vigil::routing {

// 1-based position in the file; 0 when unknown.
struct Position {
  int line = 0;
  int column = 0;
};

struct RouteConfig {
  std::string receiver;  // empty: the parent's
  // Unset: the parent's. `...` sets group_by_all instead of a name.
  std::optional<std::vector<std::string>> group_by;
  bool group_by_all = false;
  // match, match_re and matchers together, sorted as upstream (match_re
  // values are anchored as upstream stores them: "^(?:RE)$").
  Matchers matchers;
  std::vector<std::string> mute_time_intervals;    // not inherited
  std::vector<std::string> active_time_intervals;  // not inherited
  bool continue_matching = false;
  std::optional<Millis> group_wait, group_interval, repeat_interval;
  std::vector<Label> labels;  // values are templates; children inherit and override
  std::vector<RouteConfig> routes;
  Position position;           // the route's mapping
  Position receiver_position;  // its receiver value, when written
};

struct InhibitRuleConfig {
  std::string name;
  Matchers source;
  Matchers target;
  std::vector<std::string> equal;
  Position position;
};

// One entry of a receiver's `<type>_configs` list.
struct IntegrationConfig {
  std::string type;  // "slack", "email", "webhook", ...
  int index = 0;     // position within the receiver's list of this type
  bool send_resolved = false;
  // Every field of the integration, defaults and global values applied
  // (http_config included). Null for a `- ` item upstream keeps as nil.
  config::ConfigValue settings;
  Position position;
};

struct ReceiverConfig {
  std::string name;
  std::vector<Label> labels;  // always includes name=<receiver name>
  std::vector<IntegrationConfig> integrations;  // in upstream's build order
  Position position;
};

struct TimeIntervalConfig {
  std::string name;
  std::vector<TimeInterval> intervals;
  Position position;
};

struct GlobalConfig {
  Millis resolve_timeout = 5 * kMinute;
  config::ConfigValue settings;  // all global fields, defaults applied
};

struct Config {
  std::string path;  // as given to load_config; empty for parse_config
  GlobalConfig global;
  RouteConfig route;
  std::vector<InhibitRuleConfig> inhibit_rules;
  std::vector<ReceiverConfig> receivers;
  std::vector<std::string> templates;
  std::vector<TimeIntervalConfig> time_intervals;
  config::ConfigValue tracing;         // null when absent
  config::ConfigValue event_recorder;  // null when absent

  const ReceiverConfig* receiver(std::string_view name) const;
  TimeIntervals time_interval_set() const;
};

struct LoadOptions {
  // Alertmanager's --enable-feature=classic-mode / utf8-strict-mode.
  MatcherSyntax matcher_syntax = MatcherSyntax::kFallback;
  // The integration types ("slack", "opsgenie", ...) the caller can deliver
  // to (notifiers::can_deliver). A receiver using another one is said at
  // load time, where it is written: a warning, or an error when `strict`.
  // Unset: every type upstream knows is taken. When set, settings vigil
  // reads but does not act on (event_recorder's kafka_outputs) are said the
  // same way.
  std::function<bool(std::string_view type)> deliverable;
  bool strict = false;
};

struct LoadResult {
  Config config;              // complete only when errors is empty
  std::vector<Error> errors;  // every problem found, in file order
  // Loaded, but worth saying: matchers only the classic parser reads.
  std::vector<Error> warnings;
  bool ok() const { return errors.empty(); }
};

// Decodes and validates configuration text. Relative paths stay relative.
LoadResult parse_config(std::string_view text, const LoadOptions& opts = {});

// Reads `path` and parses it; relative template and http_config file paths
// are resolved against the file's directory, as upstream does.
LoadResult load_config(const std::string& path, const LoadOptions& opts = {});

}  // namespace vigil::routing
