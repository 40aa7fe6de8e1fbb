#pragma once

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil {

struct Label {
  std::string name;
  std::string value;
  bool operator==(const Label&) const = default;
};

namespace detail {
// What an empty Labels iterates over.
inline const std::vector<Label> kNoLabels;
}  // namespace detail

// An immutable set of labels, sorted by name with unique names and no empty
// values, hashed once at construction.
//
// The labels live in one reference-counted block shared by every copy, so
// copying a Labels (into a query result, a series, an alert) costs a counter
// increment rather than an allocation per string; copies may be used and
// dropped from any thread.
class Labels {
 public:
  Labels() noexcept = default;
  Labels(std::initializer_list<Label> ls) : Labels(std::vector<Label>(ls)) {}
  // Sorts; for a repeated name the last one wins; empty values are dropped.
  explicit Labels(std::vector<Label> ls);

  Labels(const Labels& o) noexcept : rep_(o.rep_), hash_(o.hash_) {
    if (rep_) rep_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  Labels(Labels&& o) noexcept : rep_(std::exchange(o.rep_, nullptr)), hash_(std::exchange(o.hash_, kEmptyHash)) {}
  Labels& operator=(const Labels& o) noexcept {
    Labels copy(o);
    swap(copy);
    return *this;
  }
  Labels& operator=(Labels&& o) noexcept {
    Labels moved(std::move(o));
    swap(moved);
    return *this;
  }
  ~Labels() { release(); }
  void swap(Labels& o) noexcept {
    std::swap(rep_, o.rep_);
    std::swap(hash_, o.hash_);
  }

  // Empty when the name is missing, as Prometheus treats a missing label.
  std::string_view get(std::string_view name) const;
  bool has(std::string_view name) const;

  size_t size() const { return items().size(); }
  bool empty() const { return rep_ == nullptr; }
  auto begin() const { return items().begin(); }
  auto end() const { return items().end(); }
  const std::vector<Label>& items() const { return rep_ ? rep_->labels : detail::kNoLabels; }

  uint64_t hash() const { return hash_; }
  // Alertmanager's fingerprint: FNV-1a 64 over sorted name, 0xff, value, 0xff.
  uint64_t fingerprint() const;

  // {a="1", b="2"}, values Go-quoted, as Prometheus prints label sets.
  std::string to_string() const;

  // True when both share one block (copies of one another): equal, cheaply.
  bool same_storage(const Labels& o) const { return rep_ == o.rep_; }

  bool operator==(const Labels& o) const {
    return rep_ == o.rep_ || (hash_ == o.hash_ && items() == o.items());
  }
  bool operator<(const Labels& o) const;

 private:
  // The fingerprint of the empty set, so Labels() equals Labels({}).
  static constexpr uint64_t kEmptyHash = 14695981039346656037ULL;
  struct Rep {
    std::atomic<uint32_t> refs{1};
    std::vector<Label> labels;
  };
  void release() noexcept {
    if (rep_ && rep_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete rep_;
  }

  Rep* rep_ = nullptr;  // nullptr: the empty set
  uint64_t hash_ = kEmptyHash;
};

// Builds a new label set from an existing one by setting and deleting names.
class LabelsBuilder {
 public:
  explicit LabelsBuilder(const Labels& base = {}) : labels_(base.items()) {}
  LabelsBuilder& set(std::string_view name, std::string_view value);  // empty value deletes
  LabelsBuilder& del(std::string_view name);
  Labels build() const { return Labels(labels_); }

 private:
  std::vector<Label> labels_;
};

}  // namespace vigil
