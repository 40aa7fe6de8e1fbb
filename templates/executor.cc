#include "templates/executor.h"

#include <memory>
#include <vector>

#include <fmt/format.h>

#include "model/names.h"
#include "templates/escape.h"
#include "templates/go_fmt.h"
#include "model/stack.h"

namespace vigil::templates {

namespace {

struct ExecError {
  std::string message;
};

enum class Flow { kNormal, kBreak, kContinue };

// A function or method ready to call: its signature and code, and for a
// method the receiver that becomes args[0].
struct Target {
  const Signature* sig;
  const Callable* fn;
  const Value* receiver = nullptr;
  bool builtin = false;
};

bool can_be_nil(const Type* t) {
  switch (t->kind) {
    case Kind::kSlice: case Kind::kMap: case Kind::kPointer: case Kind::kFunc: case Kind::kInterface:
      return true;
    default:
      return false;
  }
}

bool is_hex_int(std::string_view s) {
  return s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
         s.find_first_of("pP") == std::string_view::npos;
}

class Executor {
 public:
  Executor(const TemplateSet& set, const TreeSet* overlay, const ExecEnv* env)
      : set_(set), overlay_(overlay), env_(env) {
    if (set.escaping() == Escaping::kHTML) html_ = std::make_unique<HtmlWriter>();
  }

  std::string run(const Tree& tree, const Value& data) {
    tmpl_ = &tree;
    vars_.push_back({"$", data});
    if (!tree.root) errorf(fmt::format("{} is an incomplete or empty template", go_quote(tree.name)));
    walk(data, *tree.root);
    return std::move(out_);
  }

 private:
  const TemplateSet& set_;
  const TreeSet* overlay_;
  const ExecEnv* env_;
  const Tree* tmpl_ = nullptr;
  const Node* node_ = nullptr;
  std::vector<std::pair<std::string, Value>> vars_;
  std::string out_;
  int depth_ = 0;
  uint64_t steps_ = 0;
  std::unique_ptr<HtmlWriter> html_;

  // Counts a level of native recursion for the duration of a scope.
  class Nest {
   public:
    explicit Nest(Executor* e) : e_(e) {
      if (++e_->depth_ > e_->set_.limits().max_depth || stack_low()) {
        e_->errorf(fmt::format("exceeded maximum template depth ({})", e_->set_.limits().max_depth));
      }
    }
    ~Nest() { --e_->depth_; }

   private:
    Executor* e_;
  };

  [[noreturn]] void errorf(const std::string& msg) {
    if (!node_) throw ExecError{fmt::format("template: {}: {}", tmpl_->name, msg)};
    const Tree* tree = node_->tree ? node_->tree : tmpl_;
    throw ExecError{fmt::format("template: {}: executing {} at <{}>: {}", tree->location(*node_),
                                go_quote(tmpl_->name), node_->to_string(), msg)};
  }
  void at(const Node* n) { node_ = n; }
  void step() {
    if (++steps_ > set_.limits().max_steps) {
      errorf(fmt::format("template execution took more than {} steps", set_.limits().max_steps));
    }
  }
  void check_output() {
    if (out_.size() > set_.limits().max_output) {
      errorf(fmt::format("template output exceeds {} bytes", set_.limits().max_output));
    }
  }

  const Tree* find_tree(std::string_view name) const {
    if (overlay_) {
      auto it = overlay_->find(name);
      if (it != overlay_->end()) return it->second.get();
    }
    auto it = set_.trees().find(name);
    return it == set_.trees().end() ? nullptr : it->second.get();
  }

  // Variables.
  void push(std::string name, Value v) { vars_.emplace_back(std::move(name), std::move(v)); }
  size_t mark() const { return vars_.size(); }
  void pop(size_t m) { vars_.resize(m); }
  void set_var(const std::string& name, Value v) {
    for (size_t i = vars_.size(); i-- > 0;) {
      if (vars_[i].first == name) {
        vars_[i].second = std::move(v);
        return;
      }
    }
    errorf("undefined variable: " + name);
  }
  const Value& var_value(const std::string& name) {
    for (size_t i = vars_.size(); i-- > 0;) {
      if (vars_[i].first == name) return vars_[i].second;
    }
    errorf("undefined variable: " + name);
  }

  Flow walk(const Value& dot, const Node& node);
  Flow walk_list(const Value& dot, const ListNode& list);
  Flow walk_if_or_with(const Value& dot, const BranchNode& b);
  Flow walk_range(const Value& dot, const BranchNode& r);
  void walk_template(const Value& dot, const TemplateNode& t);
  void write_text(std::string_view text);
  void print_value(const ActionNode& n, const Value& v);

