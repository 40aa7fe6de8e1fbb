#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/error.h"

namespace vigil::yaml {

enum class NodeKind { kScalar, kSequence, kMapping };

// One node of a parsed YAML document. Positions are 1-based. Nodes are owned
// by their Document; an alias is the very node its anchor names.
struct Node {
  NodeKind kind = NodeKind::kScalar;
  std::string value;  // scalar text, after unescaping and folding
  std::string tag;    // explicit tag ("!!str", "!custom"), empty when none
  bool plain = true;  // unquoted scalar: subject to null/bool/number resolution
  int line = 0;
  int column = 0;
  std::vector<const Node*> items;                            // sequence items
  std::vector<std::pair<const Node*, const Node*>> entries;  // mapping, in order

  bool is_scalar() const { return kind == NodeKind::kScalar; }
  bool is_sequence() const { return kind == NodeKind::kSequence; }
  bool is_mapping() const { return kind == NodeKind::kMapping; }
  // A plain "", "~", "null", "Null" or "NULL" scalar, or a !!null tag.
  bool is_null() const;
  // The value of a mapping's scalar key, or nullptr.
  const Node* get(std::string_view key) const;
  // "a string", "a sequence", "a mapping", or "null", for error messages.
  std::string_view describe() const;
};

struct Limits {
  size_t max_depth = 1000;             // nesting of sequences and mappings
  size_t max_expanded_nodes = 5000000;  // nodes reachable through aliases, counted expanded
};

// A parsed document; its root is null for an empty input.
class Document {
 public:
  const Node* root() const { return root_; }

 private:
  friend Result<Document> parse(std::string_view text, const Limits& limits);
  std::deque<Node> nodes_;
  const Node* root_ = nullptr;
};

// Parses the first document of `text` (YAML 1.1/1.2 as libyaml reads it, with
// merge keys "<<" applied). Errors carry the line and column and say what was
// wrong: syntax, a repeated mapping key, nesting too deep, excessive aliasing.
Result<Document> parse(std::string_view text, const Limits& limits = {});

}  // namespace vigil::yaml
