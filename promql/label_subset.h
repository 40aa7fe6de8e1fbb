#pragma once

// Internal to promql/: working on the part of a label set a predicate keeps
// (grouping labels, matching labels, all but `le`) in place, so that sets
// are built only for new groups instead of once per series.

#include <cstdint>
#include <string_view>

#include "model/labels.h"

namespace vigil::promql::detail {

// subset_hash and subset call keep(label) once per label, in order.

// The hash Labels would give the kept labels as a set (FNV-1a over name,
// 0xff, value, 0xff), without building it.
template <typename Keep>
uint64_t subset_hash(const Labels& ls, Keep&& keep) {
  uint64_t h = 14695981039346656037ULL;
  auto add = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    h ^= 0xff;
    h *= 1099511628211ULL;
  };
  for (const auto& l : ls) {
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
  std::vector<Label> kept;
  for (const auto& l : ls) {
    if (keep(l)) kept.push_back(l);
  }
  return Labels(std::move(kept));
}

}  // namespace vigil::promql::detail
