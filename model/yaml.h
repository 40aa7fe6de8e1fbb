#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/error.h"

namespace vigil {

// A YAML document as a compact tree (32 bytes a node: rule files can be tens
// of megabytes). Every node carries the position (1-based line and column, in
// characters) it starts at, so decoding can point at the offending text.
struct YamlNode {
  enum class Kind : uint8_t { Null, Scalar, Sequence, Mapping, Alias };
  static constexpr uint32_t kNone = UINT32_MAX;
  Kind kind = Kind::Null;
  bool quoted = false;  // a quoted or block scalar: always a string, never null/bool/int
  int line = 0;
  int column = 0;
  uint32_t tag = 0;  // index into the document's tags; 0: none written
  uint32_t value_begin = 0, value_size = 0;  // scalars: a slice of the document's text pool
  // Children are linked: sequence items, or mapping keys and values
  // alternating. An Alias node's first_child is the anchored node.
  uint32_t first_child = kNone;
  uint32_t next_sibling = kNone;
};

class YamlDocument {
 public:
  // The root, or nullptr for an empty document.
  const YamlNode* root() const { return nodes_.empty() ? nullptr : &nodes_[root_]; }
  // A container's children in order, aliases resolved to their targets.
  std::vector<const YamlNode*> children(const YamlNode& n) const;
  std::string_view value(const YamlNode& n) const {
    return std::string_view(pool_).substr(n.value_begin, n.value_size);
  }
  // The tag as written ("tag:yaml.org,2002:str", "!custom"), empty when none.
  std::string_view tag(const YamlNode& n) const { return tags_[n.tag]; }
  size_t node_count() const { return nodes_.size(); }
  // True when the input held more than one document (only the first is used).
  bool has_more_documents() const { return more_documents_; }

  // The YAML 1.2 core-schema tag a node resolves to ("!!str", "!!int",
  // "!!float", "!!bool", "!!null", "!!seq", "!!map"), as Go's yaml prints it.
  std::string resolved_tag(const YamlNode& n) const;
  // "!!str `foo`" / "!!map": how Go's yaml names a value it cannot decode,
  // long scalars shortened as it does.
  std::string describe(const YamlNode& n) const;

 private:
  friend class YamlBuilder;
  std::vector<YamlNode> nodes_;
  std::string pool_;
  std::vector<std::string> tags_{""};
  uint32_t root_ = 0;
  bool more_documents_ = false;
  friend Result<YamlDocument> parse_yaml(std::string_view text);
};

// Parses the first document of `text`. The error's message is worded as
// Prometheus' YAML library words it ("yaml: ..."), with line and column set.
// Input is untrusted: invalid UTF-8, control characters and nesting deeper
// than kMaxYamlDepth are errors, never crashes. Documents are read with libyaml
// (YAML 1.1 syntax; scalars resolve with the 1.2 core schema, as Go's yaml.v3).
inline constexpr int kMaxYamlDepth = 1000;
Result<YamlDocument> parse_yaml(std::string_view text);

// An integer scalar as Go's yaml libraries read one (strconv.ParseInt with
// base 0 after removing underscores): a sign, then decimal, 0x hex, 0o or
// leading-zero octal, or 0b binary. nullopt when it is none of these or does
// not fit in 64 bits.
std::optional<int64_t> yaml_int(std::string_view text);

}  // namespace vigil
