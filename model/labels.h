#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

struct Label {
  std::string name;
  std::string value;
  bool operator==(const Label&) const = default;
};

// An immutable set of labels, sorted by name with unique names and no empty
// values, hashed once at construction.
class Labels {
 public:
  Labels() = default;
  Labels(std::initializer_list<Label> ls) : Labels(std::vector<Label>(ls)) {}
  // Sorts; for a repeated name the last one wins; empty values are dropped.
  explicit Labels(std::vector<Label> ls);

  // Empty when the name is missing, as Prometheus treats a missing label.
  std::string_view get(std::string_view name) const;
  bool has(std::string_view name) const;

  size_t size() const { return labels_.size(); }
  bool empty() const { return labels_.empty(); }
  auto begin() const { return labels_.begin(); }
  auto end() const { return labels_.end(); }
  const std::vector<Label>& items() const { return labels_; }

  uint64_t hash() const { return hash_; }
  // Alertmanager's fingerprint: FNV-1a 64 over sorted name, 0xff, value, 0xff.
  uint64_t fingerprint() const;

  // {a="1", b="2"}, values Go-quoted, as Prometheus prints label sets.
  std::string to_string() const;

  bool operator==(const Labels& o) const { return hash_ == o.hash_ && labels_ == o.labels_; }
  bool operator<(const Labels& o) const;

 private:
  std::vector<Label> labels_;
  // The fingerprint of the empty set, so Labels() equals Labels({}).
  uint64_t hash_ = 14695981039346656037ULL;
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
