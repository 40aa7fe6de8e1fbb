#include "promql/parser.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "model/names.h"
#include "model/stack.h"
#include "promql/checker.h"
#include "promql/failure.h"
#include "promql/functions.h"
#include "promql/lexer.h"
#include "promql/literals.h"

namespace vigil::promql {

namespace {

// Go's %f for the @ bounds message.
std::string go_float_f(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{:.6f}", v);
}

int binary_precedence(Tok t) {
  switch (t) {
    case Tok::kLor: return 1;
    case Tok::kLand: case Tok::kLunless: return 2;
    case Tok::kEqlc: case Tok::kNeq: case Tok::kLss: case Tok::kLte: case Tok::kGtr:
    case Tok::kGte: case Tok::kTrimUpper: case Tok::kTrimLower: return 3;
    case Tok::kAdd: case Tok::kSub: return 4;
    case Tok::kMul: case Tok::kDiv: case Tok::kMod: case Tok::kAtan2: return 5;
    case Tok::kPow: return 6;
    default: return 0;
  }
}

BinaryOp to_binary_op(Tok t) {
  switch (t) {
    case Tok::kAdd: return BinaryOp::kAdd;
    case Tok::kSub: return BinaryOp::kSub;
    case Tok::kMul: return BinaryOp::kMul;
    case Tok::kDiv: return BinaryOp::kDiv;
    case Tok::kMod: return BinaryOp::kMod;
    case Tok::kPow: return BinaryOp::kPow;
    case Tok::kAtan2: return BinaryOp::kAtan2;
    case Tok::kEqlc: return BinaryOp::kEql;
    case Tok::kNeq: return BinaryOp::kNeq;
    case Tok::kGtr: return BinaryOp::kGtr;
    case Tok::kLss: return BinaryOp::kLss;
    case Tok::kGte: return BinaryOp::kGte;
    case Tok::kLte: return BinaryOp::kLte;
    case Tok::kTrimUpper: return BinaryOp::kTrimUpper;
    case Tok::kTrimLower: return BinaryOp::kTrimLower;
    case Tok::kLand: return BinaryOp::kAnd;
    case Tok::kLor: return BinaryOp::kOr;
    default: return BinaryOp::kUnless;
  }
}

AggregateOp to_aggregate_op(Tok t) {
  switch (t) {
    case Tok::kSum: return AggregateOp::kSum;
    case Tok::kAvg: return AggregateOp::kAvg;
    case Tok::kCount: return AggregateOp::kCount;
    case Tok::kMin: return AggregateOp::kMin;
    case Tok::kMax: return AggregateOp::kMax;
    case Tok::kGroup: return AggregateOp::kGroup;
    case Tok::kStddev: return AggregateOp::kStddev;
    case Tok::kStdvar: return AggregateOp::kStdvar;
    case Tok::kTopk: return AggregateOp::kTopk;
    case Tok::kBottomk: return AggregateOp::kBottomk;
    case Tok::kCountValues: return AggregateOp::kCountValues;
    case Tok::kQuantile: return AggregateOp::kQuantile;
    case Tok::kLimitk: return AggregateOp::kLimitk;
    default: return AggregateOp::kLimitRatio;
  }
}

// Tokens that may name a metric where an expression starts.
bool is_metric_identifier(Tok t) {
  switch (t) {
    case Tok::kIdentifier: case Tok::kMetricIdentifier: case Tok::kBy: case Tok::kFill:
    case Tok::kFillLeft: case Tok::kFillRight: case Tok::kLand: case Tok::kLor:
    case Tok::kLunless: case Tok::kOffset: case Tok::kWithout: case Tok::kStart: case Tok::kEnd:
    case Tok::kStep: case Tok::kRange: case Tok::kAnchored: case Tok::kSmoothed:
    case Tok::kMaxOf: case Tok::kMinOf:
      return true;
    default: return is_aggregator(t);
  }
}

// Tokens that may name a label in by(...), on(...), group_left(...).
bool is_maybe_label(Tok t) {
  switch (t) {
    case Tok::kIdentifier: case Tok::kMetricIdentifier: case Tok::kBool: case Tok::kBy:
    case Tok::kGroupLeft: case Tok::kGroupRight: case Tok::kFill: case Tok::kFillLeft:
    case Tok::kFillRight: case Tok::kIgnoring: case Tok::kLand: case Tok::kLor:
    case Tok::kLunless: case Tok::kOffset: case Tok::kOn: case Tok::kStart: case Tok::kEnd:
    case Tok::kAtan2: case Tok::kStep: case Tok::kRange: case Tok::kAnchored:
    case Tok::kSmoothed: case Tok::kMaxOf: case Tok::kMinOf:
      return true;
    default: return is_aggregator(t);
  }
}

class Parser {
 public:
  Parser(std::string_view input, const ParseOptions& opts) : in_(input), opts_(opts), lex_(input) {
    advance();
  }

