#pragma once

// Internal to promql/: working on the part of a label set a predicate keeps
// (grouping labels, matching labels, all but `le`) in place, so that sets
// are built only for new groups instead of once per series.

#include <cstdint>
#include <cstring>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/labels.h"

namespace vigil::promql::detail {

// subset_hash and subset call keep(label) once per label, in order.

// A hash of the kept labels, eight bytes at a time (a key for finding groups
// within one evaluation; not the hash Labels carries).
template <typename Keep>
uint64_t subset_hash(const Labels& ls, Keep&& keep) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ULL;
  uint64_t h = 0x243F6A8885A308D3ULL;
  auto mix = [&h](uint64_t v) {
    h = (h ^ v) * kMul;
    h ^= h >> 29;
  };
  auto add = [&mix](std::string_view s) {
    mix(s.size());
    size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      mix(w);
    }
    if (i < s.size()) {
      uint64_t w = 0;
      std::memcpy(&w, s.data() + i, s.size() - i);
      mix(w);
    }
  };
  for (const LabelView l : ls) {
    if (!keep(l)) continue;
    add(l.name);
    add(l.value);
  }
  return h;
}

// Whether the kept labels of `a` and of `b` are the same.
template <typename Keep>
bool same_subset(const Labels& a, const Labels& b, Keep&& keep) {
  auto ia = a.begin(), ib = b.begin();
  while (true) {
    while (ia != a.end() && !keep(*ia)) ++ia;
    while (ib != b.end() && !keep(*ib)) ++ib;
    if (ia == a.end() || ib == b.end()) return ia == a.end() && ib == b.end();
    if (!(*ia == *ib)) return false;
    ++ia;
    ++ib;
  }
}

// The kept labels of `ls` as a set.
template <typename Keep>
Labels subset(const Labels& ls, Keep&& keep) {
  std::vector<LabelView> kept;
  kept.reserve(ls.size());
  for (const LabelView l : ls) {
    if (keep(l)) kept.push_back(l);
  }
  return Labels(kept);
}

// Groups numbered 0, 1, ... in first-seen order, found by hash: one map
// entry per distinct hash and a chain through the rare collisions, instead
// of a container per hash.
class GroupTable {
 public:
  // The group with hash h for which same(group) holds; when there is none,
  // a new group, numbered size() before the call.
  template <typename Same>
  size_t find_or_add(uint64_t h, Same&& same) {
    auto [it, fresh] = first_.try_emplace(h, next_.size());
    if (!fresh) {
      size_t k = it->second;
      while (true) {
        if (same(k)) return k;
        if (next_[k] == kEnd) break;
        k = next_[k];
      }
      next_[k] = next_.size();
    }
    next_.push_back(kEnd);
    return next_.size() - 1;
  }
  size_t size() const { return next_.size(); }

 private:
  static constexpr size_t kEnd = SIZE_MAX;
  std::unordered_map<uint64_t, size_t> first_;
  std::vector<size_t> next_;  // per group: the next group with its hash
};

}  // namespace vigil::promql::detail
