#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/error.h"

namespace vigil::rules {

// A YAML document as a compact tree: every node carries the position (1-based
// line and column) it starts at, so decoding can point at the offending text.
// Aliases are resolved to the anchored node, which makes the tree a DAG.
struct YamlNode {
  enum class Kind : uint8_t { Null, Scalar, Sequence, Mapping };
  Kind kind = Kind::Null;
  bool quoted = false;  // a quoted or block scalar: always a string, never null/bool/int
  int line = 0;
  int column = 0;
  std::string tag;    // explicit tag as written ("!!str"), empty when none
  std::string value;  // scalars only
  // Sequence items, or mapping keys and values interleaved (k0, v0, k1, v1, ...).
  std::vector<uint32_t> children;
};

class YamlDocument {
 public:
  // The root, or nullptr for an empty document.
  const YamlNode* root() const { return nodes_.empty() ? nullptr : &nodes_[root_]; }
  const YamlNode& node(uint32_t i) const { return nodes_[i]; }
  // True when the input held more than one document (only the first is used).
  bool has_more_documents() const { return more_documents_; }

 private:
  friend class YamlBuilder;
  friend Result<YamlDocument> parse_yaml(std::string_view text);
  std::vector<YamlNode> nodes_;
  uint32_t root_ = 0;
  bool more_documents_ = false;
};

// Parses the first document of `text`. The error's message is worded as
// Prometheus' YAML library words it ("yaml: ..."), with line and column set.
// Input is untrusted: invalid UTF-8, control characters and nesting deeper
// than kMaxYamlDepth (or yaml-cpp's own, lower, limit) are errors, never crashes.
inline constexpr int kMaxYamlDepth = 1000;
Result<YamlDocument> parse_yaml(std::string_view text);

// The YAML 1.2 core-schema tag a scalar resolves to ("!!str", "!!int",
// "!!float", "!!bool", "!!null"), or "!!seq" / "!!map", as Go's yaml prints it.
std::string resolved_tag(const YamlNode& n);

// "!!str `foo`" / "!!map": how Go's yaml names a value it cannot decode, with
// long scalars shortened.
std::string describe_value(const YamlNode& n);

}  // namespace vigil::rules