  ExprPtr parse() {
    if (tok_.kind == Tok::kEOF) raise(0, "no expression found in input");
    ExprPtr e = parse_binary(1);
    if (tok_.kind != Tok::kEOF) unexpected("", "");
    return e;
  }

 private:
  // ---- tokens -----------------------------------------------------------

  // Consumes the current token. last_closing_ is where the most recently
  // consumed closing token (or literal) ended: the end of a call, an
  // aggregation or a modifier.
  void advance() {
    switch (tok_.kind) {
      case Tok::kRightBrace: case Tok::kRightParen: case Tok::kRightBracket:
      case Tok::kDuration: case Tok::kNumber:
        last_closing_ = tok_.end();
        break;
      default: break;
    }
    if (has_peek_) {
      tok_ = std::move(peek_);
      has_peek_ = false;
    } else {
      tok_ = lex_.next();
    }
    if (tok_.kind == Tok::kError) raise(tok_.pos, tok_.error);
  }

  // The token after the current one. A lexer error there is reported only
  // when the parser actually moves onto it.
  const Token& peek() {
    if (!has_peek_) {
      peek_ = lex_.next();
      has_peek_ = true;
    }
    return peek_;
  }

  Token take() {
    Token t = tok_;
    advance();
    return t;
  }

  [[noreturn]] void unexpected(std::string_view context, std::string_view expected) {
    std::string msg = "unexpected " + describe(tok_);
    if (!context.empty()) msg += fmt::format(" in {}", context);
    if (!expected.empty()) msg += fmt::format(", expected {}", expected);
    raise(tok_.pos, std::move(msg));
  }

  void expect(Tok k, std::string_view context, std::string_view expected) {
    if (tok_.kind != k) unexpected(context, expected);
    advance();
  }

  // The parser's own recursion (parentheses, signs, calls, right-associative
  // ^) is bounded by the same limit as the tree it builds.
  // Level counts bound the trees; the stack check makes the limit hold in
  // builds whose frames are larger (sanitizers) and on smaller stacks.
  void deepen() {
    if (++depth_ > opts_.max_depth)
      raise(tok_.pos, fmt::format("expression nested too deeply (more than {} levels)", opts_.max_depth));
    if (stack_low()) raise(tok_.pos, "expression nested too deeply (the parser's stack is nearly exhausted)");
  }

  // Records a new node's height; trees deeper than max_depth are rejected
  // here, before anything walks them recursively.
  void seal(Expr* n) {
    int h = 0;
    for_each_child(*n, [&](const Expr& c) { h = std::max(h, c.height); });
    n->height = h + 1;
    if (n->height > opts_.max_depth)
      raise(n->pos.start, fmt::format("expression nested too deeply (more than {} levels)", opts_.max_depth));
  }

  // Holds one level of recursion for the scope of a parse step.
  struct DepthGuard {
    explicit DepthGuard(Parser* p) : p(p) { p->deepen(); }
    ~DepthGuard() { --p->depth_; }
    Parser* p;
  };

  // ---- expressions ---------------------------------------------------------

  ExprPtr parse_binary(int min_prec) {
    DepthGuard guard(this);
    ExprPtr lhs = parse_unary();
    for (;;) {
      int prec = binary_precedence(tok_.kind);
      if (prec == 0 || prec < min_prec) break;
      Token op = take();
      auto bin = std::make_unique<BinaryExpr>();
      bin->op = to_binary_op(op.kind);
      parse_bin_modifiers(bin.get());
      bool right_assoc = op.kind == Tok::kPow;
      ExprPtr rhs = parse_binary(right_assoc ? prec : prec + 1);
      bin->pos = {lhs->pos.start, rhs->pos.end};
      bin->lhs = std::move(lhs);
      bin->rhs = std::move(rhs);
      seal(bin.get());
      lhs = std::move(bin);
    }
    return lhs;
  }

