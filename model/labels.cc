#include "model/labels.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>

#include "model/names.h"

namespace vigil {

namespace {
constexpr uint64_t kFnvOffset = 14695981039346656037ULL;
constexpr uint64_t kFnvPrime = 1099511628211ULL;

uint64_t fnv_add(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= kFnvPrime;
  }
  return h;
}
uint64_t fnv_add_byte(uint64_t h, unsigned char c) {
  h ^= c;
  return h * kFnvPrime;
}

// Room for the views of one label set while it is put in order: on the
// stack for the usual few labels, on the heap past that.
class ViewBuffer {
 public:
  explicit ViewBuffer(size_t n) {
    if (n > kInline) heap_.resize(n);
  }
  LabelView* data() { return heap_.empty() ? reinterpret_cast<LabelView*>(inline_) : heap_.data(); }

 private:
  static constexpr size_t kInline = 32;
  // LabelView is trivially copyable and destructible, so the slots are
  // written before they are read and never destroyed.
  static_assert(std::is_trivially_copyable_v<LabelView> && std::is_trivially_destructible_v<LabelView>);
  alignas(LabelView) unsigned char inline_[kInline * sizeof(LabelView)];
  std::vector<LabelView> heap_;
};

template <class L>
bool is_canonical(std::span<const L> ls) {
  for (size_t i = 0; i < ls.size(); ++i) {
    if (ls[i].value.empty()) return false;
    if (i > 0 && !(std::string_view(ls[i - 1].name) < std::string_view(ls[i].name))) return false;
  }
  return true;
}

// Puts the views at out[0, n) in name order, keeps the last of each repeated
// name and drops empty values; returns how many are left.
size_t canonicalize(LabelView* out, size_t n) {
  std::stable_sort(out, out + n, [](const LabelView& a, const LabelView& b) { return a.name < b.name; });
  size_t k = 0;
  for (size_t i = 0; i < n; ++i) {
    if (k > 0 && out[k - 1].name == out[i].name) --k;
    out[k++] = out[i];
  }
  size_t m = 0;
  for (size_t i = 0; i < k; ++i)
    if (!out[i].value.empty()) out[m++] = out[i];
  return m;
}
}  // namespace

Labels::Labels(std::span<const LabelView> ls) {
  if (is_canonical(ls)) {
    assign_canonical(ls);
    return;
  }
  ViewBuffer buf(ls.size());
  LabelView* v = buf.data();
  std::uninitialized_copy(ls.begin(), ls.end(), v);
  assign_canonical({v, canonicalize(v, ls.size())});
}

Labels::Labels(std::span<const Label> ls) {
  ViewBuffer buf(ls.size());
  LabelView* v = buf.data();
  for (size_t i = 0; i < ls.size(); ++i) std::construct_at(v + i, ls[i]);
  // Most label sets arrive already in order (subsets and copies of others).
  size_t n = is_canonical(ls) ? ls.size() : canonicalize(v, ls.size());
  assign_canonical({v, n});
}

void Labels::assign_canonical(std::span<const LabelView> ls) {
  if (ls.empty()) return;
  constexpr size_t kMax = std::numeric_limits<uint32_t>::max();
  size_t text = 0;
  for (const auto& l : ls) text += l.name.size() + l.value.size();
  if (ls.size() > (kMax - 1) / 2 || text > kMax) throw std::length_error("label set larger than 4 GiB");
  size_t n = ls.size();
  void* mem = ::operator new(sizeof(Rep) + (2 * n + 1) * sizeof(uint32_t) + text);
  Rep* r = ::new (mem) Rep;
  r->refs.store(1, std::memory_order_relaxed);
  r->count = static_cast<uint32_t>(n);
  uint32_t* off = r->offsets();
  char* out = r->text();
  uint32_t pos = 0;
  uint64_t h = kFnvOffset;
  for (const auto& l : ls) {
    *off++ = pos;
    if (!l.name.empty()) std::memcpy(out + pos, l.name.data(), l.name.size());
    pos += static_cast<uint32_t>(l.name.size());
    *off++ = pos;
    std::memcpy(out + pos, l.value.data(), l.value.size());
    pos += static_cast<uint32_t>(l.value.size());
    h = fnv_add_byte(fnv_add(fnv_add_byte(fnv_add(h, l.name), 0xff), l.value), 0xff);
  }
  *off = pos;
  rep_ = r;
  hash_ = h;
}