  Value eval_pipeline(const Value& dot, const PipeNode* pipe);
  Value eval_command(const Value& dot, const CommandNode& cmd, const Value* final);
  void not_a_function(const std::vector<NodePtr>& args, const Value* final);
  Value ideal_constant(const NumberNode& n);
  Value eval_field_node(const Value& dot, const FieldNode& f, std::span<const NodePtr> args,
                        const Value* final);
  Value eval_chain_node(const Value& dot, const ChainNode& c, std::span<const NodePtr> args,
                        const Value* final);
  Value eval_variable_node(const Value& dot, const VariableNode& v, std::span<const NodePtr> args,
                           const Value* final);
  Value eval_field_chain(const Value& dot, Value receiver, const Node& node,
                         std::span<const std::string> ident, std::span<const NodePtr> args,
                         const Value* final);
  Value eval_function(const Value& dot, const IdentifierNode& id, const Node& cmd,
                      std::span<const NodePtr> args, const Value* final);
  Value eval_field(const Value& dot, const std::string& name, const Node& node,
                   std::span<const NodePtr> args, const Value* final, const Value& receiver);
  Value eval_call(const Value& dot, const Target& target, const Node& node, const std::string& name,
                  std::span<const NodePtr> args, const Value* final);
  Value validate_type(Value v, const Type* typ);
  Value eval_arg(const Value& dot, const Type* typ, const Node& n);
  Value eval_empty_interface(const Node& n);
};

Flow Executor::walk(const Value& dot, const Node& node) {
  at(&node);
  step();
  switch (node.type) {
    case NodeType::kAction: {
      const auto& a = static_cast<const ActionNode&>(node);
      Value v = eval_pipeline(dot, a.pipe.get());
      if (a.pipe->decl.empty()) print_value(a, v);
      return Flow::kNormal;
    }
    case NodeType::kBreak: return Flow::kBreak;
    case NodeType::kContinue: return Flow::kContinue;
    case NodeType::kIf:
    case NodeType::kWith: {
      Nest nest(this);
      return walk_if_or_with(dot, static_cast<const BranchNode&>(node));
    }
    case NodeType::kList: return walk_list(dot, static_cast<const ListNode&>(node));
    case NodeType::kRange: {
      Nest nest(this);
      return walk_range(dot, static_cast<const BranchNode&>(node));
    }
    case NodeType::kTemplate: {
      Nest nest(this);
      walk_template(dot, static_cast<const TemplateNode&>(node));
      return Flow::kNormal;
    }
    case NodeType::kText:
      write_text(static_cast<const TextNode&>(node).text);
      return Flow::kNormal;
    default:
      errorf("unknown node: " + node.to_string());
  }
}

Flow Executor::walk_list(const Value& dot, const ListNode& list) {
  for (const auto& n : list.nodes) {
    Flow f = walk(dot, *n);
    if (f != Flow::kNormal) return f;
  }
  return Flow::kNormal;
}

Flow Executor::walk_if_or_with(const Value& dot, const BranchNode& b) {
  size_t m = mark();
  Value val = eval_pipeline(dot, b.pipe.get());
  bool ok;
  bool truth = is_true(val, &ok);
  if (!ok) errorf("if/with can't use " + go_sprint_value(val));
  Flow f = Flow::kNormal;
  if (truth) {
    f = walk_list(b.type == NodeType::kWith ? val : dot, *b.list);
  } else if (b.else_list) {
    f = walk_list(dot, *b.else_list);
  }
  pop(m);
  return f;
}

Flow Executor::walk_range(const Value& dot, const BranchNode& r) {
  at(&r);
  size_t outer = mark();
  Value val = indirect(eval_pipeline(dot, r.pipe.get()));
  size_t m = mark();
  const auto& decl = r.pipe->decl;
  // Returns false when the loop must stop ({{break}}).
  auto iteration = [&](const Value& index, const Value& elem) {
    if (!decl.empty()) {
      if (r.pipe->is_assign) {
        set_var(decl[0]->ident[0], decl.size() > 1 ? index : elem);
      } else {
        vars_[vars_.size() - 1].second = elem;
      }
    }
    if (decl.size() > 1) {
      if (r.pipe->is_assign) {
        set_var(decl[1]->ident[0], elem);
      } else {
        vars_[vars_.size() - 2].second = index;
      }
    }
    Flow f = walk_list(elem, *r.list);
    pop(m);
    return f != Flow::kBreak;
  };
  bool empty = true;
  switch (val.kind()) {
    case Kind::kSlice: {
      const auto& items = val.items();
      empty = items.empty();
      for (size_t i = 0; i < items.size(); ++i) {
        if (!iteration(Value::integer(static_cast<int64_t>(i)), items[i])) break;
      }
      break;
    }
    case Kind::kMap: {
      const auto& entries = val.entries();
      empty = entries.empty();
      for (const auto& [k, v] : entries) {
        if (!iteration(Value::string(k), v)) break;
      }
      break;
    }
    case Kind::kInt: {
      // Go 1.22: range over an integer counts from 0.
      int64_t n = val.as_int();
      empty = n <= 0;
      for (int64_t i = 0; i < n; ++i) {
        Value iv = Value::integer(i, val.type());
        if (!iteration(iv, iv)) break;
      }
      break;
    }
    case Kind::kInvalid:
      break;
    default:
      errorf("range can't iterate over " + go_sprint_value(val));
  }
  Flow f = Flow::kNormal;
  if (empty && r.else_list) f = walk_list(dot, *r.else_list);
  pop(outer);
  return f == Flow::kBreak || f == Flow::kContinue ? f : Flow::kNormal;
}

void Executor::walk_template(const Value& dot, const TemplateNode& t) {
  at(&t);
  const Tree* tree = find_tree(t.name);
  if (!tree || !tree->root) errorf(fmt::format("template {} not defined", go_quote(t.name)));
  Value new_dot = eval_pipeline(dot, t.pipe.get());
  // No dynamic scoping: the called template sees only $.
  std::vector<std::pair<std::string, Value>> saved = std::move(vars_);
  const Tree* saved_tmpl = tmpl_;
  vars_.clear();
  vars_.push_back({"$", new_dot});
  tmpl_ = tree;
  walk_list(new_dot, *tree->root);
  tmpl_ = saved_tmpl;
  vars_ = std::move(saved);
}

void Executor::write_text(std::string_view text) {
  if (html_) {
    html_->text(text, out_);
  } else {
    out_ += text;
  }
  check_output();
}

// The built-in escaper an action's pipeline ends with ("html" or
// "urlquery"), which html/template merges with its own escaping.
std::string_view predefined_escaper(const PipeNode& pipe) {
  if (pipe.cmds.empty()) return {};
  const Node& first = *pipe.cmds.back()->args[0];
  if (first.type != NodeType::kIdentifier) return {};
  const std::string& id = static_cast<const IdentifierNode&>(first).ident;
  return id == "html" || id == "urlquery" ? std::string_view(id) : std::string_view();
}

void Executor::print_value(const ActionNode& n, const Value& value) {
  at(&n);
  const Value& v = value.kind() == Kind::kPointer ? indirect(value) : value;
  if (v.kind() == Kind::kFunc) {
    errorf(fmt::format("can't print {} of type {}", n.to_string(), v.type()->name));
  }
  if (html_) {
    std::string_view escaper = predefined_escaper(*n.pipe);
    if (!escaper.empty() && set_.find_function(escaper) != find_builtin(escaper)) escaper = {};
    auto r = html_->value(v, out_, escaper);
    if (!r) errorf(r.error().message);
  } else if (!v.valid()) {
    out_ += "<no value>";
  } else {
    out_ += go_sprint_value(v);
  }
  check_output();
}

Value Executor::eval_pipeline(const Value& dot, const PipeNode* pipe) {
  if (!pipe) return Value();
  at(pipe);
  Value value;
  bool have = false;
  for (const auto& cmd : pipe->cmds) {
    value = eval_command(dot, *cmd, have ? &value : nullptr);
    have = true;
  }
  for (const auto& v : pipe->decl) {
    if (pipe->is_assign) {
      set_var(v->ident[0], value);
    } else {
      push(v->ident[0], value);
    }
  }
  return value;
}

void Executor::not_a_function(const std::vector<NodePtr>& args, const Value* final) {
  if (args.size() > 1 || final) {
    errorf("can't give argument to non-function " + args[0]->to_string());
  }
}

Value Executor::eval_command(const Value& dot, const CommandNode& cmd, const Value* final_in) {
  step();
  const Value* final = final_in;
  const Node& first = *cmd.args[0];
  std::span<const NodePtr> args(cmd.args);
  switch (first.type) {
    case NodeType::kField:
      return eval_field_node(dot, static_cast<const FieldNode&>(first), args, final);
    case NodeType::kChain:
      return eval_chain_node(dot, static_cast<const ChainNode&>(first), args, final);
    case NodeType::kIdentifier:
      return eval_function(dot, static_cast<const IdentifierNode&>(first), cmd, args, final);
    case NodeType::kPipe: {
      not_a_function(cmd.args, final);
      Nest nest(this);
      return eval_pipeline(dot, static_cast<const PipeNode*>(&first));
    }
    case NodeType::kVariable:
      return eval_variable_node(dot, static_cast<const VariableNode&>(first), args, final);
    default:
      break;
  }
  at(&first);
  not_a_function(cmd.args, final);
  switch (first.type) {
    case NodeType::kBool: return Value::boolean(static_cast<const BoolNode&>(first).value);
    case NodeType::kDot: return dot;
    case NodeType::kNil: errorf("nil is not a command");
    case NodeType::kNumber: return ideal_constant(static_cast<const NumberNode&>(first));
    case NodeType::kString: return Value::string(static_cast<const StringNode&>(first).text);
    default: errorf(fmt::format("can't evaluate command {}", go_quote(first.to_string())));
  }
}

Value Executor::ideal_constant(const NumberNode& n) {
  at(&n);
  if (n.is_complex) errorf("complex constants are not supported: " + n.text);
  if (n.is_float && !is_hex_int(n.text) && n.text[0] != '\'' &&
      n.text.find_first_of(".eEpP") != std::string::npos) {
    return Value::floating(n.float64);
  }
  if (n.is_int) return Value::integer(n.int64);
  if (n.is_uint) errorf(n.text + " overflows int");
  return Value();
}

Value Executor::eval_field_node(const Value& dot, const FieldNode& f, std::span<const NodePtr> args,
                                const Value* final) {
  at(&f);
  return eval_field_chain(dot, dot, f, f.ident, args, final);
}

Value Executor::eval_chain_node(const Value& dot, const ChainNode& c, std::span<const NodePtr> args,
                                const Value* final) {
  at(&c);
  if (c.node->type == NodeType::kNil) {
    errorf("indirection through explicit nil in " + c.to_string());
  }
  Value pipe = eval_arg(dot, nullptr, *c.node);
  return eval_field_chain(dot, std::move(pipe), c, c.fields, args, final);
}

Value Executor::eval_variable_node(const Value& dot, const VariableNode& v,
                                   std::span<const NodePtr> args, const Value* final) {
  at(&v);
  Value value = var_value(v.ident[0]);
  if (v.ident.size() == 1) {
    if (args.size() > 1 || final) errorf("can't give argument to non-function " + args[0]->to_string());
    return value;
  }
  return eval_field_chain(dot, std::move(value), v, std::span(v.ident).subspan(1), args, final);
}

Value Executor::eval_field_chain(const Value& dot, Value receiver, const Node& node,
                                 std::span<const std::string> ident, std::span<const NodePtr> args,
                                 const Value* final) {
  size_t n = ident.size();
  for (size_t i = 0; i + 1 < n; ++i) {
    receiver = eval_field(dot, ident[i], node, {}, nullptr, receiver);
  }
  return eval_field(dot, ident[n - 1], node, args, final, receiver);
}

Value Executor::eval_function(const Value& dot, const IdentifierNode& id, const Node& cmd,
                              std::span<const NodePtr> args, const Value* final) {
  at(&id);
  const Function* f = set_.find_function(id.ident);
  if (!f) errorf(fmt::format("{} is not a defined function", go_quote(id.ident)));
  Target t{&f->sig, &f->fn, nullptr, find_builtin(id.ident) == f};
  return eval_call(dot, t, cmd, id.ident, args, final);
}

Value Executor::eval_field(const Value& dot, const std::string& name, const Node& node,
                           std::span<const NodePtr> args, const Value* final,
                           const Value& receiver) {
  if (!receiver.valid()) {
    if (set_.missing_key() == MissingKey::kError) {
      errorf(fmt::format("nil data; no entry for key {}", go_quote(name)));
    }
    return Value();
  }
  const Type* typ = receiver.type();
  bool is_nil;
  const Value& r = indirect(receiver, &is_nil);
  if (const Method* m = r.type()->find_method(name)) {
    if (is_nil) {
      errorf(fmt::format("error calling {}: value method {}.{} called using nil {} pointer", name,
                         r.type()->elem->name, name, r.type()->name));
    }
    Target t{&m->sig, &m->fn, &r};
    return eval_call(dot, t, node, name, args, final);
  }
  bool has_args = args.size() > 1 || final;
  switch (r.kind()) {
    case Kind::kStruct:
      for (const auto& u : r.type()->unexported) {
        if (u == name) errorf(fmt::format("{} is an unexported field of struct type {}", name, typ->name));
      }
      if (const Value* f = r.field(name)) {
        if (has_args) errorf(name + " has arguments but cannot be invoked as function");
        return *f;
      }
      break;
    case Kind::kMap: {
      if (has_args) errorf(name + " is not a method but has arguments");
      if (const Value* v = r.find(name)) return *v;
      switch (set_.missing_key()) {
        case MissingKey::kDefault: return Value();
        case MissingKey::kZero: return zero_value(r.type()->elem);
        case MissingKey::kError: errorf(fmt::format("map has no entry for key {}", go_quote(name)));
      }
      break;
    }
    case Kind::kPointer: {
      const Type* et = r.type()->elem;
      bool has_field = false;
      for (const auto& f : et->fields) has_field |= f == name;
      if (et->kind == Kind::kStruct && !has_field) break;
      if (is_nil) errorf(fmt::format("nil pointer evaluating {}.{}", typ->name, name));
      break;
    }
    default:
      break;
  }
  errorf(fmt::format("can't evaluate field {} in type {}", name, typ->name));
}

Value Executor::eval_call(const Value& dot, const Target& target, const Node& node,
                          const std::string& name, std::span<const NodePtr> args_in,
                          const Value* final) {
  std::span<const NodePtr> args = args_in.empty() ? args_in : args_in.subspan(1);
  const Signature& sig = *target.sig;
  size_t num_params = sig.params.size();
  size_t num_in = args.size() + (final ? 1 : 0);
  size_t num_fixed = args.size();
  if (sig.variadic) {
    num_fixed = num_params - 1;
    if (num_in < num_fixed) {
      errorf(fmt::format("wrong number of args for {}: want at least {} got {}", name, num_fixed,
                         args.size()));
    }
  } else if (num_in != num_params) {
    errorf(fmt::format("wrong number of args for {}: want {} got {}", name, num_params, num_in));
  }
  // and/or evaluate their arguments lazily, left to right.
  if (target.builtin && (name == "and" || name == "or")) {
    bool want = name == "or";
    Value v;
    for (const auto& a : args) {
      v = eval_arg(dot, any_type(), *a);
      if (is_true(v) == want) return v;
    }
    if (final) v = validate_type(*final, any_type());
    return v;
  }
  std::vector<Value> argv;
  argv.reserve(num_in + 1);
  if (target.receiver) argv.push_back(*target.receiver);
  size_t i = 0;
  for (; i < num_fixed && i < args.size(); ++i) argv.push_back(eval_arg(dot, sig.params[i], *args[i]));
  if (sig.variadic) {
    for (; i < args.size(); ++i) argv.push_back(eval_arg(dot, sig.params.back(), *args[i]));
  }
  if (final) {
    const Type* t = sig.params.back();
    if (sig.variadic && num_in - 1 < num_fixed) t = sig.params[num_in - 1];
    argv.push_back(validate_type(*final, t));
  }
  std::string callee;
  if (target.builtin && name == "call") {
    // As Go's reflect.Value.String prints a piped-in value.
    if (!args.empty()) {
      callee = args[0]->to_string();
    } else if (final->kind() == Kind::kString) {
      callee = final->as_string();
    } else {
      callee = "<" + (final->valid() ? final->type()->name : std::string("invalid")) + " Value>";
    }
  }
  Result<Value> r = (*target.fn)(CallArgs{argv, env_, callee});
  if (!r) {
    at(&node);
    errorf(fmt::format("error calling {}: {}", name, r.error().message));
  }
  // A string that could never be written out is refused where it is made,
  // so that doubling a variable in a loop cannot exhaust memory.
  if (r->kind() == Kind::kString && r->as_string().size() > set_.limits().max_output) {
    at(&node);
    errorf(fmt::format("result of {} exceeds {} bytes", name, set_.limits().max_output));
  }
  return std::move(*r);
}

Value Executor::validate_type(Value v, const Type* typ) {
  if (!v.valid()) {
    if (!typ) return v;
    if (can_be_nil(typ)) return zero_value(typ);
    errorf("invalid value; expected " + typ->name);
  }
  if (typ && !assignable(v.type(), typ)) {
    if (v.kind() == Kind::kPointer && assignable(v.type()->elem, typ)) {
      if (v.is_nil()) errorf("dereference of nil pointer of type " + typ->name);
      return v.pointee();
    }
    errorf(fmt::format("wrong type for value; expected {}; got {}", typ->name, v.type()->name));
  }
  return v;
}

Value Executor::eval_arg(const Value& dot, const Type* typ, const Node& n) {
  at(&n);
  switch (n.type) {
    case NodeType::kDot: return validate_type(dot, typ);
    case NodeType::kNil:
      if (typ && can_be_nil(typ)) return zero_value(typ);
      errorf("cannot assign nil to " + (typ ? typ->name : std::string("<nil>")));
    case NodeType::kField: {
      const auto& f = static_cast<const FieldNode&>(n);
      // The node itself stands in the argument list, so it gets no arguments.
      Value v = eval_field_chain(dot, dot, f, f.ident, {}, nullptr);
      return validate_type(std::move(v), typ);
    }
    case NodeType::kVariable:
      return validate_type(eval_variable_node(dot, static_cast<const VariableNode&>(n), {}, nullptr),
                           typ);
    case NodeType::kPipe: {
      Nest nest(this);
      return validate_type(eval_pipeline(dot, static_cast<const PipeNode*>(&n)), typ);
    }
    case NodeType::kIdentifier: {
      const auto& id = static_cast<const IdentifierNode&>(n);
      return validate_type(eval_function(dot, id, id, {}, nullptr), typ);
    }
    case NodeType::kChain:
      return validate_type(eval_chain_node(dot, static_cast<const ChainNode&>(n), {}, nullptr), typ);
    default:
      break;
  }
  if (!typ) errorf("can't handle " + n.to_string() + " for arg of unknown type");
  switch (typ->kind) {
    case Kind::kBool:
      if (n.type == NodeType::kBool) {
        Value v = Value::boolean(static_cast<const BoolNode&>(n).value);
        return v;
      }
      errorf("expected bool; found " + n.to_string());
    case Kind::kFloat:
      if (n.type == NodeType::kNumber && static_cast<const NumberNode&>(n).is_float) {
        return Value::floating(static_cast<const NumberNode&>(n).float64, typ);
      }
      errorf("expected float; found " + n.to_string());
    case Kind::kInt:
      if (n.type == NodeType::kNumber && static_cast<const NumberNode&>(n).is_int) {
        return Value::integer(static_cast<const NumberNode&>(n).int64, typ);
      }
      errorf("expected integer; found " + n.to_string());
    case Kind::kUint:
      if (n.type == NodeType::kNumber && static_cast<const NumberNode&>(n).is_uint) {
        return Value::uinteger(static_cast<const NumberNode&>(n).uint64, typ);
      }
      errorf("expected unsigned integer; found " + n.to_string());
    case Kind::kString:
      if (n.type == NodeType::kString) {
        return Value::string(static_cast<const StringNode&>(n).text, typ);
      }
      errorf("expected string; found " + n.to_string());
    case Kind::kInterface:
      return eval_empty_interface(n);
    default:
      errorf(fmt::format("can't handle {} for arg of type {}", n.to_string(), typ->name));
  }
}

Value Executor::eval_empty_interface(const Node& n) {
  at(&n);
  switch (n.type) {
    case NodeType::kBool: return Value::boolean(static_cast<const BoolNode&>(n).value);
    case NodeType::kNumber: return ideal_constant(static_cast<const NumberNode&>(n));
    case NodeType::kString: return Value::string(static_cast<const StringNode&>(n).text);
    default:
      errorf(fmt::format("can't handle assignment of {} to empty interface argument", n.to_string()));
  }
}

}  // namespace

Result<std::string> run_template(const TemplateSet& set, const TreeSet* overlay,
                                 std::string_view name, const Value& data, const ExecEnv* env) {
  const Tree* tree = nullptr;
  if (overlay) {
    auto it = overlay->find(name);
    if (it != overlay->end()) tree = it->second.get();
  }
  if (!tree) {
    auto it = set.trees().find(name);
    if (it != set.trees().end()) tree = it->second.get();
  }
  if (!tree) {
    return fail(fmt::format("template: no template {} associated with template {}", go_quote(name),
                            go_quote("")));
  }
  try {
    Executor e(set, overlay, env);
    return e.run(*tree, data);
  } catch (const ExecError& err) {
    return fail(err.message);
  }
}

}  // namespace vigil::templates
