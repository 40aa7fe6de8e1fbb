#include "promql/parser.h"

#include <cerrno>
#include <cmath>
#include <algorithm>
#include <cstdlib>
#include <limits>

#include <fmt/format.h>

#include "model/names.h"
#include "promql/functions.h"
#include "promql/lexer.h"

namespace vigil::promql {

namespace {

// A parse error: upstream's message and the byte offset it points at. Thrown
// inside the parser and turned into an Error at the boundary; upstream reports
// only its first error, and so do we.
struct Failure {
  std::string message;
  int pos;
};

[[noreturn]] void raise(int pos, std::string message) { throw Failure{std::move(message), pos}; }

// Go's %f for the @ bounds message.
std::string go_float_f(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{:.6f}", v);
}

// Go's rule for digit separators: each '_' sits between two digits (a base
// prefix counts as a digit).
bool underscores_ok(std::string_view s) {
  enum { kStart, kDigit, kUnderscore, kOther } saw = kStart;
  size_t i = 0;
  bool hex = false;
  if (s.size() >= 2 && s[0] == '0') {
    char p = static_cast<char>(std::tolower(static_cast<unsigned char>(s[1])));
    if (p == 'x' || p == 'o' || p == 'b') {
      i = 2;
      saw = kDigit;
      hex = p == 'x';
    }
  }
  for (; i < s.size(); ++i) {
    char c = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
    if ((c >= '0' && c <= '9') || (hex && c >= 'a' && c <= 'f')) {
      saw = kDigit;
    } else if (c == '_') {
      if (saw != kDigit) return false;
      saw = kUnderscore;
    } else {
      if (saw == kUnderscore) return false;
      saw = kOther;
    }
  }
  return saw != kUnderscore;
}

std::string strip_underscores(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c != '_') out += c;
  return out;
}

// Go's strconv.ParseInt(s, 0, 64), falling back to ParseFloat, as upstream.
Result<double> parse_number(std::string_view text) {
  std::string lowered;
  for (char c : text) lowered += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lowered == "inf" || lowered == "+inf" || lowered == "infinity") return std::numeric_limits<double>::infinity();
  if (lowered == "nan") return std::numeric_limits<double>::quiet_NaN();
  bool has_underscore = text.find('_') != std::string_view::npos;
  if (has_underscore && !underscores_ok(text))
    return fail(fmt::format("strconv.ParseFloat: parsing {}: invalid syntax", go_quote(text)));
  std::string s = strip_underscores(text);
  // Integer forms: 0x.., 0o.., 0b.., 0... (octal), decimal.
  int base = 10;
  size_t skip = 0;
  if (s.size() > 1 && s[0] == '0') {
    char p = static_cast<char>(std::tolower(static_cast<unsigned char>(s[1])));
    if (p == 'x') base = 16, skip = 2;
    else if (p == 'o') base = 8, skip = 2;
    else if (p == 'b') base = 2, skip = 2;
    else base = 8, skip = 1;
  }
  std::string digits = s.substr(skip);
  bool int_ok = !digits.empty();
  for (char c : digits) {
    int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
            : std::isxdigit(static_cast<unsigned char>(c)) ? std::tolower(c) - 'a' + 10
                                                            : 99;
    if (d >= base) int_ok = false;
  }
  if (int_ok) {
    errno = 0;
    char* end = nullptr;
    long long v = std::strtoll(digits.c_str(), &end, base);
    if (errno == 0 && *end == '\0') return static_cast<double>(v);
  }
  // Go's ParseFloat wants a 'p' exponent in hex floats, which the lexer never
  // produces, so prefixed numbers that are not integers are errors.
  if (skip == 2) return fail(fmt::format("strconv.ParseFloat: parsing {}: invalid syntax", go_quote(text)));
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0')
    return fail(fmt::format("strconv.ParseFloat: parsing {}: invalid syntax", go_quote(text)));
  if (errno == ERANGE && std::isinf(v))
    return fail(fmt::format("strconv.ParseFloat: parsing {}: value out of range", go_quote(text)));
  return v;
}

