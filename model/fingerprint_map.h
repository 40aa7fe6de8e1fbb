#pragma once

// A hash map from 64-bit fingerprints (already well-mixed hashes) to
// pointers, stored flat: one array of slots, linear probing, deletion by
// shifting back (no tombstones). An alert store of 100 000 entries then costs
// one array instead of 100 000 nodes, and a lookup touches one cache line
// rather than following a chain.
//
// V must be default-constructible and test false when empty (a pointer,
// shared_ptr or unique_ptr); a slot holding an empty V is a free slot, so
// empty values cannot be stored.

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace vigil {

template <typename V>
class FingerprintMap {
 public:
  struct Slot {
    uint64_t key = 0;
    V value{};
  };

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // The value stored under `key`, or nullptr.
  V* find(uint64_t key) {
    if (slots_.empty()) return nullptr;
    for (size_t i = home(key);; i = next(i)) {
      Slot& s = slots_[i];
      if (!s.value) return nullptr;
      if (s.key == key) return &s.value;
    }
  }
  const V* find(uint64_t key) const { return const_cast<FingerprintMap*>(this)->find(key); }

  // The value under `key`, an empty V first inserted if there was none (the
  // caller must then store a non-empty one before any other call).
  V& slot(uint64_t key) {
    if ((size_ + 1) * 8 > slots_.size() * 7) grow();
    for (size_t i = home(key);; i = next(i)) {
      Slot& s = slots_[i];
      if (!s.value) {
        s.key = key;
        ++size_;
        return s.value;
      }
      if (s.key == key) return s.value;
    }
  }

  // Removes `key`; returns whether it was there.
  bool erase(uint64_t key) {
    if (slots_.empty()) return false;
    size_t i = home(key);
    for (;; i = next(i)) {
      if (!slots_[i].value) return false;
      if (slots_[i].key == key) break;
    }
    // Shift later members of the probe run back into the hole, unless they
    // would then sit before their home slot.
    for (size_t j = next(i);; j = next(j)) {
      Slot& s = slots_[j];
      if (!s.value) break;
      const size_t h = home(s.key);
      const bool movable = i <= j ? (h <= i || h > j) : (h <= i && h > j);
      if (movable) {
        slots_[i] = std::move(s);
        s = Slot{};
        i = j;
      }
    }
    slots_[i] = Slot{};
    --size_;
    return true;
  }

  void clear() {
    slots_.clear();
    size_ = 0;
  }

  // Calls fn(key, value) for every entry, in no particular order.
  template <typename F>
  void for_each(F&& fn) const {
    for (const Slot& s : slots_)
      if (s.value) fn(s.key, s.value);
  }

 private:
  size_t home(uint64_t key) const {
    // Fibonacci hashing spreads keys that differ only in high bits too.
    return static_cast<size_t>((key * 0x9E3779B97F4A7C15ULL) >> shift_);
  }
  size_t next(size_t i) const { return (i + 1) & (slots_.size() - 1); }

  void grow() {
    std::vector<Slot> old = std::move(slots_);
    const size_t cap = old.empty() ? 8 : old.size() * 2;
    slots_ = std::vector<Slot>(cap);
    shift_ = 64;
    for (size_t c = cap; c > 1; c >>= 1) --shift_;
    size_ = 0;
    for (Slot& s : old)
      if (s.value) slot(s.key) = std::move(s.value);
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
  int shift_ = 64;
};

}  // namespace vigil
