#pragma once

// The routing tree (upstream dispatch/route.go): each node holds its matchers
// and its effective options, inherited from its parent where the node leaves
// them out. An alert takes the routes match() returns: depth-first, the first
// matching child wins unless it has `continue: true`; a node that matches but
// none of whose children do is itself the result.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/duration.h"
#include "model/labels.h"
#include "routing/config.h"
#include "routing/matchers.h"

namespace vigil::routing {

struct RouteOptions {
  std::string receiver;
  std::vector<std::string> group_by;  // sorted, unique
  bool group_by_all = false;          // group_by: ['...']
  Millis group_wait = 30 * kSecond;
  Millis group_interval = 5 * kMinute;
  Millis repeat_interval = 4 * kHour;
  std::vector<std::string> mute_time_intervals;    // this node's own only
  std::vector<std::string> active_time_intervals;  // this node's own only
  std::vector<Label> labels;  // merged from the root down; values are templates
};

class Route {
 public:
  // The tree for a configuration's root route (upstream's defaults at the root).
  static std::unique_ptr<Route> build(const RouteConfig& root);

  const RouteOptions& options() const { return opts_; }
  const Matchers& matchers() const { return matchers_; }
  bool continue_matching() const { return continue_; }
  const Route* parent() const { return parent_; }
  const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }
  // A dense index, children before parents as upstream numbers them; the
  // root has the largest, route_count() - 1.
  int index() const { return index_; }
  int route_count() const;

  // The routes that take an alert with these labels, in tree order.
  std::vector<const Route*> match(const Labels& ls) const;
  void match(const Labels& ls, std::vector<const Route*>& out) const;

  // Upstream's route key ("{}/{a=\"b\"}"), part of every group key, and the
  // unique route ID (the key with child positions).
  const std::string& key() const { return key_; }
  std::string id() const;

  // The alert's labels restricted to group_by (all of them with `...`).
  Labels group_labels(const Labels& alert) const;

  void walk(const std::function<void(const Route&)>& visit) const;

 private:
  Route() = default;
  static std::unique_ptr<Route> make(const RouteConfig& cfg, const Route* parent, int* counter);

  const Route* parent_ = nullptr;
  RouteOptions opts_;
  Matchers matchers_;
  bool continue_ = false;
  std::vector<std::unique_ptr<Route>> routes_;
  int index_ = 0;
  std::string key_;
};

}  // namespace vigil::routing