void Labels::free_rep(Rep* r) noexcept {
  r->~Rep();
  ::operator delete(r);
}

std::string_view Labels::get(std::string_view name) const {
  if (!rep_) return {};
  const uint32_t* off = rep_->offsets();
  const char* text = rep_->text();
  uint32_t n = rep_->count;
  // Label sets are small: comparing lengths first over a short scan beats a
  // binary search of string comparisons (matchers and routing ask a lot).
  if (n <= 16) {
    for (uint32_t i = 0; i < n; ++i, off += 2) {
      if (std::string_view(text + off[0], off[1] - off[0]) == name)
        return {text + off[1], off[2] - off[1]};
    }
    return {};
  }
  auto it = std::lower_bound(begin(), end(), name, [](const LabelView& l, std::string_view n) { return l.name < n; });
  if (it != end() && it->name == name) return it->value;
  return {};
}

std::vector<Label> Labels::to_vector() const {
  std::vector<Label> out;
  out.reserve(size());
  for (const LabelView l : *this) out.push_back(l.owned());
  return out;
}

bool Labels::same_content(const Labels& o) const {
  if (!rep_ || !o.rep_) return rep_ == o.rep_;
  if (rep_->count != o.rep_->count) return false;
  // Equal sets are laid out byte for byte alike: offsets, then text.
  uint32_t n = rep_->count;
  size_t bytes = (2 * size_t{n} + 1) * sizeof(uint32_t) + rep_->offsets()[2 * n];
  return std::memcmp(rep_->offsets(), o.rep_->offsets(), bytes) == 0;
}

std::string Labels::to_string() const {
  std::string out = "{";
  bool first = true;
  for (const LabelView l : *this) {
    if (!first) out += ", ";
    first = false;
    if (is_legacy_label_name(l.name)) {
      out += l.name;
    } else {
      out += go_quote(l.name);
    }
    out += '=';
    out += go_quote(l.value);
  }
  out += '}';
  return out;
}

bool Labels::operator<(const Labels& o) const {
  if (rep_ == o.rep_) return false;
  size_t n = std::min(size(), o.size());
  auto a = begin(), b = o.begin();
  for (size_t i = 0; i < n; ++i, ++a, ++b) {
    LabelView x = *a, y = *b;
    if (x.name != y.name) return x.name < y.name;
    if (x.value != y.value) return x.value < y.value;
  }
  return size() < o.size();
}

LabelsBuilder& LabelsBuilder::set(std::string_view name, std::string_view value) {
  auto it = std::lower_bound(changes_.begin(), changes_.end(), name,
                             [](const Label& l, std::string_view n) { return l.name < n; });
  if (it != changes_.end() && it->name == name) {
    it->value = value;
  } else {
    changes_.insert(it, Label{std::string(name), std::string(value)});
  }
  return *this;
}

Labels LabelsBuilder::build() const {
  if (changes_.empty()) return base_;
  // Merge the changes (sorted) into the base's labels (sorted).
  ViewBuffer buf(base_.size() + changes_.size());
  LabelView* out = buf.data();
  size_t n = 0;
  bool changed = false;
  auto it = base_.begin(), end = base_.end();
  auto ch = changes_.begin();
  while (it != end || ch != changes_.end()) {
    if (ch == changes_.end() || (it != end && it->name < ch->name)) {
      std::construct_at(out + n++, *it++);
      continue;
    }
    bool replaces = it != end && it->name == ch->name;
    if (replaces) {
      changed |= it->value != ch->value;
      ++it;
    } else {
      changed |= !ch->value.empty();
    }
    if (!ch->value.empty()) std::construct_at(out + n++, *ch);
    ++ch;
  }
  if (!changed) return base_;
  Labels r;
  r.assign_canonical({out, n});
  return r;
}

}  // namespace vigil
