#include "model/labels.h"

#include <algorithm>

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
}  // namespace

Labels::Labels(std::vector<Label> ls) {
  // Most label sets arrive already in order (subsets and copies of others).
  bool canonical = true;
  for (size_t i = 0; i < ls.size() && canonical; ++i) {
    canonical = !ls[i].value.empty() && (i == 0 || ls[i - 1].name < ls[i].name);
  }
  if (!canonical) {
    std::stable_sort(ls.begin(), ls.end(), [](const Label& a, const Label& b) { return a.name < b.name; });
    // Keep the last of each repeated name.
    std::vector<Label> out;
    out.reserve(ls.size());
    for (auto& l : ls) {
      if (!out.empty() && out.back().name == l.name) out.pop_back();
      out.push_back(std::move(l));
    }
    std::erase_if(out, [](const Label& l) { return l.value.empty(); });
    ls = std::move(out);
  }
  if (ls.empty()) return;
  rep_ = new Rep;
  rep_->labels = std::move(ls);
  hash_ = fingerprint();
}

std::string_view Labels::get(std::string_view name) const {
  const std::vector<Label>& ls = items();
  // Label sets are small: comparing lengths first over a short scan beats a
  // binary search of string comparisons (matchers and routing ask a lot).
  if (ls.size() <= 16) {
    for (const auto& l : ls)
      if (l.name.size() == name.size() && l.name == name) return l.value;
    return {};
  }
  auto it = std::lower_bound(ls.begin(), ls.end(), name,
                             [](const Label& l, std::string_view n) { return l.name < n; });
  if (it != ls.end() && it->name == name) return it->value;
  return {};
}

bool Labels::has(std::string_view name) const { return !get(name).empty(); }

uint64_t Labels::fingerprint() const {
  uint64_t h = kFnvOffset;
  for (const auto& l : items()) {
    h = fnv_add(h, l.name);
    h = fnv_add_byte(h, 0xff);
    h = fnv_add(h, l.value);
    h = fnv_add_byte(h, 0xff);
  }
  return h;
}

std::string Labels::to_string() const {
  std::string out = "{";
  bool first = true;
  for (const auto& l : items()) {
    if (!first) out += ", ";
    first = false;
    out += is_legacy_label_name(l.name) ? l.name : go_quote(l.name);
    out += '=';
    out += go_quote(l.value);
  }
  out += '}';
  return out;
}

bool Labels::operator<(const Labels& o) const {
  if (rep_ == o.rep_) return false;
  const std::vector<Label>& ls = items();
  const std::vector<Label>& other = o.items();
  size_t n = std::min(ls.size(), other.size());
  for (size_t i = 0; i < n; ++i) {
    if (ls[i].name != other[i].name) return ls[i].name < other[i].name;
    if (ls[i].value != other[i].value) return ls[i].value < other[i].value;
  }
  return ls.size() < other.size();
}

LabelsBuilder& LabelsBuilder::set(std::string_view name, std::string_view value) {
  if (value.empty()) return del(name);
  // The labels stay sorted by name (they start as a Labels' do), so that
  // build() finds them in order and need not sort.
  auto it = std::lower_bound(labels_.begin(), labels_.end(), name,
                             [](const Label& l, std::string_view n) { return l.name < n; });
  if (it != labels_.end() && it->name == name) {
    it->value = value;
  } else {
    labels_.insert(it, Label{std::string(name), std::string(value)});
  }
  return *this;
}

LabelsBuilder& LabelsBuilder::del(std::string_view name) {
  std::erase_if(labels_, [&](const Label& l) { return l.name == name; });
  return *this;
}

}  // namespace vigil