  void parse_bin_modifiers(BinaryExpr* bin) {
    VectorMatching vm;
    if (tok_.kind == Tok::kBool) {
      advance();
      bin->return_bool = true;
    }
    if (tok_.kind == Tok::kOn || tok_.kind == Tok::kIgnoring) {
      vm.on = tok_.kind == Tok::kOn;
      advance();
      vm.matching_labels = parse_grouping_labels();
      if (tok_.kind == Tok::kGroupLeft || tok_.kind == Tok::kGroupRight) {
        vm.card = tok_.kind == Tok::kGroupLeft ? Cardinality::kManyToOne : Cardinality::kOneToMany;
        advance();
        if (tok_.kind == Tok::kLeftParen) vm.include = parse_grouping_labels();
      }
    }
    int fill_start = tok_.pos;
    if (tok_.kind == Tok::kFill) {
      advance();
      double v = parse_fill_value();
      vm.fill_lhs = vm.fill_rhs = v;
    } else if (tok_.kind == Tok::kFillLeft || tok_.kind == Tok::kFillRight) {
      bool left = tok_.kind == Tok::kFillLeft;
      advance();
      (left ? vm.fill_lhs : vm.fill_rhs) = parse_fill_value();
      Tok other = left ? Tok::kFillRight : Tok::kFillLeft;
      if (tok_.kind == other) {
        advance();
        (left ? vm.fill_rhs : vm.fill_lhs) = parse_fill_value();
      }
    }
    if ((vm.fill_lhs || vm.fill_rhs) && !opts_.binop_fill_modifiers)
      raise(fill_start, "binop fill modifiers are experimental and not enabled");
    bin->matching = std::move(vm);
  }

  double parse_fill_value() {
    // Upstream has no error production here: plain "unexpected ..." messages.
    expect(Tok::kLeftParen, "", "");
    double sign = 1;
    if (tok_.kind == Tok::kAdd || tok_.kind == Tok::kSub) sign = take().kind == Tok::kSub ? -1 : 1;
    if (tok_.kind != Tok::kNumber && tok_.kind != Tok::kDuration) unexpected("", "");
    auto nl = number_literal();
    expect(Tok::kRightParen, "", "");
    return sign * nl->value;
  }

  std::vector<std::string> parse_grouping_labels() {
    if (tok_.kind != Tok::kLeftParen) unexpected("grouping opts", "\"(\"");
    advance();
    std::vector<std::string> labels;
    if (tok_.kind == Tok::kRightParen) {
      advance();
      return labels;
    }
    for (;;) {
      if (tok_.kind == Tok::kString) {
        Token t = take();
        std::string name = unquote_token(t);
        if (!is_valid_label_name(name)) raise(t.pos, fmt::format("invalid label name for grouping: {}", go_quote(name)));
        labels.push_back(std::move(name));
      } else if (is_maybe_label(tok_.kind)) {
        Token t = take();
        if (!is_valid_label_name(t.text))
          raise(t.pos, fmt::format("invalid label name for grouping: {}", go_quote(t.text)));
        labels.emplace_back(t.text);
      } else {
        unexpected("grouping opts", "label");
      }
      if (tok_.kind == Tok::kRightParen) break;
      if (tok_.kind != Tok::kComma) unexpected("grouping opts", "\",\" or \")\"");
      advance();
      if (tok_.kind == Tok::kRightParen) break;
    }
    advance();
    return labels;
  }

  ExprPtr parse_unary() {
    if (tok_.kind != Tok::kAdd && tok_.kind != Tok::kSub) return parse_postfix(parse_primary());
    DepthGuard guard(this);
    Token op = take();
    // Unary operators bind like multiplication: -a^b is -(a^b), -a*b is (-a)*b.
    ExprPtr operand = parse_binary(binary_precedence(Tok::kPow));
    if (auto* nl = as<NumberLiteral>(operand.get())) {
      if (op.kind == Tok::kSub) nl->value = -nl->value;
      nl->pos.start = op.pos;
      return operand;
    }
    auto u = std::make_unique<UnaryExpr>();
    u->op = op.kind == Tok::kSub ? UnaryOp::kSub : UnaryOp::kAdd;
    u->pos = {op.pos, operand->pos.end};
    u->expr = std::move(operand);
    seal(u.get());
    return u;
  }

