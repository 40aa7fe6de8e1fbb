#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil {

// An owned label: what label sets are built from.
struct Label {
  std::string name;
  std::string value;
  bool operator==(const Label&) const = default;
};

// A label read out of a Labels (or handed to one to build it): views valid
// while the label set (or the strings viewed) lives.
struct LabelView {
  std::string_view name;
  std::string_view value;

  LabelView() = default;
  LabelView(std::string_view n, std::string_view v) : name(n), value(v) {}
  LabelView(const Label& l) : name(l.name), value(l.value) {}  // NOLINT: a view of an owned label
  Label owned() const { return Label{std::string(name), std::string(value)}; }
  bool operator==(const LabelView&) const = default;
};

// An immutable set of labels, sorted by name with unique names and no empty
// values, hashed once at construction.
//
// A set is one reference-counted heap block shared by every copy, so copying
// a Labels (into a query result, a series, an alert) costs a counter
// increment; copies may be used and dropped from any thread. The block holds
// a small header, then 2n+1 uint32 offsets into the text (name i spans
// offsets 2i..2i+1, its value 2i+1..2i+2), then the names and values back to
// back. Seven labels of short text take about 190 bytes in all.
class Labels {
  struct Rep;

 public:
  // Iterates the labels in name order as LabelViews (by value).
  class const_iterator {
   public:
    using iterator_concept = std::random_access_iterator_tag;
    using iterator_category = std::random_access_iterator_tag;
    using value_type = LabelView;
    using difference_type = std::ptrdiff_t;
    using reference = LabelView;
    struct pointer {
      LabelView v;
      const LabelView* operator->() const { return &v; }
    };

    const_iterator() = default;
    LabelView operator*() const {
      return {std::string_view(text_ + off_[0], off_[1] - off_[0]),
              std::string_view(text_ + off_[1], off_[2] - off_[1])};
    }
    pointer operator->() const { return {**this}; }
    LabelView operator[](difference_type n) const { return *(*this + n); }

    const_iterator& operator++() {
      off_ += 2;
      return *this;
    }
    const_iterator operator++(int) {
      auto t = *this;
      off_ += 2;
      return t;
    }
    const_iterator& operator--() {
      off_ -= 2;
      return *this;
    }
    const_iterator operator--(int) {
      auto t = *this;
      off_ -= 2;
      return t;
    }
    const_iterator& operator+=(difference_type n) {
      off_ += 2 * n;
      return *this;
    }
    const_iterator& operator-=(difference_type n) {
      off_ -= 2 * n;
      return *this;
    }
    friend const_iterator operator+(const_iterator it, difference_type n) { return it += n; }
    friend const_iterator operator+(difference_type n, const_iterator it) { return it += n; }
    friend const_iterator operator-(const_iterator it, difference_type n) { return it -= n; }
    friend difference_type operator-(const const_iterator& a, const const_iterator& b) {
      return (a.off_ - b.off_) / 2;
    }
    friend bool operator==(const const_iterator& a, const const_iterator& b) { return a.off_ == b.off_; }
    friend auto operator<=>(const const_iterator& a, const const_iterator& b) { return a.off_ <=> b.off_; }

   private:
    friend class Labels;
    const_iterator(const uint32_t* off, const char* text) : off_(off), text_(text) {}
    const uint32_t* off_ = nullptr;  // this label's name offset
    const char* text_ = nullptr;
  };
  using iterator = const_iterator;
  using value_type = LabelView;
  using size_type = size_t;

  Labels() noexcept = default;
  Labels(std::initializer_list<Label> ls) : Labels(std::span<const Label>(ls.begin(), ls.size())) {}
  // Sorts; for a repeated name the last one wins; empty values are dropped.
  explicit Labels(const std::vector<Label>& ls) : Labels(std::span<const Label>(ls)) {}
  explicit Labels(std::span<const Label> ls);
  // The same from views (of a parsed document, say): no string is allocated
  // on the way, the text is copied once into the set's block.
  explicit Labels(std::span<const LabelView> ls);

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
  bool has(std::string_view name) const { return !get(name).empty(); }

  size_t size() const { return rep_ ? rep_->count : 0; }
  bool empty() const { return rep_ == nullptr; }
  const_iterator begin() const { return rep_ ? const_iterator(rep_->offsets(), rep_->text()) : const_iterator(); }
  const_iterator end() const {
    return rep_ ? const_iterator(rep_->offsets() + 2 * rep_->count, rep_->text()) : const_iterator();
  }
  LabelView operator[](size_t i) const { return begin()[static_cast<std::ptrdiff_t>(i)]; }
  // The labels as owned pairs, to edit or keep apart from the set.
  std::vector<Label> to_vector() const;

  uint64_t hash() const { return hash_; }
  // Alertmanager's fingerprint: FNV-1a 64 over sorted name, 0xff, value, 0xff.
  // It is the hash, computed once at construction.
  uint64_t fingerprint() const { return hash_; }

  // {a="1", b="2"}, values Go-quoted, as Prometheus prints label sets.
  std::string to_string() const;

  // True when both share one block (copies of one another): equal, cheaply.
  bool same_storage(const Labels& o) const { return rep_ == o.rep_; }

  bool operator==(const Labels& o) const { return rep_ == o.rep_ || (hash_ == o.hash_ && same_content(o)); }
  bool operator<(const Labels& o) const;

 private:
  // The fingerprint of the empty set, so Labels() equals Labels({}).
  static constexpr uint64_t kEmptyHash = 14695981039346656037ULL;
  struct Rep {
    std::atomic<uint32_t> refs;
    uint32_t count;  // labels; never 0
    // uint32_t offsets[2 * count + 1], then the text.
    const uint32_t* offsets() const { return reinterpret_cast<const uint32_t*>(this + 1); }
    uint32_t* offsets() { return reinterpret_cast<uint32_t*>(this + 1); }
    const char* text() const { return reinterpret_cast<const char*>(offsets() + 2 * count + 1); }
    char* text() { return reinterpret_cast<char*>(offsets() + 2 * count + 1); }
  };
  static_assert(sizeof(Rep) == 8 && alignof(Rep) == 4);

  // Builds from labels already sorted by name, unique and without empty values.
  void assign_canonical(std::span<const LabelView> ls);
  bool same_content(const Labels& o) const;
  void release() noexcept {
    if (rep_ && rep_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) free_rep(rep_);
  }
  static void free_rep(Rep* r) noexcept;

  friend class LabelsBuilder;

  Rep* rep_ = nullptr;  // nullptr: the empty set
  uint64_t hash_ = kEmptyHash;
};

// Builds a new label set from an existing one by setting and deleting names.
// The base's labels are not copied: build() merges the changes into them.
class LabelsBuilder {
 public:
  explicit LabelsBuilder(Labels base = {}) : base_(std::move(base)) {}
  LabelsBuilder& set(std::string_view name, std::string_view value);  // empty value deletes
  LabelsBuilder& del(std::string_view name) { return set(name, {}); }
  Labels build() const;

 private:
  Labels base_;
  // Sorted by name, unique; an empty value deletes the name.
  std::vector<Label> changes_;
};

}  // namespace vigil
