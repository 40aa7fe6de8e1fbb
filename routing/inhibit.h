#pragma once

// Inhibition (upstream inhibit/): a firing alert matching a rule's source
// side mutes the alerts matching its target side that have the same values
// (a missing label counting as empty) for every `equal` label. An alert that
// matches both sides is not muted by a source that also matches the target
// side: no alert inhibits itself.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/labels.h"
#include "routing/alert.h"
#include "routing/config.h"
#include "routing/matchers.h"

namespace vigil::routing {

class InhibitRule {
 public:
  explicit InhibitRule(const InhibitRuleConfig& cfg);

  const std::string& name() const { return name_; }
  const Matchers& source() const { return source_; }
  const Matchers& target() const { return target_; }
  const std::vector<std::string>& equal() const { return equal_; }

  // Whether a firing alert with `source` labels mutes one with `target` labels.
  bool inhibits(const Labels& source, const Labels& target) const;
  // A hash of the values of the equal labels.
  uint64_t equal_key(const Labels& ls) const;
  bool equal_values(const Labels& a, const Labels& b) const;

 private:
  std::string name_;
  Matchers source_, target_;
  std::vector<std::string> equal_;  // sorted, unique
};

// Tracks the source alerts of every rule and answers whether an alert is
// muted. Thread-safe.
class Inhibitor {
 public:
  explicit Inhibitor(const std::vector<InhibitRuleConfig>& rules);

  // Records a new or updated alert (resolved ones too: they stop muting).
  void put(const std::shared_ptr<const Alert>& alert);
  // Whether an alert with `labels` is muted at `now`; *by gets the
  // fingerprint of a source alert that mutes it, *rule the rule.
  bool mutes(const Labels& labels, Millis now, uint64_t* by = nullptr, const InhibitRule** rule = nullptr) const;
  // Forgets source alerts resolved at `now` (upstream does this every 15m).
  size_t gc(Millis now);

  size_t rule_count() const { return rules_.size(); }
  size_t source_count() const;

 private:
  // Rules with the same target matchers and equal labels share one index of
  // source alerts, so an alert is matched and keyed once per such class.
  struct Source {
    std::shared_ptr<const Alert> alert;
    size_t rule;  // which rule's source side it matched
  };
  struct Class {
    const InhibitRule* first;  // target and equal of every rule in the class
    std::vector<size_t> rules;
    std::unordered_map<uint64_t, std::vector<Source>> sources;  // by equal_key
  };
  std::vector<InhibitRule> rules_;
  std::vector<size_t> class_of_;  // per rule
  // Rules by one equality matcher of their source side ("name\xffvalue"),
  // so that an alert is checked only against rules it may be a source for.
  std::vector<std::string> source_index_names_;
  std::unordered_map<std::string, std::vector<size_t>> source_index_;
  std::vector<size_t> unindexed_rules_;
  std::vector<Class> classes_;
  mutable std::mutex mu_;
};

}  // namespace vigil::routing
