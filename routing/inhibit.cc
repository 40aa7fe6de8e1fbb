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
  for (const InhibitRuleConfig& r : rules) rules_.push_back({InhibitRule(r), {}});
}

void Inhibitor::put(const std::shared_ptr<const Alert>& alert) {
  std::lock_guard lock(mu_);
  const uint64_t fp = alert->fingerprint();
  for (RuleState& rs : rules_) {
    if (!rs.rule.source().matches(alert->labels)) continue;
    auto& bucket = rs.sources[rs.rule.equal_key(alert->labels)];
    auto it = std::find_if(bucket.begin(), bucket.end(),
                           [&](const auto& a) { return a->fingerprint() == fp && a->labels == alert->labels; });
    if (it != bucket.end()) *it = alert;
    else bucket.push_back(alert);
  }
}

bool Inhibitor::mutes(const Labels& labels, Millis now, uint64_t* by) const {
  std::lock_guard lock(mu_);
  for (const RuleState& rs : rules_) {
    const InhibitRule& r = rs.rule;
    if (!r.target().matches(labels)) continue;
    auto it = rs.sources.find(r.equal_key(labels));
    if (it == rs.sources.end()) continue;
    const bool two_sided = r.source().matches(labels);
    for (const auto& src : it->second) {
      if (src->resolved_at(now) || !r.equal_values(src->labels, labels)) continue;
      if (two_sided && r.target().matches(src->labels)) continue;
      if (by != nullptr) *by = src->fingerprint();
      return true;
    }
  }
  return false;
}

size_t Inhibitor::gc(Millis now) {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (RuleState& rs : rules_) {
    for (auto it = rs.sources.begin(); it != rs.sources.end();) {
      n += std::erase_if(it->second, [&](const auto& a) { return a->resolved_at(now); });
      it = it->second.empty() ? rs.sources.erase(it) : std::next(it);
    }
  }
  return n;
}

size_t Inhibitor::source_count() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const RuleState& rs : rules_)
    for (const auto& [k, v] : rs.sources) n += v.size();
  return n;
}

}  // namespace vigil::routing