  std::unique_ptr<NumberLiteral> number_literal() {
    Token t = take();
    auto nl = std::make_unique<NumberLiteral>();
    nl->pos = {t.pos, t.end()};
    if (t.kind == Tok::kNumber) {
      auto v = parse_number(t.text);
      if (!v) raise(t.pos, "error parsing number: " + v.error().message);
      nl->value = *v;
    } else {
      auto d = parse_duration_literal(t.text);
      if (!d) raise(t.pos, d.error().message);
      nl->value = static_cast<double>(*d) / 1000.0;
      // A literal is a Go time.Duration wherever it stands, as a number too.
      if (duration_out_of_range(nl->value)) raise(t.pos, "duration out of range");
      nl->duration = true;
    }
    return nl;
  }

  ExprPtr parse_primary() {
    switch (tok_.kind) {
      case Tok::kNumber:
      case Tok::kDuration:
        return number_literal();
      case Tok::kString: {
        Token t = take();
        auto s = std::make_unique<StringLiteral>();
        s->value = unquote_token(t);
        s->pos = {t.pos, t.end()};
        return s;
      }
      case Tok::kLeftParen: {
        DepthGuard guard(this);
        Token open = take();
        auto p = std::make_unique<ParenExpr>();
        p->expr = parse_binary(1);
        if (tok_.kind != Tok::kRightParen) unexpected("", "");
        p->pos = {open.pos, tok_.end()};
        advance();
        seal(p.get());
        return p;
      }
      case Tok::kLeftBrace:
        return parse_vector_selector(nullptr);
      default: break;
    }
    if (is_aggregator(tok_.kind)) {
      Tok next = peek().kind;
      if (next == Tok::kLeftParen || next == Tok::kBy || next == Tok::kWithout) return parse_aggregate();
    }
    bool callable = tok_.kind == Tok::kIdentifier || tok_.kind == Tok::kStart || tok_.kind == Tok::kEnd ||
                    tok_.kind == Tok::kStep || tok_.kind == Tok::kRange || tok_.kind == Tok::kMaxOf ||
                    tok_.kind == Tok::kMinOf;
    if (callable && peek().kind == Tok::kLeftParen) return parse_call();
    if (is_metric_identifier(tok_.kind)) {
      Token name = take();
      return parse_vector_selector(&name);
    }
    unexpected("", "");
  }

  std::vector<ExprPtr> parse_call_body(std::string_view what) {
    DepthGuard guard(this);
    if (tok_.kind != Tok::kLeftParen) unexpected(what, "");
    advance();
    std::vector<ExprPtr> args;
    if (tok_.kind == Tok::kRightParen) {
      advance();
      return args;
    }
    for (;;) {
      args.push_back(parse_binary(1));
      if (tok_.kind == Tok::kRightParen) break;
      if (tok_.kind != Tok::kComma) unexpected("", "");
      Token comma = take();
      if (tok_.kind == Tok::kRightParen) raise(comma.pos, "trailing commas not allowed in function call args");
    }
    advance();
    return args;
  }

  ExprPtr parse_call() {
    Token name = take();
    auto call = std::make_unique<Call>();
    call->args = parse_call_body("");
    call->pos = {name.pos, last_closing_};
    seal(call.get());
    call->func = find_function(name.text);
    if (!call->func) raise(name.pos, fmt::format("unknown function with name {}", go_quote(name.text)));
    if (call->func->experimental && !opts_.experimental_functions)
      raise(name.pos, fmt::format("function {} is not enabled", go_quote(name.text)));
    return call;
  }

  ExprPtr parse_aggregate() {
    Token op = take();
    auto agg = std::make_unique<AggregateExpr>();
    agg->op = to_aggregate_op(op.kind);
    auto modifier = [&] {
      agg->without = tok_.kind == Tok::kWithout;
      advance();
      agg->grouping = parse_grouping_labels();
    };
    std::vector<ExprPtr> args;
    if (tok_.kind == Tok::kBy || tok_.kind == Tok::kWithout) {
      modifier();
      args = parse_call_body("aggregation");
    } else {
      args = parse_call_body("aggregation");
      if (tok_.kind == Tok::kBy || tok_.kind == Tok::kWithout) modifier();
    }
    agg->pos = {op.pos, last_closing_};
    if (args.empty()) raise(op.pos, "no arguments for aggregate expression provided");
    size_t want = 1;
    if (takes_parameter(agg->op)) {
      bool experimental = agg->op == AggregateOp::kLimitk || agg->op == AggregateOp::kLimitRatio;
      if (experimental && !opts_.experimental_functions)
        raise(op.pos, fmt::format("{}() is experimental and must be enabled with "
                                  "--enable-feature=promql-experimental-functions",
                                  aggregate_op_string(agg->op)));
      want = 2;
    }
    if (args.size() != want)
      raise(op.pos, fmt::format("wrong number of arguments for aggregate expression provided, expected {}, got {}",
                                want, args.size()));
    if (want == 2) agg->param = std::move(args[0]);
    agg->expr = std::move(args.back());
    seal(agg.get());
    return agg;
  }

