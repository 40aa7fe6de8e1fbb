#include "storage/remote_protocol.h"

#include <vector>

#include <fmt/format.h>
#include <snappy.h>

namespace vigil::storage {

std::string snappy_compress(std::string_view raw) {
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

Result<std::string> snappy_decompress(std::string_view compressed, size_t max_size) {
  size_t size = 0;
  if (!snappy::GetUncompressedLength(compressed.data(), compressed.size(), &size))
    return fail("snappy: corrupt input (no valid length)");
  if (size > max_size) return fail(fmt::format("snappy: decoded size {} exceeds the limit of {} bytes", size, max_size));
  std::string out;
  if (!snappy::Uncompress(compressed.data(), compressed.size(), &out)) return fail("snappy: corrupt input");
  return out;
}

void set_labels(remote::TimeSeries& ts, const Labels& labels) {
  for (LabelView l : labels) {
    remote::Label* p = ts.add_labels();
    p->set_name(l.name.data(), l.name.size());
    p->set_value(l.value.data(), l.value.size());
  }
}

Result<Labels> labels_of(const remote::TimeSeries& ts) {
  std::vector<Label> ls;
  ls.reserve(ts.labels_size());
  for (const remote::Label& l : ts.labels()) {
    if (l.name().empty()) return fail("a label has an empty name");
    ls.push_back({l.name(), l.value()});
  }
  Labels out(ls);
  size_t non_empty = 0;
  for (const Label& l : ls) non_empty += l.value.empty() ? 0 : 1;
  if (out.size() != non_empty) return fail("a label name is repeated");
  return out;
}

Result<Matcher> matcher_of(const remote::LabelMatcher& m) {
  MatchType type;
  switch (m.type()) {
    case remote::LabelMatcher::EQ: type = MatchType::kEqual; break;
    case remote::LabelMatcher::NEQ: type = MatchType::kNotEqual; break;
    case remote::LabelMatcher::RE: type = MatchType::kRegex; break;
    case remote::LabelMatcher::NRE: type = MatchType::kNotRegex; break;
    default: return fail(fmt::format("unknown matcher type {}", static_cast<int>(m.type())));
  }
  return Matcher::make(type, m.name(), m.value());
}

}  // namespace vigil::storage
