#include "routing/inhibit.h"

#include <algorithm>

namespace vigil::routing {

namespace {

constexpr uint64_t kOffset = 14695981039346656037ULL;
constexpr uint64_t kPrime = 1099511628211ULL;

uint64_t fnv(uint64_t h, std::string_view s) {
  for (unsigned char c : s) h = (h ^ c) * kPrime;
  return (h ^ 0xff) * kPrime;
}

}  // namespace

InhibitRule::InhibitRule(const InhibitRuleConfig& cfg)
    : name_(cfg.name), source_(cfg.source), target_(cfg.target), equal_(cfg.equal) {
  std::sort(equal_.begin(), equal_.end());
  equal_.erase(std::unique(equal_.begin(), equal_.end()), equal_.end());
}

uint64_t InhibitRule::equal_key(const Labels& ls) const {
  uint64_t h = kOffset;
  for (const std::string& n : equal_) h = fnv(h, ls.get(n));
  return h;
}

bool InhibitRule::equal_values(const Labels& a, const Labels& b) const {
  for (const std::string& n : equal_)
    if (a.get(n) != b.get(n)) return false;
  return true;
}

bool InhibitRule::inhibits(const Labels& source, const Labels& target) const {
  if (!target_.matches(target) || !source_.matches(source) || !equal_values(source, target))
    return false;
  // A target that is itself a source is not muted by sources that are also targets.
  return !(source_.matches(target) && target_.matches(source));
}

Inhibitor::Inhibitor(const std::vector<InhibitRuleConfig>& rules) {
  rules_.reserve(rules.size());
  for (const InhibitRuleConfig& r : rules) rules_.emplace_back(r);
  for (size_t i = 0; i < rules_.size(); ++i) {
    const InhibitRule& r = rules_[i];
    auto c = std::find_if(classes_.begin(), classes_.end(), [&](const Class& k) {
      return k.first->target().items() == r.target().items() && k.first->equal() == r.equal();
    });
    if (c == classes_.end()) c = classes_.insert(classes_.end(), Class{&r, {}, {}});
    c->rules.push_back(i);
    class_of_.push_back(static_cast<size_t>(c - classes_.begin()));
    auto eq = std::find_if(r.source().begin(), r.source().end(), [](const Matcher& m) {
      return m.type() == MatchType::kEqual && !m.value().empty();
    });
    if (eq == r.source().end()) {
      unindexed_rules_.push_back(i);
      continue;
    }
    source_index_[eq->name() + '\xff' + eq->value()].push_back(i);
    if (std::find(source_index_names_.begin(), source_index_names_.end(), eq->name()) == source_index_names_.end())
      source_index_names_.push_back(eq->name());
  }
}

void Inhibitor::put(const std::shared_ptr<const Alert>& alert) {
  if (rules_.empty()) return;
  std::lock_guard lock(mu_);
  const uint64_t fp = alert->fingerprint();
  std::vector<size_t> candidates = unindexed_rules_;
  for (const std::string& name : source_index_names_) {
    std::string_view v = alert->labels.get(name);
    if (v.empty()) continue;
    auto it = source_index_.find(name + '\xff' + std::string(v));
    if (it != source_index_.end()) candidates.insert(candidates.end(), it->second.begin(), it->second.end());
  }
  for (size_t i : candidates) {
    if (!rules_[i].source().matches(alert->labels)) continue;
    Class& c = classes_[class_of_[i]];
    auto& bucket = c.sources[c.first->equal_key(alert->labels)];
    auto it = std::find_if(bucket.begin(), bucket.end(), [&](const Source& s) {
      return s.rule == i && s.alert->fingerprint() == fp && s.alert->labels == alert->labels;
    });
    if (it != bucket.end()) it->alert = alert;
    else bucket.push_back({alert, i});
  }
}

bool Inhibitor::mutes(const Labels& labels, Millis now, uint64_t* by, const InhibitRule** rule) const {
  std::lock_guard lock(mu_);
  for (const Class& c : classes_) {
    if (c.sources.empty() || !c.first->target().matches(labels)) continue;
    auto it = c.sources.find(c.first->equal_key(labels));
    if (it == c.sources.end()) continue;
    for (const Source& src : it->second) {
      const InhibitRule& r = rules_[src.rule];
      if (src.alert->resolved_at(now) || !r.equal_values(src.alert->labels, labels)) continue;
      // A target that is also a source is not muted by sources that are also targets.
      if (r.source().matches(labels) && r.target().matches(src.alert->labels)) continue;
      if (by != nullptr) *by = src.alert->fingerprint();
      if (rule != nullptr) *rule = &r;
      return true;
    }
  }
  return false;
}

size_t Inhibitor::gc(Millis now) {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (Class& c : classes_) {
    for (auto it = c.sources.begin(); it != c.sources.end();) {
      n += std::erase_if(it->second, [&](const Source& s) { return s.alert->resolved_at(now); });
      it = it->second.empty() ? c.sources.erase(it) : std::next(it);
    }
  }
  return n;
}

size_t Inhibitor::source_count() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const Class& c : classes_)
    for (const auto& [k, v] : c.sources) n += v.size();
  return n;
}

}  // namespace vigil::routing
