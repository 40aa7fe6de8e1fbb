#include "templates/parser.h"

#include <vector>

#include <fmt/format.h>

#include "model/names.h"
#include "model/quote.h"
#include "templates/lexer.h"
#include "templates/literals.h"
#include "model/stack.h"

namespace vigil::templates {

namespace {

struct ParseError {
  std::string message;
  int line;
};

class Parser {
 public:
  Parser(std::string_view name, std::shared_ptr<const std::string> source,
         const std::function<bool(std::string_view)>& has_function)
      : parse_name_(name),
        source_(std::move(source)),
        has_function_(has_function),
        lex_(*source_, !has_function("break"), !has_function("continue")) {}

  TreeSet parse_all();

 private:
  std::string parse_name_;
  std::shared_ptr<const std::string> source_;
  const std::function<bool(std::string_view)>& has_function_;
  Lexer lex_;
  Token token_[3];
  int peek_count_ = 0;
  int last_line_ = 1;
  std::vector<std::string> vars_;
  Tree* tree_ = nullptr;
  TreeSet set_;
  int action_line_ = 0;
  int range_depth_ = 0;
  int depth_ = 0;

  [[noreturn]] void errorf(const std::string& msg) {
    throw ParseError{fmt::format("template: {}:{}: {}", parse_name_, last_line_, msg), last_line_};
  }
  [[noreturn]] void unexpected(const Token& t, std::string_view context) {
    if (t.type == Tok::kError) {
      std::string extra;
      if (action_line_ != 0 && action_line_ != t.line) {
        extra = fmt::format(" in action started at {}:{}", parse_name_, action_line_);
        if (t.error.ends_with(" action")) extra = extra.substr(std::string_view(" in action").size());
      }
      errorf(std::string(t.error) + extra);
    }
    errorf(fmt::format("unexpected {} in {}", describe(t), context));
  }

  Token lex() {
    Token t = lex_.next();
    last_line_ = t.line;
    return t;
  }
  Token next() {
    if (peek_count_ > 0) {
      --peek_count_;
    } else {
      token_[0] = lex();
    }
    return token_[peek_count_];
  }
  void backup() { ++peek_count_; }
  void backup2(const Token& t1) {
    token_[1] = t1;
    peek_count_ = 2;
  }
  void backup3(const Token& t2, const Token& t1) {
    token_[1] = t1;
    token_[2] = t2;
    peek_count_ = 3;
  }
  Token peek() {
    if (peek_count_ > 0) return token_[peek_count_ - 1];
    peek_count_ = 1;
    token_[0] = lex();
    return token_[0];
  }
  Token next_non_space() {
    Token t;
    do {
      t = next();
    } while (t.type == Tok::kSpace);
    return t;
  }
  Token peek_non_space() {
    Token t = next_non_space();
    backup();
    return t;
  }
  Token expect(Tok type, std::string_view context) {
    Token t = next_non_space();
    if (t.type != type) unexpected(t, context);
    return t;
  }

  void enter() {
    if (++depth_ > kMaxParseDepth || stack_low()) errorf("max expression depth exceeded");
  }
  void leave() { --depth_; }

  std::shared_ptr<Tree> new_tree(std::string name) {
    auto t = std::make_shared<Tree>();
    t->name = std::move(name);
    t->parse_name = parse_name_;
    t->source = source_;
    return t;
  }
  void add(const std::shared_ptr<Tree>& t) {
    auto it = set_.find(t->name);
    if (it == set_.end() || is_empty_tree(it->second->root.get())) {
      set_[t->name] = t;
      return;
    }
    if (!is_empty_tree(t->root.get())) {
      errorf(fmt::format("template: multiple definition of template {}", go_quote(t->name)));
    }
  }