  // `name`, `name{...}` or `{...}`; `name` is null for the last form.
  ExprPtr parse_vector_selector(const Token* name) {
    auto vs = std::make_unique<VectorSelector>();
    vs->pos.start = name ? name->pos : tok_.pos;
    vs->pos.end = name ? name->end() : tok_.pos;
    if (name) vs->name = std::string(name->text);
    if (tok_.kind == Tok::kLeftBrace) {
      advance();
      parse_label_matchers(vs.get());
      vs->pos.end = tok_.end();
      advance();  // the closing brace
    }
    if (name) add_matcher(vs.get(), MatchType::kEqual, std::string(kMetricNameLabel), vs->name, name->pos);
    return vs;
  }

  void add_matcher(VectorSelector* vs, MatchType type, std::string label, std::string value, int pos) {
    auto m = Matcher::make(type, std::move(label), std::move(value));
    if (!m) raise(pos, m.error().message);
    vs->matchers.push_back(std::move(*m));
  }

  // After '{', up to (not consuming) the closing '}'.
  void parse_label_matchers(VectorSelector* vs) {
    if (tok_.kind == Tok::kRightBrace) return;
    for (;;) {
      if (tok_.kind == Tok::kIdentifier || tok_.kind == Tok::kString) {
        Token label = take();
        bool quoted = label.kind == Tok::kString;
        std::string name = quoted ? unquote_token(label) : std::string(label.text);
        MatchType type;
        switch (tok_.kind) {
          case Tok::kEql: type = MatchType::kEqual; break;
          case Tok::kNeq: type = MatchType::kNotEqual; break;
          case Tok::kEqlRegex: type = MatchType::kRegex; break;
          case Tok::kNeqRegex: type = MatchType::kNotRegex; break;
          default:
            if (!quoted) unexpected("label matching", "label matching operator");
            // {"name"} names the metric.
            add_matcher(vs, MatchType::kEqual, std::string(kMetricNameLabel), std::move(name), label.pos);
            goto separator;
        }
        advance();
        if (tok_.kind != Tok::kString) unexpected("label matching", "string");
        add_matcher(vs, type, std::move(name), unquote_token(tok_), label.pos);
        advance();
      } else {
        unexpected("label matching", "identifier or \"}\"");
      }
    separator:
      if (tok_.kind == Tok::kRightBrace) return;
      if (tok_.kind != Tok::kComma) unexpected("label matching", "\",\" or \"}\"");
      advance();
      if (tok_.kind == Tok::kRightBrace) return;
    }
  }

  std::string unquote_token(const Token& t) {
    auto s = unquote_string(t.text);
    if (!s) raise(t.pos, fmt::format("error unquoting string {}: {}", go_quote(t.text), s.error().message));
    return std::move(*s);
  }

  // ---- postfix modifiers: [range], [range:step], offset, @, anchored, smoothed

  ExprPtr parse_postfix(ExprPtr e) {
    for (;;) {
      switch (tok_.kind) {
        case Tok::kLeftBracket:
          e = parse_bracket(std::move(e));
          break;
        case Tok::kOffset: parse_offset(e.get()); break;
        case Tok::kAt: parse_at(e.get()); break;
        case Tok::kAnchored:
        case Tok::kSmoothed: set_extended(e.get(), take()); break;
        default:
          return e;
      }
    }
  }