// model.ParseDuration's wording for a malformed duration literal.
Result<Millis> parse_duration_literal(std::string_view s) {
  auto d = parse_duration(s);
  if (d) return d;
  // Name the first unit upstream would not know.
  for (size_t i = 0; i < s.size();) {
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    size_t u = i;
    while (i < s.size() && !std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    std::string_view unit = s.substr(u, i - u);
    static constexpr std::string_view known[] = {"y", "w", "d", "h", "m", "s", "ms"};
    bool ok = false;
    for (auto k : known) ok = ok || k == unit;
    if (!ok) return fail(fmt::format("unknown unit {} in duration {}", go_quote(unit), go_quote(s)));
  }
  return d;
}

bool duration_out_of_range(double seconds) {
  constexpr double kLimit = 9223372036.854775807;  // 2^63 nanoseconds, in seconds
  return seconds > kLimit || seconds < -kLimit;
}

Millis seconds_to_millis(double s) { return static_cast<Millis>(std::llround(s * 1000.0)); }

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

  // One more level of nesting; the caller restores depth_.
  void deepen() {
    if (++depth_ > opts_.max_depth)
      raise(tok_.pos, fmt::format("expression nested too deeply (more than {} levels)", opts_.max_depth));
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

  // Counts one level of nesting for the scope of a parse step.
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

// ---- type checking (upstream's checkAST) -------------------------------------

class Checker {
 public:
  explicit Checker(std::string_view input) : in_(input) {}

  ValueType check(Expr& node) {
    switch (node.kind) {
      case ExprKind::kAggregate: {
        auto& n = static_cast<AggregateExpr&>(node);
        expect_type(*n.expr, ValueType::kVector, "aggregation expression");
        switch (n.op) {
          case AggregateOp::kTopk: case AggregateOp::kBottomk: case AggregateOp::kQuantile:
          case AggregateOp::kLimitk: case AggregateOp::kLimitRatio:
            expect_type(*n.param, ValueType::kScalar, "aggregation parameter");
            break;
          case AggregateOp::kCountValues:
            expect_type(*n.param, ValueType::kString, "aggregation parameter");
            break;
          default: break;
        }
        break;
      }
      case ExprKind::kBinary: check_binary(static_cast<BinaryExpr&>(node)); break;
      case ExprKind::kCall: check_call(static_cast<Call&>(node)); break;
      case ExprKind::kParen: check(*static_cast<ParenExpr&>(node).expr); break;
      case ExprKind::kUnary: {
        auto& n = static_cast<UnaryExpr&>(node);
        ValueType t = check(*n.expr);
        if (t != ValueType::kScalar && t != ValueType::kVector)
          raise(n.pos.start, fmt::format("unary expression only allowed on expressions of type scalar or "
                                         "instant vector, got {}",
                                         go_quote(documented_type_name(t))));
        break;
      }
      case ExprKind::kSubquery: {
        auto& n = static_cast<SubqueryExpr&>(node);
        ValueType t = check(*n.expr);
        if (t != ValueType::kVector)
          raise(n.pos.start, fmt::format("subquery is only allowed on instant vector, got {} instead",
                                         value_type_name(t)));
        break;
      }
      case ExprKind::kMatrixSelector: check(*static_cast<MatrixSelector&>(node).selector); break;
      case ExprKind::kVectorSelector: check_selector(static_cast<VectorSelector&>(node)); break;
      default: break;
    }
    return node.type();
  }

 private:
  void expect_type(Expr& e, ValueType want, std::string_view context) {
    ValueType t = check(e);
    if (t != want)
      raise(e.pos.start, fmt::format("expected type {} in {}, got {}", documented_type_name(want), context,
                                     documented_type_name(t)));
  }

  // The operator's own position: between the operands, spaces trimmed.
  int operator_pos(const BinaryExpr& n) {
    int p = n.lhs->pos.end;
    while (p < static_cast<int>(in_.size()) && std::string_view(" \t\n\r").find(in_[p]) != std::string_view::npos) ++p;
    return p;
  }

  void check_binary(BinaryExpr& n) {
    ValueType lt = check(*n.lhs);
    ValueType rt = check(*n.rhs);
    if (n.return_bool && !is_comparison(n.op))
      raise(operator_pos(n), "bool modifier can only be used on comparison operators");
    if (is_comparison(n.op) && !n.return_bool && lt == ValueType::kScalar && rt == ValueType::kScalar)
      raise(operator_pos(n), "comparisons between scalars must use BOOL modifier");
    VectorMatching& vm = *n.matching;
    if (is_set_operator(n.op) && vm.card == Cardinality::kOneToOne) vm.card = Cardinality::kManyToMany;
    if (vm.on)
      for (const auto& l1 : vm.matching_labels)
        for (const auto& l2 : vm.include)
          if (l1 == l2)
            raise(operator_pos(n), fmt::format("label {} must not occur in ON and GROUP clause at once", go_quote(l1)));
    if (lt != ValueType::kScalar && lt != ValueType::kVector)
      raise(n.lhs->pos.start, "binary expression must contain only scalar and instant vector types");
    if (rt != ValueType::kScalar && rt != ValueType::kVector)
      raise(n.rhs->pos.start, "binary expression must contain only scalar and instant vector types");
    bool filled = vm.fill_lhs || vm.fill_rhs;
    if (lt != ValueType::kVector || rt != ValueType::kVector) {
      if (!vm.matching_labels.empty()) raise(n.pos.start, "vector matching only allowed between instant vectors");
      if (filled) raise(n.pos.start, "filling in missing series only allowed between instant vectors");
      n.matching.reset();
    } else if (is_set_operator(n.op)) {
      if (vm.card == Cardinality::kOneToMany || vm.card == Cardinality::kManyToOne)
        raise(n.pos.start, fmt::format("no grouping allowed for {} operation", go_quote(binary_op_string(n.op))));
      if (vm.card != Cardinality::kManyToMany) raise(n.pos.start, "set operations must always be many-to-many");
      if (filled) raise(n.pos.start, "filling in missing series not allowed for set operators");
    }
    if ((lt == ValueType::kScalar || rt == ValueType::kScalar) && is_set_operator(n.op))
      raise(n.pos.start, fmt::format("set operator {} not allowed in binary scalar expression",
                                     go_quote(binary_op_string(n.op))));
  }

  void check_call(Call& n) {
    const Function& f = *n.func;
    int nargs = static_cast<int>(f.arg_types.size());
    int got = static_cast<int>(n.args.size());
    if (f.variadic == 0) {
      if (nargs != got)
        raise(n.pos.start, fmt::format("expected {} argument(s) in call to {}, got {}", nargs, go_quote(f.name), got));
    } else {
      int least = nargs - 1;
      if (least > got)
        raise(n.pos.start,
              fmt::format("expected at least {} argument(s) in call to {}, got {}", least, go_quote(f.name), got));
      if (f.variadic > 0 && least + f.variadic < got)
        raise(n.pos.start, fmt::format("expected at most {} argument(s) in call to {}, got {}", least + f.variadic,
                                       go_quote(f.name), got));
    }
    if (f.name == "info" && got > 1) {
      Expr& sel = *n.args[1];
      if (sel.type() != ValueType::kVector)
        raise(n.pos.start, fmt::format("expected type instant vector in call to function \"info\", got {}",
                                       documented_type_name(sel.type())));
      if (auto* vs = as<VectorSelector>(&sel)) {
        if (!vs->name.empty()) raise(sel.pos.start, "expected label selectors only, got vector selector instead");
        vs->bypass_empty_matcher_check = true;
      } else {
        raise(sel.pos.start, "expected label selectors only");
      }
    }
    for (int i = 0; i < got; ++i) {
      int k = i;
      if (k >= nargs) {
        if (f.variadic == 0) break;
        k = nargs - 1;
      }
      ValueType t = check(*n.args[i]);
      if (t != f.arg_types[k])
        raise(n.args[i]->pos.start, fmt::format("expected type {} in call to function {}, got {}",
                                                documented_type_name(f.arg_types[k]), go_quote(f.name),
                                                documented_type_name(t)));
    }
  }

  void check_selector(VectorSelector& n) {
    if (!n.name.empty()) {
      for (size_t i = 0; i + 1 < n.matchers.size(); ++i)
        if (n.matchers[i].name() == kMetricNameLabel)
          raise(n.pos.start, fmt::format("metric name must not be set twice: {} or {}", go_quote(n.name),
                                         go_quote(n.matchers[i].value())));
      return;
    }
    if (n.bypass_empty_matcher_check) return;
    for (const auto& m : n.matchers)
      if (!m.matches("")) return;
    raise(n.pos.start, "vector selector must contain at least one non-empty matcher");
  }

  std::string_view in_;
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
    Checker(input).check(*e);
    return e;
  } catch (const Failure& f) {
    return std::unexpected(locate(input, f));
  }
}

std::string format_parse_error(const Error& e) {
  return fmt::format("{}:{}: parse error: {}", e.line, e.column, e.message);
}

Result<std::string> unquote_string(std::string_view q) {
  if (q.size() < 2 || q.front() != q.back()) return fail("invalid syntax");
  char quote = q.front();
  std::string_view body = q.substr(1, q.size() - 2);
  if (quote == '`') {
    if (body.find('`') != std::string_view::npos) return fail("invalid syntax");
    return std::string(body);
  }
  if (quote != '"' && quote != '\'') return fail("invalid syntax");
  std::string out;
  out.reserve(body.size());
  for (size_t i = 0; i < body.size();) {
    char c = body[i];
    if (c == quote || c == '\n') return fail("invalid syntax");
    if (c != '\\') {
      out += c;
      ++i;
      continue;
    }
    if (++i >= body.size()) return fail("invalid syntax");
    char e = body[i++];
    auto hex = [&](int n, uint32_t* v) {
      *v = 0;
      for (int k = 0; k < n; ++k, ++i) {
        if (i >= body.size() || !std::isxdigit(static_cast<unsigned char>(body[i]))) return false;
        char h = static_cast<char>(std::tolower(static_cast<unsigned char>(body[i])));
        *v = *v * 16 + static_cast<uint32_t>(h <= '9' ? h - '0' : h - 'a' + 10);
      }
      return true;
    };
    uint32_t v;
    switch (e) {
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case '\\': out += '\\'; break;
      case '\'':
      case '"':
        if (e != quote) return fail("invalid syntax");
        out += e;
        break;
      case 'x':
        if (!hex(2, &v)) return fail("invalid syntax");
        out += static_cast<char>(v);
        break;
      case 'u':
      case 'U': {
        if (!hex(e == 'u' ? 4 : 8, &v) || v > 0x10FFFF || (v >= 0xD800 && v < 0xE000)) return fail("invalid syntax");
        // Encode as UTF-8.
        if (v < 0x80) {
          out += static_cast<char>(v);
        } else if (v < 0x800) {
          out += static_cast<char>(0xC0 | (v >> 6));
          out += static_cast<char>(0x80 | (v & 0x3F));
        } else if (v < 0x10000) {
          out += static_cast<char>(0xE0 | (v >> 12));
          out += static_cast<char>(0x80 | ((v >> 6) & 0x3F));
          out += static_cast<char>(0x80 | (v & 0x3F));
        } else {
          out += static_cast<char>(0xF0 | (v >> 18));
          out += static_cast<char>(0x80 | ((v >> 12) & 0x3F));
          out += static_cast<char>(0x80 | ((v >> 6) & 0x3F));
          out += static_cast<char>(0x80 | (v & 0x3F));
        }
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          v = static_cast<uint32_t>(e - '0');
          for (int k = 0; k < 2; ++k, ++i) {
            if (i >= body.size() || body[i] < '0' || body[i] > '7') return fail("invalid syntax");
            v = v * 8 + static_cast<uint32_t>(body[i] - '0');
          }
          if (v > 255) return fail("invalid syntax");
          out += static_cast<char>(v);
          break;
        }
        return fail("invalid syntax");
    }
  }
  return out;
}

}  // namespace vigil::promql
