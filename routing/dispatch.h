#pragma once

// The dispatcher (upstream dispatch/dispatch.go): routes each alert, puts it
// into an aggregation group per route and group-label values, and flushes
// groups on their timers: group_wait after a group is created (at once when
// its first alert started more than group_wait ago), then every
// group_interval. A flush hands the group's alerts to the notify pipeline;
// when that succeeds, the resolved alerts it carried are dropped (unless they
// changed meanwhile) and an empty group is deleted.
//
// Time comes from the clock only: nothing here sleeps or starts threads.
// The owner calls run_due() when next_due() has come (a daemon from its loop,
// tests after moving a ManualClock). All methods are thread-safe; the flush
// function is called without the dispatcher's lock held.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/clock.h"
#include "model/fingerprint_map.h"
#include "routing/alert.h"
#include "routing/events.h"
#include "routing/route.h"

namespace vigil::routing {

// One flush of one aggregation group.
struct GroupFlush {
  std::string group_key;  // upstream's: route key + ":" + group labels
  Labels group_labels;
  const Route* route = nullptr;  // receiver, repeat interval, time intervals, labels
  uint64_t flush_id = 0;         // 1, 2, ... per group
  Millis now = 0;
  // The group's alerts as of `now`, in notification order.
  std::vector<FlushedAlert> alerts;
  std::string group_uuid;  // random, one per aggregation group (upstream's aggrGroup id)
};

// Upstream's group key: the route's key, ":", the group labels as Go prints
// a label set ({a="1", b="2"}).
std::string group_key(const Route& route, const Labels& group_labels);

class Dispatcher {
 public:
  // Runs a flush and calls done(true) when it succeeded, done(false) when it
  // must be retried; exactly once, from any thread, possibly before returning.
  using FlushFn = std::function<void(const GroupFlush&, std::function<void(bool)> done)>;

  // max_groups > 0 caps the number of aggregation groups (new ones are then
  // refused, as upstream's limit does). `events`, when given, is told of
  // every alert put into a group (alert_grouped) and of every resolved
  // alert a successful flush carried (alert_resolved).
  Dispatcher(std::shared_ptr<const Route> root, const Clock& clock, FlushFn flush, size_t max_groups = 0,
             EventSink* events = nullptr);

  // Routes and groups a new or updated alert.
  void put(const std::shared_ptr<const Alert>& alert);
  // The same for a batch, under one lock.
  void put_all(std::span<const std::shared_ptr<const Alert>> alerts);

  // Flushes the groups that are due; returns how many flushes started.
  size_t run_due();
  // When the next group is due; nullopt when there are no groups.
  std::optional<Millis> next_due() const;

  struct GroupInfo {
    std::string group_key;
    Labels labels;
    const Route* route = nullptr;
    std::vector<std::shared_ptr<const Alert>> alerts;
  };
  std::vector<GroupInfo> groups() const;
  size_t group_count() const;
  size_t alert_count() const;  // over all groups; an alert in two groups counts twice
  size_t refused_groups() const;

  const Route& root() const { return *root_; }

 private:
  struct Group {
    uint64_t id = 0;
    const Route* route = nullptr;
    Labels labels;
    uint64_t labels_fp = 0;
    std::string key;
    std::string uuid;
    FingerprintMap<std::shared_ptr<const Alert>> alerts;
    Millis due = 0;
    uint64_t flushes = 0;
    bool in_flight = false;
    bool due_during_flight = false;
  };
  struct Timer {
    Millis due;
    uint64_t group;
    bool operator>(const Timer& o) const { return due > o.due || (due == o.due && group > o.group); }
  };

  void put_locked(const std::shared_ptr<const Alert>& alert, Millis now, std::vector<EventData>* events);
  void arm(Group& g, Millis due);
  void flushed(uint64_t group_id, bool ok, const std::vector<std::shared_ptr<const Alert>>& resolved);
  void record(std::vector<EventData>& events);
  bool recording() const { return events_ != nullptr && events_->enabled(); }
  void destroy(Group& g);

  std::shared_ptr<const Route> root_;
  const Clock& clock_;
  FlushFn flush_;
  size_t max_groups_;
  EventSink* events_;
  mutable std::mutex mu_;
  // Per route index: group-label fingerprint -> group.
  std::vector<std::unordered_map<uint64_t, std::unique_ptr<Group>>> by_route_;
  std::unordered_map<uint64_t, Group*> by_id_;
  mutable std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  uint64_t next_id_ = 1;
  size_t refused_ = 0;
  std::vector<const Route*> match_scratch_;
};

}  // namespace vigil::routing