  ExprPtr parse_bracket(ExprPtr e) {
    Token open = take();
    auto range = parse_positive_duration("subquery or range selector", "number, duration, step(), or range()");
    if (tok_.kind == Tok::kRightBracket) {
      Token close = take();
      auto* vs = as<VectorSelector>(e.get());
      const char* err = nullptr;
      if (!vs) err = "ranges only allowed for vector selectors";
      else if (vs->mods.offset != 0 || vs->mods.offset_expr) err = "no offset modifiers allowed before range";
      else if (vs->mods.at != AtKind::kNone) err = "no @ modifiers allowed before range";
      if (err) raise(open.pos, err);
      auto ms = std::make_unique<MatrixSelector>();
      ms->pos = {e->pos.start, close.end()};
      ms->selector.reset(static_cast<VectorSelector*>(e.release()));
      set_range(std::move(range), &ms->range, &ms->range_expr);
      seal(ms.get());
      return ms;
    }
    if (tok_.kind != Tok::kColon) unexpected("subquery or range", "\":\" or \"]\"");
    advance();
    auto sq = std::make_unique<SubqueryExpr>();
    if (tok_.kind != Tok::kRightBracket) {
      auto step = parse_positive_duration("subquery selector", "number, duration, step(), range(), or \"]\"");
      if (tok_.kind != Tok::kRightBracket) unexpected("subquery selector", "\"]\"");
      set_range(std::move(step), &sq->step, &sq->step_expr);
    }
    sq->pos = {e->pos.start, tok_.end()};
    advance();
    set_range(std::move(range), &sq->range, &sq->range_expr);
    sq->expr = std::move(e);
    seal(sq.get());
    return sq;
  }

  static void set_range(ExprPtr d, Millis* ms, std::unique_ptr<DurationExpr>* expr) {
    if (auto* nl = as<NumberLiteral>(d.get())) {
      *ms = seconds_to_millis(nl->value);
    } else {
      expr->reset(static_cast<DurationExpr*>(d.release()));
    }
  }

  void parse_offset(Expr* e) {
    advance();
    ExprPtr d = parse_offset_duration();
    TimeModifiers* mods = time_modifiers(e, "offset modifier must be preceded by an instant vector selector or "
                                            "range vector selector or a subquery");
    if (mods->offset != 0 || mods->offset_expr) raise(e->pos.start, "offset may not be set multiple times");
    set_range(std::move(d), &mods->offset, &mods->offset_expr);
    e->pos.end = last_closing_;
    if (auto* ms = as<MatrixSelector>(e)) seal(ms->selector.get());
    seal(e);
  }

  void parse_at(Expr* e) {
    advance();
    AtKind kind = AtKind::kTimestamp;
    double ts = 0;
    if (tok_.kind == Tok::kStart || tok_.kind == Tok::kEnd) {
      kind = tok_.kind == Tok::kStart ? AtKind::kStart : AtKind::kEnd;
      advance();
      expect(Tok::kLeftParen, "@", "timestamp");
      expect(Tok::kRightParen, "@", "timestamp");
    } else {
      double sign = 1;
      if (tok_.kind == Tok::kAdd || tok_.kind == Tok::kSub) {
        sign = tok_.kind == Tok::kSub ? -1 : 1;
        advance();
      }
      if (tok_.kind != Tok::kNumber && tok_.kind != Tok::kDuration) unexpected("@", "timestamp");
      ts = sign * number_literal()->value;
      if (std::isnan(ts) || std::isinf(ts) || ts >= 9223372036854775807.0 || ts <= -9223372036854775808.0)
        raise(e->pos.start, "timestamp out of bounds for @ modifier: " + go_float_f(ts));
    }
    TimeModifiers* mods = time_modifiers(e, "@ modifier must be preceded by an instant vector selector or range "
                                            "vector selector or a subquery");
    if (mods->at != AtKind::kNone) raise(e->pos.start, "@ <timestamp> may not be set multiple times");
    mods->at = kind;
    if (kind == AtKind::kTimestamp) mods->at_timestamp = static_cast<Millis>(std::llround(ts * 1000.0));
    e->pos.end = last_closing_;
  }

  TimeModifiers* time_modifiers(Expr* e, std::string_view wrong_target) {
    if (auto* vs = as<VectorSelector>(e)) return &vs->mods;
    if (auto* ms = as<MatrixSelector>(e)) return &ms->selector->mods;
    if (auto* sq = as<SubqueryExpr>(e)) return &sq->mods;
    raise(e->pos.start, std::string(wrong_target));
  }