  void parse_definition();
  std::unique_ptr<ListNode> item_list(NodePtr* end);
  NodePtr text_or_action();
  NodePtr action();
  NodePtr break_control(const Token& t, NodeType type);
  std::unique_ptr<PipeNode> pipeline(std::string_view context, Tok end);
  void check_pipeline(const PipeNode& pipe, std::string_view context);
  std::unique_ptr<BranchNode> parse_control(NodeType type, std::string_view context);
  NodePtr else_control();
  NodePtr block_control();
  NodePtr template_control();
  std::string template_name(const Token& t, std::string_view context);
  std::unique_ptr<CommandNode> command();
  NodePtr operand();
  NodePtr term();
  std::unique_ptr<VariableNode> use_var(size_t pos, std::string_view name);
  std::string unquote(const Token& t) {
    auto s = vigil::unquote(t.text);
    if (!s) errorf(s.error().message);
    return *s;
  }
};

std::vector<std::string> split_dots(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t dot = s.find('.', start);
    out.emplace_back(s.substr(start, dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return out;
}

TreeSet Parser::parse_all() {
  auto top = new_tree(parse_name_);
  tree_ = top.get();
  vars_ = {"$"};
  top->root = std::make_unique<ListNode>(peek().pos, tree_);
  while (peek().type != Tok::kEOF) {
    if (peek().type == Tok::kLeftDelim) {
      Token delim = next();
      if (next_non_space().type == Tok::kDefine) {
        parse_definition();
        tree_ = top.get();
        vars_ = {"$"};
        continue;
      }
      backup2(delim);
    }
    NodePtr n = text_or_action();
    if (n->type == NodeType::kEnd || n->type == NodeType::kElse) {
      errorf("unexpected " + n->to_string());
    }
    top->root->nodes.push_back(std::move(n));
  }
  add(top);
  return std::move(set_);
}

void Parser::parse_definition() {
  constexpr std::string_view context = "define clause";
  Token name = next_non_space();
  if (name.type != Tok::kString && name.type != Tok::kRawString) unexpected(name, context);
  auto t = new_tree(unquote(name));
  tree_ = t.get();
  vars_ = {"$"};
  expect(Tok::kRightDelim, context);
  NodePtr end;
  t->root = item_list(&end);
  if (end->type != NodeType::kEnd) errorf(fmt::format("unexpected {} in {}", end->to_string(), context));
  add(t);
}

std::unique_ptr<ListNode> Parser::item_list(NodePtr* end) {
  auto list = std::make_unique<ListNode>(peek_non_space().pos, tree_);
  while (peek_non_space().type != Tok::kEOF) {
    NodePtr n = text_or_action();
    if (n->type == NodeType::kEnd || n->type == NodeType::kElse) {
      *end = std::move(n);
      return list;
    }
    list->nodes.push_back(std::move(n));
  }
  errorf("unexpected EOF");
}

NodePtr Parser::text_or_action() {
  Token t = next_non_space();
  switch (t.type) {
    case Tok::kText: return std::make_unique<TextNode>(t.pos, tree_, std::string(t.text));
    case Tok::kLeftDelim: {
      action_line_ = t.line;
      NodePtr n = action();
      action_line_ = 0;
      return n;
    }
    default: unexpected(t, "input");
  }
}

NodePtr Parser::action() {
  Token t = next_non_space();
  switch (t.type) {
    case Tok::kBlock: return block_control();
    case Tok::kBreak: return break_control(t, NodeType::kBreak);
    case Tok::kContinue: return break_control(t, NodeType::kContinue);
    case Tok::kElse: return else_control();
    case Tok::kEnd: return std::make_unique<KeywordNode>(NodeType::kEnd, expect(Tok::kRightDelim, "end").pos, tree_, 0);
    case Tok::kIf: return parse_control(NodeType::kIf, "if");
    case Tok::kRange: return parse_control(NodeType::kRange, "range");
    case Tok::kTemplate: return template_control();
    case Tok::kWith: return parse_control(NodeType::kWith, "with");
    default: break;
  }
  backup();
  Token p = peek();
  return std::make_unique<ActionNode>(p.pos, tree_, p.line, pipeline("command", Tok::kRightDelim));
}

NodePtr Parser::break_control(const Token& t, NodeType type) {
  const char* word = type == NodeType::kBreak ? "{{break}}" : "{{continue}}";
  Token n = next_non_space();
  if (n.type != Tok::kRightDelim) unexpected(n, word);
  if (range_depth_ == 0) errorf(fmt::format("{} outside {{{{range}}}}", word));
  return std::make_unique<KeywordNode>(type, t.pos, tree_, t.line);
}

std::unique_ptr<PipeNode> Parser::pipeline(std::string_view context, Tok end) {
  Token first = peek_non_space();
  auto pipe = std::make_unique<PipeNode>(first.pos, tree_, first.line);
  for (;;) {  // declarations
    Token v = peek_non_space();
    if (v.type != Tok::kVariable) break;
    next();
    Token after_var = peek();
    Token nx = peek_non_space();
    if (nx.type == Tok::kAssign || nx.type == Tok::kDeclare) {
      pipe->is_assign = nx.type == Tok::kAssign;
      next_non_space();
      pipe->decl.push_back(std::make_unique<VariableNode>(v.pos, tree_, split_dots(v.text)));
      vars_.emplace_back(v.text);
      break;
    }
    if (nx.type == Tok::kChar && nx.text == ",") {
      next_non_space();
      pipe->decl.push_back(std::make_unique<VariableNode>(v.pos, tree_, split_dots(v.text)));
      vars_.emplace_back(v.text);
      if (context == "range" && pipe->decl.size() < 2) {
        Tok k = peek_non_space().type;
        if (k == Tok::kVariable || k == Tok::kRightDelim || k == Tok::kRightParen) continue;
        errorf("range can only initialize variables");
      }
      errorf(fmt::format("too many declarations in {}", context));
    }
    if (after_var.type == Tok::kSpace) {
      backup3(v, after_var);
    } else {
      backup2(v);
    }
    break;
  }
  for (;;) {
    Token t = next_non_space();
    if (t.type == end) {
      check_pipeline(*pipe, context);
      return pipe;
    }
    switch (t.type) {
      case Tok::kBool: case Tok::kCharConstant: case Tok::kComplex: case Tok::kDot:
      case Tok::kField: case Tok::kIdentifier: case Tok::kNumber: case Tok::kNil:
      case Tok::kRawString: case Tok::kString: case Tok::kVariable: case Tok::kLeftParen:
        backup();
        pipe->cmds.push_back(command());
        break;
      default:
        unexpected(t, context);
    }
  }
}

void Parser::check_pipeline(const PipeNode& pipe, std::string_view context) {
  if (pipe.cmds.empty()) errorf(fmt::format("missing value for {}", context));
  for (size_t i = 1; i < pipe.cmds.size(); ++i) {
    switch (pipe.cmds[i]->args[0]->type) {
      case NodeType::kBool: case NodeType::kDot: case NodeType::kNil: case NodeType::kNumber:
      case NodeType::kString:
        errorf(fmt::format("non executable command in pipeline stage {}", i + 1));
      default:
        break;
    }
  }
}

std::unique_ptr<BranchNode> Parser::parse_control(NodeType type, std::string_view context) {
  enter();
  size_t mark = vars_.size();
  auto b = std::make_unique<BranchNode>(type, 0, tree_);
  b->pipe = pipeline(context, Tok::kRightDelim);
  b->pos = b->pipe->pos;
  b->line = b->pipe->line;
  if (type == NodeType::kRange) ++range_depth_;
  NodePtr next;
  b->list = item_list(&next);
  if (type == NodeType::kRange) --range_depth_;
  if (next->type == NodeType::kElse) {
    // "else if" / "else with" chain: parse the inner control and let it
    // consume the single {{end}}.
    if ((type == NodeType::kIf && peek().type == Tok::kIf) ||
        (type == NodeType::kWith && peek().type == Tok::kWith)) {
      next_non_space();
      b->else_list = std::make_unique<ListNode>(next->pos, tree_);
      b->else_list->nodes.push_back(parse_control(type, context));
    } else {
      b->else_list = item_list(&next);
      if (next->type != NodeType::kEnd) errorf("expected end; found " + next->to_string());
    }
  }
  vars_.resize(mark);
  leave();
  return b;
}

NodePtr Parser::else_control() {
  Token p = peek_non_space();
  if (p.type == Tok::kIf || p.type == Tok::kWith) {
    return std::make_unique<KeywordNode>(NodeType::kElse, p.pos, tree_, p.line);
  }
  Token t = expect(Tok::kRightDelim, "else");
  return std::make_unique<KeywordNode>(NodeType::kElse, t.pos, tree_, t.line);
}

std::string Parser::template_name(const Token& t, std::string_view context) {
  if (t.type != Tok::kString && t.type != Tok::kRawString) unexpected(t, context);
  return unquote(t);
}

NodePtr Parser::block_control() {
  constexpr std::string_view context = "block clause";
  Token t = next_non_space();
  std::string name = template_name(t, context);
  auto pipe = pipeline(context, Tok::kRightDelim);
  // The block's body is a template of its own, with its own variables.
  Tree* outer = tree_;
  std::vector<std::string> outer_vars = std::move(vars_);
  int outer_range = range_depth_;
  auto block = new_tree(name);
  tree_ = block.get();
  vars_ = {"$"};
  range_depth_ = 0;
  enter();
  NodePtr end;
  block->root = item_list(&end);
  leave();
  if (end->type != NodeType::kEnd) errorf(fmt::format("unexpected {} in {}", end->to_string(), context));
  add(block);
  tree_ = outer;
  vars_ = std::move(outer_vars);
  range_depth_ = outer_range;
  return std::make_unique<TemplateNode>(t.pos, tree_, t.line, name, std::move(pipe));
}

NodePtr Parser::template_control() {
  constexpr std::string_view context = "template clause";
  Token t = next_non_space();
  std::string name = template_name(t, context);
  std::unique_ptr<PipeNode> pipe;
  if (next_non_space().type != Tok::kRightDelim) {
    backup();
    pipe = pipeline(context, Tok::kRightDelim);
  }
  return std::make_unique<TemplateNode>(t.pos, tree_, t.line, name, std::move(pipe));
}

std::unique_ptr<CommandNode> Parser::command() {
  auto cmd = std::make_unique<CommandNode>(peek_non_space().pos, tree_);
  for (;;) {
    peek_non_space();
    if (NodePtr op = operand()) cmd->args.push_back(std::move(op));
    Token t = next();
    if (t.type == Tok::kSpace) continue;
    if (t.type == Tok::kRightDelim || t.type == Tok::kRightParen) {
      backup();
    } else if (t.type != Tok::kPipe) {
      unexpected(t, "operand");
    }
    break;
  }
  if (cmd->args.empty()) errorf("empty command");
  return cmd;
}

NodePtr Parser::operand() {
  NodePtr node = term();
  if (!node) return nullptr;
  if (peek().type != Tok::kField) return node;
  auto chain = std::make_unique<ChainNode>(peek().pos, tree_, nullptr);
  while (peek().type == Tok::kField) chain->fields.emplace_back(next().text.substr(1));
  switch (node->type) {
    case NodeType::kField: {
      auto& f = static_cast<FieldNode&>(*node);
      std::vector<std::string> ident = f.ident;
      ident.insert(ident.end(), chain->fields.begin(), chain->fields.end());
      return std::make_unique<FieldNode>(chain->pos, tree_, std::move(ident));
    }
    case NodeType::kVariable: {
      auto& v = static_cast<VariableNode&>(*node);
      std::vector<std::string> ident = v.ident;
      ident.insert(ident.end(), chain->fields.begin(), chain->fields.end());
      return std::make_unique<VariableNode>(chain->pos, tree_, std::move(ident));
    }
    case NodeType::kBool: case NodeType::kString: case NodeType::kNumber: case NodeType::kNil:
    case NodeType::kDot:
      errorf(fmt::format("unexpected . after term {}", go_quote(node->to_string())));
    default:
      chain->node = std::move(node);
      return chain;
  }
}

NodePtr Parser::term() {
  Token t = next_non_space();
  switch (t.type) {
    case Tok::kIdentifier:
      if (!has_function_(t.text)) errorf(fmt::format("function {} not defined", go_quote(t.text)));
      return std::make_unique<IdentifierNode>(t.pos, tree_, std::string(t.text));
    case Tok::kDot: return std::make_unique<DotNode>(t.pos, tree_);
    case Tok::kNil: return std::make_unique<NilNode>(t.pos, tree_);
    case Tok::kVariable: return use_var(t.pos, t.text);
    case Tok::kField:
      return std::make_unique<FieldNode>(t.pos, tree_, split_dots(t.text.substr(1)));
    case Tok::kBool: return std::make_unique<BoolNode>(t.pos, tree_, t.text == "true");
    case Tok::kCharConstant:
    case Tok::kComplex:
    case Tok::kNumber: {
      auto n = std::make_unique<NumberNode>(t.pos, tree_, std::string(t.text));
      auto ok = parse_number(*n, t.type == Tok::kCharConstant, t.type == Tok::kComplex);
      if (!ok) errorf(ok.error().message);
      return n;
    }
    case Tok::kLeftParen: {
      enter();
      auto p = pipeline("parenthesized pipeline", Tok::kRightParen);
      leave();
      return p;
    }
    case Tok::kString:
    case Tok::kRawString:
      return std::make_unique<StringNode>(t.pos, tree_, std::string(t.text), unquote(t));
    default:
      backup();
      return nullptr;
  }
}

std::unique_ptr<VariableNode> Parser::use_var(size_t pos, std::string_view name) {
  auto v = std::make_unique<VariableNode>(pos, tree_, split_dots(name));
  for (const auto& n : vars_) {
    if (n == v->ident[0]) return v;
  }
  errorf(fmt::format("undefined variable {}", go_quote(v->ident[0])));
}

}  // namespace

Result<void> parse_template(std::string_view name, std::string_view text,
                            const std::function<bool(std::string_view)>& has_function,
                            TreeSet* trees) {
  auto source = std::make_shared<const std::string>(text);
  TreeSet parsed;
  try {
    Parser p(name, source, has_function);
    parsed = p.parse_all();
  } catch (const ParseError& e) {
    return fail(e.message, e.line);
  }
  for (auto& [n, tree] : parsed) {
    auto it = trees->find(n);
    if (it != trees->end() && is_empty_tree(tree->root.get())) continue;
    (*trees)[n] = tree;
  }
  return {};
}

}  // namespace vigil::templates
