#include "model/yaml.h"

#include <yaml.h>

#include <algorithm>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

namespace vigil::yaml {

bool Node::is_null() const {
  if (kind != NodeKind::kScalar) return false;
  if (tag == "tag:yaml.org,2002:null" || tag == "!!null") return true;
  if (!plain || !tag.empty()) return false;
  return value.empty() || value == "~" || value == "null" || value == "Null" || value == "NULL";
}

const Node* Node::get(std::string_view key) const {
  for (const auto& [k, v] : entries) {
    if (k->is_scalar() && k->value == key) return v;
  }
  return nullptr;
}

std::string_view Node::describe() const {
  switch (kind) {
    case NodeKind::kSequence: return "a sequence";
    case NodeKind::kMapping: return "a mapping";
    case NodeKind::kScalar: return is_null() ? "null" : "a string";
  }
  return "a value";
}

namespace {

struct ParserDeleter {
  void operator()(yaml_parser_t* p) const {
    yaml_parser_delete(p);
    delete p;
  }
};

struct Event {
  yaml_event_t e;
  Event() = default;
  Event(const Event&) = delete;
  ~Event() { yaml_event_delete(&e); }
};

// Nodes reachable from `root` with aliases counted every time they are used:
// bounds the work of any walk over the document (the "billion laughs" case).
size_t expanded_size(const Node* root, size_t cap) {
  std::unordered_map<const Node*, size_t> memo;
  // Iterative post-order to survive deep documents.
  std::vector<std::pair<const Node*, size_t>> stack{{root, 0}};
  while (!stack.empty()) {
    auto& [n, i] = stack.back();
    size_t nchildren = n->is_sequence() ? n->items.size() : n->entries.size() * 2;
    if (i < nchildren) {
      const Node* c = n->is_sequence() ? n->items[i]
                                       : (i % 2 == 0 ? n->entries[i / 2].first : n->entries[i / 2].second);
      ++i;
      if (!memo.contains(c)) stack.push_back({c, 0});
      continue;
    }
    size_t total = 1;
    if (n->is_sequence()) {
      for (auto* c : n->items) total += memo[c];
    } else {
      for (auto& [k, v] : n->entries) total += memo[k] + memo[v];
    }
    memo[n] = std::min(total, cap + 1);
    stack.pop_back();
  }
  return memo[root];
}

class Builder {
 public:
  Builder(std::deque<Node>* nodes, const Limits& limits) : nodes_(nodes), limits_(limits) {}

  Result<const Node*> run(std::string_view text) {
    std::unique_ptr<yaml_parser_t, ParserDeleter> parser(new yaml_parser_t);
    if (!yaml_parser_initialize(parser.get())) return fail("cannot initialise the YAML parser");
    yaml_parser_set_input_string(parser.get(), reinterpret_cast<const unsigned char*>(text.data()),
                                 text.size());
    yaml_parser_set_encoding(parser.get(), YAML_UTF8_ENCODING);
    const Node* root = nullptr;
    bool in_document = false;
    for (;;) {
      Event ev;
      if (!yaml_parser_parse(parser.get(), &ev.e)) {
        const auto& p = *parser;
        const auto& mark = p.problem_mark;
        std::string msg = p.problem ? p.problem : "invalid YAML";
        if (p.context) msg = fmt::format("{} {}", p.context, msg);
        return fail(fmt::format("yaml: line {}: {}", mark.line + 1, msg),
                    static_cast<int>(mark.line) + 1, static_cast<int>(mark.column) + 1);
      }
      auto type = ev.e.type;
      if (type == YAML_STREAM_END_EVENT) break;
      if (type == YAML_DOCUMENT_START_EVENT) {
        if (in_document || root) break;  // only the first document counts
        in_document = true;
        continue;
      }
      if (type == YAML_DOCUMENT_END_EVENT) {
        in_document = false;
        continue;
      }
      auto r = on_event(ev.e);
      if (!r) return std::unexpected(r.error());
      if (*r) root = *r;
    }
    if (root && expanded_size(root, limits_.max_expanded_nodes) > limits_.max_expanded_nodes) {
      return fail("yaml: document contains excessive aliasing", root->line, root->column);
    }
    return root;
  }

 private:
  struct Open {
    Node* node = nullptr;
    const Node* pending_key = nullptr;
    std::unordered_set<std::string> keys;
    std::vector<std::pair<const Node*, const Node*>> merged;  // from "<<", lowest priority
  };