  void set_extended(Expr* e, const Token& t) {
    bool anchored = t.kind == Tok::kAnchored;
    const char* name = anchored ? "anchored" : "smoothed";
    if (!opts_.extended_range_selectors) raise(e->pos.start, fmt::format("{} modifier is experimental and not enabled", name));
    VectorSelector* vs = as<VectorSelector>(e);
    if (auto* ms = as<MatrixSelector>(e)) vs = ms->selector.get();
    if (!vs) {
      if (as<SubqueryExpr>(e)) raise(e->pos.start, fmt::format("{} modifier is not supported for subqueries", name));
      raise(e->pos.start, fmt::format("{} modifier not implemented", name));
    }
    (anchored ? vs->anchored : vs->smoothed) = true;
    if (vs->anchored && vs->smoothed) raise(e->pos.start, "anchored and smoothed modifiers cannot be used together");
  }

  // ---- duration expressions ----------------------------------------------

  ExprPtr parse_positive_duration(std::string_view context, std::string_view expected) {
    if (!starts_duration(tok_.kind)) unexpected(context, expected);
    // Like upstream's error productions, a syntax error anywhere inside the
    // duration is reported in the context of the enclosing selector.
    dur_context_ = context;
    dur_expected_ = expected;
    ExprPtr d = parse_duration_expr(1);
    if (auto* nl = as<NumberLiteral>(d.get()); nl && nl->value <= 0)
      raise(nl->pos.start, "duration must be greater than 0");
    return d;
  }

  static bool starts_duration(Tok t) {
    switch (t) {
      case Tok::kNumber: case Tok::kDuration: case Tok::kAdd: case Tok::kSub: case Tok::kLeftParen:
      case Tok::kStep: case Tok::kRange: case Tok::kMaxOf: case Tok::kMinOf:
        return true;
      default: return false;
    }
  }

  void experimental_duration(int pos) {
    if (!opts_.experimental_duration_expr) raise(pos, "experimental duration expression is not enabled");
  }

  // After `offset`: a literal, step(), range(), min_of/max_of(...) or a
  // parenthesised expression, optionally signed. No bare arithmetic, so that
  // `foo offset -2^2` is `(foo offset -2)^2`.
  ExprPtr parse_offset_duration() {
    if (!starts_duration(tok_.kind)) unexpected("offset", "number, duration, step(), or range()");
    dur_context_ = "offset";
    dur_expected_ = "number, duration, step(), or range()";
    Token sign;
    bool has_sign = tok_.kind == Tok::kAdd || tok_.kind == Tok::kSub;
    if (has_sign) sign = take();
    if (!starts_duration(tok_.kind) || tok_.kind == Tok::kAdd || tok_.kind == Tok::kSub)
      unexpected("offset", "number, duration, step(), or range()");
    ExprPtr d = parse_duration_primary();
    return has_sign ? apply_duration_sign(sign, std::move(d)) : std::move(d);
  }

  ExprPtr parse_duration_expr(int min_prec) {
    DepthGuard guard(this);
    ExprPtr lhs = parse_duration_unary();
    for (;;) {
      int prec = binary_precedence(tok_.kind);
      bool arithmetic = tok_.kind == Tok::kAdd || tok_.kind == Tok::kSub || tok_.kind == Tok::kMul ||
                        tok_.kind == Tok::kDiv || tok_.kind == Tok::kMod || tok_.kind == Tok::kPow;
      if (!arithmetic || prec < min_prec) return lhs;
      Token op = take();
      experimental_duration(lhs->pos.start);
      ExprPtr rhs = parse_duration_expr(op.kind == Tok::kPow ? prec : prec + 1);
      auto* zero = as<NumberLiteral>(rhs.get());
      if (zero && zero->value == 0 && op.kind == Tok::kDiv) raise(op.pos, "division by zero");
      if (zero && zero->value == 0 && op.kind == Tok::kMod) raise(op.pos, "modulo by zero");
      auto de = std::make_unique<DurationExpr>();
      de->op = op.kind == Tok::kAdd   ? DurationOp::kAdd
               : op.kind == Tok::kSub ? DurationOp::kSub
               : op.kind == Tok::kMul ? DurationOp::kMul
               : op.kind == Tok::kDiv ? DurationOp::kDiv
               : op.kind == Tok::kMod ? DurationOp::kMod
                                      : DurationOp::kPow;
      de->pos = {lhs->pos.start, rhs->pos.end};
      de->lhs = std::move(lhs);
      de->rhs = std::move(rhs);
      seal(de.get());
      lhs = std::move(de);
    }
  }

  ExprPtr parse_duration_unary() {
    if (tok_.kind != Tok::kAdd && tok_.kind != Tok::kSub) return parse_duration_primary();
    DepthGuard guard(this);
    Token sign = take();
    return apply_duration_sign(sign, parse_duration_expr(binary_precedence(Tok::kPow)));
  }

