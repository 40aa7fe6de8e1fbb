#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vigil::templates {

struct Tree;

// The parse tree of a template, as Go's text/template/parse builds it. Every
// node knows its byte position and the tree it came from, so execution errors
// can say "NAME:LINE:COL: executing ... at <node>".
enum class NodeType : uint8_t {
  kText,
  kAction,
  kBool,
  kChain,
  kCommand,
  kDot,
  kField,
  kIdentifier,
  kIf,
  kList,
  kNil,
  kNumber,
  kPipe,
  kRange,
  kString,
  kTemplate,
  kVariable,
  kWith,
  kBreak,
  kContinue,
  kElse,  // parse-time only
  kEnd,   // parse-time only
};

struct Node {
  NodeType type;
  size_t pos = 0;
  const Tree* tree = nullptr;

  Node(NodeType t, size_t p, const Tree* tr) : type(t), pos(p), tree(tr) {}
  virtual ~Node() = default;
  // Go's Node.String(): the node written back as template source.
  std::string to_string() const;
  virtual void write(std::string& out) const = 0;
};

using NodePtr = std::unique_ptr<Node>;

struct ListNode : Node {
  std::vector<NodePtr> nodes;
  ListNode(size_t p, const Tree* tr) : Node(NodeType::kList, p, tr) {}
  void write(std::string& out) const override;
};

struct TextNode : Node {
  std::string text;
  TextNode(size_t p, const Tree* tr, std::string t) : Node(NodeType::kText, p, tr), text(std::move(t)) {}
  void write(std::string& out) const override { out += text; }
};

struct VariableNode : Node {
  std::vector<std::string> ident;  // "$x", then field names
  VariableNode(size_t p, const Tree* tr, std::vector<std::string> id)
      : Node(NodeType::kVariable, p, tr), ident(std::move(id)) {}
  void write(std::string& out) const override;
};

// Defined before PipeNode, which holds it: clang instantiates PipeNode's
// implicit destructor where the class ends.
struct CommandNode : Node {
  std::vector<NodePtr> args;
  CommandNode(size_t p, const Tree* tr) : Node(NodeType::kCommand, p, tr) {}
  void write(std::string& out) const override;
};

struct PipeNode : Node {
  int line = 0;
  bool is_assign = false;
  std::vector<std::unique_ptr<VariableNode>> decl;
  std::vector<std::unique_ptr<CommandNode>> cmds;
  PipeNode(size_t p, const Tree* tr, int l) : Node(NodeType::kPipe, p, tr), line(l) {}
  void write(std::string& out) const override;
};

struct ActionNode : Node {
  int line = 0;
  std::unique_ptr<PipeNode> pipe;
  ActionNode(size_t p, const Tree* tr, int l, std::unique_ptr<PipeNode> pp)
      : Node(NodeType::kAction, p, tr), line(l), pipe(std::move(pp)) {}
  void write(std::string& out) const override;
};

struct IdentifierNode : Node {
  std::string ident;
  IdentifierNode(size_t p, const Tree* tr, std::string id)
      : Node(NodeType::kIdentifier, p, tr), ident(std::move(id)) {}
  void write(std::string& out) const override { out += ident; }
};

struct DotNode : Node {
  DotNode(size_t p, const Tree* tr) : Node(NodeType::kDot, p, tr) {}
  void write(std::string& out) const override { out += '.'; }
};

struct NilNode : Node {
  NilNode(size_t p, const Tree* tr) : Node(NodeType::kNil, p, tr) {}
  void write(std::string& out) const override { out += "nil"; }
};

struct FieldNode : Node {
  std::vector<std::string> ident;  // without the dots
  FieldNode(size_t p, const Tree* tr, std::vector<std::string> id)
      : Node(NodeType::kField, p, tr), ident(std::move(id)) {}
  void write(std::string& out) const override;
};

struct ChainNode : Node {
  NodePtr node;
  std::vector<std::string> fields;
  ChainNode(size_t p, const Tree* tr, NodePtr n) : Node(NodeType::kChain, p, tr), node(std::move(n)) {}
  void write(std::string& out) const override;
};

struct BoolNode : Node {
  bool value;
  BoolNode(size_t p, const Tree* tr, bool v) : Node(NodeType::kBool, p, tr), value(v) {}
  void write(std::string& out) const override { out += value ? "true" : "false"; }
};

// A number constant stored under every type that can represent it, as Go
// models ideal constants.
struct NumberNode : Node {
  bool is_int = false, is_uint = false, is_float = false, is_complex = false;
  int64_t int64 = 0;
  uint64_t uint64 = 0;
  double float64 = 0;
  double imag = 0;  // imaginary part of a complex constant
  std::string text;
  NumberNode(size_t p, const Tree* tr, std::string t) : Node(NodeType::kNumber, p, tr), text(std::move(t)) {}
  void write(std::string& out) const override { out += text; }
};

struct StringNode : Node {
  std::string quoted;
  std::string text;
  StringNode(size_t p, const Tree* tr, std::string q, std::string t)
      : Node(NodeType::kString, p, tr), quoted(std::move(q)), text(std::move(t)) {}
  void write(std::string& out) const override { out += quoted; }
};

// if, range and with.
struct BranchNode : Node {
  int line = 0;
  std::unique_ptr<PipeNode> pipe;
  std::unique_ptr<ListNode> list;
  std::unique_ptr<ListNode> else_list;  // null when absent
  BranchNode(NodeType t, size_t p, const Tree* tr) : Node(t, p, tr) {}
  void write(std::string& out) const override;
};

struct TemplateNode : Node {
  int line = 0;
  std::string name;
  std::unique_ptr<PipeNode> pipe;  // null when absent
  TemplateNode(size_t p, const Tree* tr, int l, std::string n, std::unique_ptr<PipeNode> pp)
      : Node(NodeType::kTemplate, p, tr), line(l), name(std::move(n)), pipe(std::move(pp)) {}
  void write(std::string& out) const override;
};

// break, continue, and the parse-time else and end.
struct KeywordNode : Node {
  int line = 0;
  KeywordNode(NodeType t, size_t p, const Tree* tr, int l) : Node(t, p, tr), line(l) {}
  void write(std::string& out) const override;
};

// One named template: {{define "name"}}...{{end}}, a block, or the top level.
struct Tree {
  std::string name;
  std::string parse_name;  // top-level name of the parse, for messages
  std::shared_ptr<const std::string> source;  // the text it was parsed from
  std::unique_ptr<ListNode> root;

  // "parse_name:line:col" of a node (col is Go's: 0-based bytes into the line).
  std::string location(const Node& n) const;
};

// Go's parse.IsEmptyTree: only white space text and comments.
bool is_empty_tree(const Node* n);

}  // namespace vigil::templates