  static std::string str(const yaml_char_t* s) {
    return s ? std::string(reinterpret_cast<const char*>(s)) : std::string();
  }

  Node* make(NodeKind kind, const yaml_mark_t& m, const yaml_char_t* tag, const yaml_char_t* anchor) {
    Node& n = nodes_->emplace_back();
    n.kind = kind;
    n.line = static_cast<int>(m.line) + 1;
    n.column = static_cast<int>(m.column) + 1;
    n.tag = str(tag);
    if (anchor) anchors_[str(anchor)] = &n;
    return &n;
  }

  // Returns the root once the top-level node is complete.
  Result<const Node*> on_event(const yaml_event_t& e) {
    switch (e.type) {
      case YAML_SCALAR_EVENT: {
        Node* n = make(NodeKind::kScalar, e.start_mark, e.data.scalar.tag, e.data.scalar.anchor);
        n->value.assign(reinterpret_cast<const char*>(e.data.scalar.value), e.data.scalar.length);
        n->plain = e.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        return add(n);
      }
      case YAML_ALIAS_EVENT: {
        auto it = anchors_.find(str(e.data.alias.anchor));
        if (it == anchors_.end()) {
          return fail(fmt::format("yaml: unknown anchor '{}' referenced", str(e.data.alias.anchor)),
                      static_cast<int>(e.start_mark.line) + 1, static_cast<int>(e.start_mark.column) + 1);
        }
        return add(it->second);
      }
      case YAML_SEQUENCE_START_EVENT:
      case YAML_MAPPING_START_EVENT: {
        if (open_.size() >= limits_.max_depth) {
          return fail(fmt::format("yaml: nesting deeper than {} levels", limits_.max_depth),
                      static_cast<int>(e.start_mark.line) + 1, static_cast<int>(e.start_mark.column) + 1);
        }
        bool seq = e.type == YAML_SEQUENCE_START_EVENT;
        Node* n = seq ? make(NodeKind::kSequence, e.start_mark, e.data.sequence_start.tag,
                             e.data.sequence_start.anchor)
                      : make(NodeKind::kMapping, e.start_mark, e.data.mapping_start.tag,
                             e.data.mapping_start.anchor);
        open_.emplace_back();
        open_.back().node = n;
        return nullptr;
      }
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT: {
        Open o = std::move(open_.back());
        open_.pop_back();
        // Merged entries count only where no explicit key overrides them.
        for (auto& [k, v] : o.merged) {
          if (!k->is_scalar() || !o.keys.contains(k->value)) {
            if (k->is_scalar()) o.keys.insert(k->value);
            o.node->entries.push_back({k, v});
          }
        }
        return add(o.node);
      }
      default:
        return nullptr;
    }
  }

  Result<const Node*> add(const Node* n) {
    if (open_.empty()) return n;
    Open& parent = open_.back();
    Node* p = parent.node;
    if (p->is_sequence()) {
      p->items.push_back(n);
      return nullptr;
    }
    if (!parent.pending_key) {
      parent.pending_key = n;
      return nullptr;
    }
    const Node* key = parent.pending_key;
    parent.pending_key = nullptr;
    if (key->is_scalar() && key->plain && key->value == "<<" && key->tag.empty()) {
      return merge(parent, key, n);
    }
    if (key->is_scalar()) {
      if (!parent.keys.insert(key->value).second) {
        return fail(fmt::format("yaml: mapping key \"{}\" already defined", key->value), key->line,
                    key->column);
      }
    }
    p->entries.push_back({key, n});
    return nullptr;
  }

  Result<const Node*> merge(Open& parent, const Node* key, const Node* value) {
    auto take = [&](const Node* m) -> bool {
      if (!m->is_mapping()) return false;
      for (auto& e : m->entries) parent.merged.push_back(e);
      return true;
    };
    bool ok = value->is_sequence() ? std::all_of(value->items.begin(), value->items.end(), take)
                                   : take(value);
    if (!ok) {
      return fail("yaml: map merge requires map or sequence of maps as the value", key->line,
                  key->column);
    }
    return nullptr;
  }

  std::deque<Node>* nodes_;
  const Limits& limits_;
  std::vector<Open> open_;
  std::unordered_map<std::string, const Node*> anchors_;
};

}  // namespace

Result<Document> parse(std::string_view text, const Limits& limits) {
  Document doc;
  Builder b(&doc.nodes_, limits);
  auto root = b.run(text);
  if (!root) return std::unexpected(root.error());
  doc.root_ = *root;
  return doc;
}

}  // namespace vigil::yaml