  ExprPtr apply_duration_sign(const Token& sign, ExprPtr e) {
    if (auto* nl = as<NumberLiteral>(e.get())) {
      if (sign.kind == Tok::kSub) nl->value = -nl->value;
      if (duration_out_of_range(nl->value)) raise(sign.pos, "duration out of range");
      nl->pos.start = sign.pos;
      return e;
    }
    if (sign.kind == Tok::kAdd) return e;
    auto neg = std::make_unique<DurationExpr>();
    neg->op = DurationOp::kSub;
    neg->pos = {sign.pos, e->pos.end};
    neg->rhs = std::move(e);
    seal(neg.get());
    return neg;
  }

  ExprPtr parse_duration_primary() {
    switch (tok_.kind) {
      case Tok::kNumber:
      case Tok::kDuration: {
        auto nl = number_literal();
        if (duration_out_of_range(nl->value)) raise(nl->pos.start, "duration out of range");
        return nl;
      }
      case Tok::kStep:
      case Tok::kRange: {
        Token kw = take();
        experimental_duration(kw.pos);
        expect(Tok::kLeftParen, dur_context_, dur_expected_);
        if (tok_.kind != Tok::kRightParen) unexpected(dur_context_, dur_expected_);
        auto de = std::make_unique<DurationExpr>();
        de->op = kw.kind == Tok::kStep ? DurationOp::kStep : DurationOp::kRange;
        de->pos = {kw.pos, tok_.end()};
        advance();
        return de;
      }
      case Tok::kMaxOf:
      case Tok::kMinOf: {
        DepthGuard guard(this);
        Token kw = take();
        experimental_duration(kw.pos);
        expect(Tok::kLeftParen, dur_context_, dur_expected_);
        auto de = std::make_unique<DurationExpr>();
        de->op = kw.kind == Tok::kMaxOf ? DurationOp::kMaxOf : DurationOp::kMinOf;
        de->lhs = parse_duration_expr(1);
        expect(Tok::kComma, dur_context_, dur_expected_);
        de->rhs = parse_duration_expr(1);
        if (tok_.kind != Tok::kRightParen) unexpected(dur_context_, dur_expected_);
        de->pos = {kw.pos, tok_.end()};
        advance();
        seal(de.get());
        return de;
      }
      case Tok::kLeftParen: {
        DepthGuard guard(this);
        Token open = take();
        ExprPtr inner = parse_duration_expr(1);
        if (tok_.kind != Tok::kRightParen) unexpected(dur_context_, dur_expected_);
        experimental_duration(inner->pos.start);
        int end = tok_.end();
        advance();
        if (auto* de = as<DurationExpr>(inner.get())) {
          de->wrapped = true;
          return inner;
        }
        auto wrap = std::make_unique<DurationExpr>();
        wrap->op = DurationOp::kAdd;
        wrap->wrapped = true;
        wrap->pos = {open.pos, end};
        wrap->rhs = std::move(inner);
        seal(wrap.get());
        return wrap;
      }
      default:
        unexpected(dur_context_, dur_expected_);
    }
  }

  std::string_view in_;
  const ParseOptions& opts_;
  Lexer lex_;
  Token tok_, peek_;
  bool has_peek_ = false;
  int last_closing_ = 0;
  int depth_ = 0;
  std::string_view dur_context_, dur_expected_;
};
Error locate(std::string_view input, const Failure& f) {
  int line = 1, col = 1;
  int pos = std::min<int>(f.pos, static_cast<int>(input.size()));
  for (int i = 0; i < pos; ++i) {
    if (input[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return Error{f.message, line, col};
}

}  // namespace

Result<ExprPtr> parse_expr(std::string_view input, const ParseOptions& opts) {
  try {
    Parser parser(input, opts);
    ExprPtr e = parser.parse();
    if (opts.allow_empty_selectors) {
      if (auto* vs = as<VectorSelector>(e.get())) vs->bypass_empty_matcher_check = true;
    }
    check_types(*e, input);
    return e;
  } catch (const Failure& f) {
    return std::unexpected(locate(input, f));
  }
}

std::string format_parse_error(const Error& e) {
  return fmt::format("{}:{}: parse error: {}", e.line, e.column, e.message);
}
}  // namespace vigil::promql
