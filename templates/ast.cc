#include "templates/ast.h"

#include <fmt/format.h>

#include "model/names.h"

namespace vigil::templates {

std::string Node::to_string() const {
  std::string out;
  write(out);
  return out;
}

void ListNode::write(std::string& out) const {
  for (const auto& n : nodes) n->write(out);
}

void VariableNode::write(std::string& out) const {
  for (size_t i = 0; i < ident.size(); ++i) {
    if (i > 0) out += '.';
    out += ident[i];
  }
}

void PipeNode::write(std::string& out) const {
  if (!decl.empty()) {
    for (size_t i = 0; i < decl.size(); ++i) {
      if (i > 0) out += ", ";
      decl[i]->write(out);
    }
    out += is_assign ? " = " : " := ";
  }
  for (size_t i = 0; i < cmds.size(); ++i) {
    if (i > 0) out += " | ";
    cmds[i]->write(out);
  }
}

void ActionNode::write(std::string& out) const {
  out += "{{";
  pipe->write(out);
  out += "}}";
}

void CommandNode::write(std::string& out) const {
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) out += ' ';
    if (args[i]->type == NodeType::kPipe) {
      out += '(';
      args[i]->write(out);
      out += ')';
    } else {
      args[i]->write(out);
    }
  }
}

void FieldNode::write(std::string& out) const {
  for (const auto& id : ident) {
    out += '.';
    out += id;
  }
}

void ChainNode::write(std::string& out) const {
  if (node->type == NodeType::kPipe) {
    out += '(';
    node->write(out);
    out += ')';
  } else {
    node->write(out);
  }
  for (const auto& f : fields) {
    out += '.';
    out += f;
  }
}

void BranchNode::write(std::string& out) const {
  const char* name = type == NodeType::kIf ? "if" : type == NodeType::kRange ? "range" : "with";
  out += "{{";
  out += name;
  out += ' ';
  pipe->write(out);
  out += "}}";
  list->write(out);
  if (else_list) {
    out += "{{else}}";
    else_list->write(out);
  }
  out += "{{end}}";
}

void TemplateNode::write(std::string& out) const {
  out += "{{template ";
  out += go_quote(name);
  if (pipe) {
    out += ' ';
    pipe->write(out);
  }
  out += "}}";
}

void KeywordNode::write(std::string& out) const {
  switch (type) {
    case NodeType::kBreak: out += "{{break}}"; break;
    case NodeType::kContinue: out += "{{continue}}"; break;
    case NodeType::kElse: out += "{{else}}"; break;
    default: out += "{{end}}"; break;
  }
}

std::string Tree::location(const Node& n) const {
  std::string_view text = source ? std::string_view(*source) : std::string_view();
  size_t pos = std::min(n.pos, text.size());
  std::string_view before = text.substr(0, pos);
  size_t nl = before.rfind('\n');
  size_t col = nl == std::string_view::npos ? pos : pos - (nl + 1);
  int line = 1;
  for (char c : before) line += c == '\n';
  return fmt::format("{}:{}:{}", parse_name, line, col);
}

bool is_empty_tree(const Node* n) {
  if (!n) return true;
  switch (n->type) {
    case NodeType::kList:
      for (const auto& c : static_cast<const ListNode*>(n)->nodes) {
        if (!is_empty_tree(c.get())) return false;
      }
      return true;
    case NodeType::kText: {
      for (char c : static_cast<const TextNode*>(n)->text) {
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\v' && c != '\f') return false;
      }
      return true;
    }
    default:
      return false;
  }
}

}  // namespace vigil::templates
