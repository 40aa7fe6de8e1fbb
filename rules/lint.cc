#include "rules/lint.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>
#include <re2/re2.h>

#include "model/duration.h"
#include "model/file.h"
#include "rules/check.h"
#include "promql/functions.h"
#include "promql/parser.h"
#include "promql/printer.h"

namespace vigil::rules {

using promql::AggregateExpr;
using promql::AggregateOp;
using promql::as;
using promql::BinaryExpr;
using promql::BinaryOp;
using promql::Call;
using promql::Cardinality;
using promql::Expr;
using promql::MatrixSelector;
using promql::NumberLiteral;
using promql::ParenExpr;
using promql::StringLiteral;
using promql::SubqueryExpr;
using promql::UnaryExpr;
using promql::ValueType;
using promql::VectorSelector;

const std::vector<LintCheckInfo>& lint_checks() {
  static const std::vector<LintCheckInfo> checks = {
      {"alerts/absent-missing-label", Severity::kBug,
       "a template uses a label absent() cannot return (it returns only its = matchers)"},
      {"alerts/bool-comparison", Severity::kBug,
       "an alert filtered with `bool`: it fires for every series, 0 or 1"},
      {"alerts/duplicate-severity", Severity::kInfo,
       "one alert name with several severities in one group: they fire together"},
      {"alerts/for-too-short", Severity::kWarning,
       "`for` shorter than the evaluation interval: the alert waits a whole interval anyway"},
      {"alerts/template-missing-label", Severity::kBug,
       "a label or annotation template uses a label the expression does not return"},
      {"alerts/value-in-labels", Severity::kBug,
       "$value in a label: each new value makes a new alert"},
      {"promql/constant-comparison", Severity::kBug,
       "a comparison whose result does not depend on any series (always or never true)"},
      {"promql/counter-raw", Severity::kWarning,
       "a counter used without rate()/increase(): its value resets to zero on restarts"},
      {"promql/series-count", Severity::kInfo,
       "live: how many series the rule's selectors touch on the datasource"},
      {"promql/series-missing", Severity::kBug,
       "live: a selector matches no series on the datasource"},
      {"promql/range-too-short", Severity::kWarning,
       "a range shorter than two scrape intervals: empty when one scrape is late"},
      {"promql/rate-non-counter", Severity::kWarning,
       "rate()/irate()/increase()/resets() over a name that is not a counter"},
      {"promql/rate-of-aggregation", Severity::kBug,
       "rate() over an aggregation: one series' reset looks like a drop of the sum"},
      {"promql/regexp-anchors", Severity::kInfo,
       "^ or $ in a regular-expression matcher: Prometheus anchors them already"},
      {"promql/regexp-literal", Severity::kInfo,
       "a regular-expression matcher with no regular-expression syntax: use = or !="},
      {"rules/dependency-order", Severity::kWarning,
       "reads a series recorded by a rule that runs later: it sees an older value"},
  };
  return checks;
}

namespace {

Severity severity_of(std::string_view check) {
  for (const auto& c : lint_checks()) {
    if (c.name == check) return c.severity;
  }
  return Severity::kWarning;
}

const Expr* strip_parens(const Expr* e) { return &promql::unwrap_parens(*e); }

std::string_view func_name(const Call& c) { return c.func ? c.func->name : std::string_view{}; }

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string selector_name(const VectorSelector& vs) { return std::string(promql::metric_name(vs)); }

// Recording-rule style names (level:metric:operations) follow their own
// conventions; the counter checks leave them alone.
bool is_recorded_name(std::string_view n) { return n.find(':') != std::string_view::npos; }

bool is_counter_name(std::string_view n) {
  return ends_with(n, "_total") || ends_with(n, "_count") || ends_with(n, "_sum") ||
         ends_with(n, "_bucket");
}

bool is_rate_function(std::string_view f) {
  return f == "rate" || f == "irate" || f == "increase" || f == "resets";
}

// Functions and aggregations for which a counter's raw value is fine: they
// look at its presence, its changes or when it was written.
bool counter_safe_call(std::string_view f) {
  return is_rate_function(f) || f == "changes" || f == "absent" || f == "absent_over_time" ||
         f == "present_over_time" || f == "count_over_time" || f == "timestamp";
}

// A number the expression always evaluates to, when it does not read series.
std::optional<double> constant_value(const Expr* e) {
  e = strip_parens(e);
  if (auto* n = as<NumberLiteral>(e)) return n->value;
  if (auto* u = as<UnaryExpr>(e)) {
    auto v = constant_value(u->expr.get());
    if (!v) return std::nullopt;
    return u->op == promql::UnaryOp::kSub ? -*v : *v;
  }
  if (auto* c = as<Call>(e)) {
    auto f = func_name(*c);
    if ((f == "vector" || f == "scalar") && c->args.size() == 1) return constant_value(c->args[0].get());
  }
  return std::nullopt;
}

bool compare(BinaryOp op, double a, double b) {
  switch (op) {
    case BinaryOp::kEql: return a == b;
    case BinaryOp::kNeq: return a != b;
    case BinaryOp::kGtr: return a > b;
    case BinaryOp::kLss: return a < b;
    case BinaryOp::kGte: return a >= b;
    case BinaryOp::kLte: return a <= b;
    default: return false;
  }
}

std::string join(const std::set<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out.empty() ? "none" : out;
}

// Where a piece of an expression is in the file: the expression's text is
// searched for in the lines from where the `expr` value starts (plain,
// quoted and block scalars alike), as the same occurrence it is in the text.
class Locator {
 public:
  explicit Locator(std::string_view content) {
    size_t start = 0;
    while (start <= content.size()) {
      size_t nl = content.find('\n', start);
      if (nl == std::string_view::npos) nl = content.size();
      lines_.push_back(content.substr(start, nl - start));
      start = nl + 1;
    }
  }

  Position locate(const Rule& r, promql::PosRange range) const {
    Position fallback = r.expr_position.line ? r.expr_position : r.position;
    if (range.start < 0 || static_cast<size_t>(range.start) >= r.expr.size()) return fallback;
    std::string_view text = r.expr;
    std::string_view snippet = text.substr(range.start, std::max(range.end - range.start, 1));
    snippet = snippet.substr(0, snippet.find('\n'));
    if (snippet.size() > 40) snippet = snippet.substr(0, 40);
    if (snippet.empty()) return fallback;
    // Which occurrence of the snippet this is, counted in the expression.
    size_t nth = 0;
    for (size_t p = text.find(snippet); p != std::string_view::npos && p < size_t(range.start);
         p = text.find(snippet, p + 1)) {
      ++nth;
    }
    int newlines = static_cast<int>(std::count(text.begin(), text.end(), '\n'));
    int first = std::max(fallback.line, 1);
    int last = std::min<int>(first + newlines + 2, lines_.size());
    for (int l = first; l <= last; ++l) {
      std::string_view line = lines_[l - 1];
      size_t from = l == first && fallback.line == r.expr_position.line
                        ? std::min<size_t>(std::max(r.expr_position.column - 1, 0), line.size())
                        : 0;
      for (size_t p = line.find(snippet, from); p != std::string_view::npos;
           p = line.find(snippet, p + 1)) {
        if (nth == 0) return {l, static_cast<int>(p) + 1};
        --nth;
      }
    }
    return fallback;
  }

  // Checks named in "# vigil lint ignore NAME[,NAME]" comments, per line.
  std::map<int, std::vector<std::string>> ignores() const {
    static const RE2 re(R"(#\s*vigil\s+lint\s+ignore\s+([\w/,\- ]+))");
    std::map<int, std::vector<std::string>> out;
    for (size_t i = 0; i < lines_.size(); ++i) {
      std::string names;
      if (!RE2::PartialMatch(lines_[i], re, &names)) continue;
      size_t start = 0;
      while (start < names.size()) {
        size_t end = names.find_first_of(", ", start);
        if (end == std::string::npos) end = names.size();
        if (end > start) out[static_cast<int>(i) + 1].push_back(names.substr(start, end - start));
        start = end + 1;
      }
    }
    return out;
  }

  int line_count() const { return static_cast<int>(lines_.size()); }

 private:
  std::vector<std::string_view> lines_;
};

// Label references in a template: $labels.x, .Labels.x, index $labels "x".
std::vector<std::string> template_label_refs(std::string_view text) {
  static const RE2 dotted(R"((?:\$labels|\.Labels)\.([A-Za-z_][A-Za-z0-9_]*))");
  static const RE2 indexed(R"re(index\s+(?:\$labels|\.Labels)\s+"([^"]+)")re");
  std::vector<std::string> out;
  for (const RE2* re : {&dotted, &indexed}) {
    re2::StringPiece in(text.data(), text.size());
    std::string name;
    while (RE2::FindAndConsume(&in, *re, &name)) out.push_back(name);
  }
  return out;
}

bool uses_value(std::string_view text) {
  static const RE2 re(R"((\$value\b)|(\{\{-?\s*\.Value\b)|([\s(|]\.Value\b))");
  return RE2::PartialMatch(text, re);
}

struct Context {
  const RuleFile& file;
  const LintOptions& opts;
  const Locator& locator;
  std::vector<Finding>& out;

  void add(std::string_view check, Position p, std::string message) {
    if (opts.disabled.contains(check)) return;
    out.push_back({file.path, p.line, p.column, std::string(check), severity_of(check),
                   std::move(message)});
  }
};

Millis group_interval(const RuleGroup& g, const LintOptions& opts) {
  if (g.interval) return *g.interval;
  return opts.prometheus ? opts.prometheus->global.evaluation_interval : kMinute;
}

// The scrape interval samples of a selector arrive at: the job's when it
// names one with =, else the shortest of all jobs (so a warning is never
// based on a guess that is too long).
std::optional<std::pair<Millis, std::string>> scrape_interval_for(const VectorSelector& vs,
                                                                  const config::PrometheusConfig& pc) {
  for (const auto& m : vs.matchers) {
    if (m.name() == "job" && m.type() == MatchType::kEqual) {
      if (const auto* sc = pc.scrape_config(m.value())) {
        return std::pair{sc->scrape_interval ? sc->scrape_interval : pc.global.scrape_interval,
                         fmt::format("job \"{}\"", m.value())};
      }
    }
  }
  if (pc.scrape_configs.empty()) return std::pair{pc.global.scrape_interval, std::string("global")};
  Millis shortest = 0;
  for (const auto& sc : pc.scrape_configs) {
    Millis i = sc.scrape_interval ? sc.scrape_interval : pc.global.scrape_interval;
    if (shortest == 0 || i < shortest) shortest = i;
  }
  return std::pair{shortest, std::string("shortest of all jobs")};
}

// Checks on the expression tree of one rule. `up` holds the ancestors of
// the node being visited, nearest last.
class ExprChecks {
 public:
  ExprChecks(Context& ctx, const Rule& rule) : ctx_(ctx), rule_(rule) {}

  void run() {
    if (!rule_.parsed) return;
    visit(*rule_.parsed);
  }

 private:
  Position at(const Expr& e) const { return ctx_.locator.locate(rule_, e.pos); }
  std::string text(const Expr& e) const {
    std::string s = promql::to_string(e);
    return s.size() > 60 ? s.substr(0, 57) + "..." : s;
  }

  void visit(const Expr& e) {
    check(e);
    up_.push_back(&e);
    promql::for_each_child(e, [&](const Expr& c) { visit(c); });
    up_.pop_back();
  }

  void check(const Expr& e) {
    if (auto* vs = as<VectorSelector>(&e)) {
      check_matchers(*vs);
      check_counter_raw(*vs);
    } else if (auto* c = as<Call>(&e)) {
      check_call(*c);
    } else if (auto* b = as<BinaryExpr>(&e)) {
      check_comparison(*b);
    }
  }

  void check_matchers(const VectorSelector& vs) {
    for (const auto& m : vs.matchers) {
      if (m.type() != MatchType::kRegex && m.type() != MatchType::kNotRegex) continue;
      const std::string& v = m.value();
      if (v.empty()) continue;
      bool anchored = v.front() == '^' || (v.back() == '$' && (v.size() < 2 || v[v.size() - 2] != '\\'));
      if (anchored) {
        ctx_.add("promql/regexp-anchors", at(vs),
                 fmt::format("{} has ^ or $ anchors: Prometheus matches the whole value already, "
                             "so they are redundant",
                             m.to_string()));
        continue;
      }
      if (v.find_first_of(".*+?()[]{}|^$\\") == std::string::npos) {
        ctx_.add("promql/regexp-literal", at(vs),
                 fmt::format("{} has no regular-expression syntax: use {}{}\"{}\"", m.to_string(),
                             m.name(), m.type() == MatchType::kRegex ? "=" : "!=", v));
      }
    }
  }

  void check_counter_raw(const VectorSelector& vs) {
    std::string name = selector_name(vs);
    if (name.empty() || is_recorded_name(name) || !ends_with(name, "_total")) return;
    const Expr* child = &vs;
    for (auto it = up_.rbegin(); it != up_.rend(); child = *it, ++it) {
      const Expr* a = *it;
      if (auto* c = as<Call>(a); c && counter_safe_call(func_name(*c))) return;
      if (auto* g = as<AggregateExpr>(a);
          g && (g->op == AggregateOp::kCount || g->op == AggregateOp::kGroup ||
                g->op == AggregateOp::kCountValues)) {
        return;
      }
      if (auto* b = as<BinaryExpr>(a);
          b && (b->op == BinaryOp::kAnd || b->op == BinaryOp::kUnless) && b->rhs.get() == child) {
        return;  // only the right side's labels matter
      }
    }
    ctx_.add("promql/counter-raw", at(vs),
             fmt::format("{} is a counter (its name ends in _total) used without rate() or "
                         "increase(): its raw value drops to zero whenever the process restarts",
                         name));
  }

  void check_call(const Call& c) {
    std::string_view f = func_name(c);
    if (!is_rate_function(f) || c.args.empty()) return;
    const Expr* arg = strip_parens(c.args[0].get());
    if (auto* ms = as<MatrixSelector>(arg)) {
      std::string name = selector_name(*ms->selector);
      if (!name.empty() && !is_recorded_name(name) && !is_counter_name(name)) {
        ctx_.add("promql/rate-non-counter", at(*ms),
                 fmt::format("{}() over {}, whose name is not a counter's (_total, _count, _sum, "
                             "_bucket): a gauge's drops are counted as resets (use deriv() or "
                             "delta() for gauges; ignore this for native histograms)",
                             f, name));
      }
      check_range(f, *ms);
    } else if (auto* sq = as<SubqueryExpr>(arg)) {
      if (auto* agg = as<AggregateExpr>(strip_parens(sq->expr.get()));
          agg && agg->op != AggregateOp::kTopk && agg->op != AggregateOp::kBottomk) {
        ctx_.add("promql/rate-of-aggregation", at(c),
                 fmt::format("{}() over {}(...): when one series resets, the {} drops and {}() "
                             "counts a reset of the whole; take {}() first, then {} (e.g. {}({}(x[5m])))",
                             f, promql::aggregate_op_string(agg->op), promql::aggregate_op_string(agg->op), f, f,
                             promql::aggregate_op_string(agg->op), promql::aggregate_op_string(agg->op), f));
      }
    }
  }

  void check_range(std::string_view f, const MatrixSelector& ms) {
    if (!ctx_.opts.prometheus || ms.range_expr || ms.range <= 0) return;
    std::string name = selector_name(*ms.selector);
    if (is_recorded_name(name)) return;
    auto interval = scrape_interval_for(*ms.selector, *ctx_.opts.prometheus);
    if (!interval || interval->first <= 0 || ms.range >= 2 * interval->first) return;
    ctx_.add("promql/range-too-short", at(ms),
             fmt::format("{}() over [{}] sees fewer than two scrapes (scrape interval {}, {}): it "
                         "returns nothing when a scrape is late; use at least [{}]",
                         f, format_duration(ms.range), format_duration(interval->first),
                         interval->second, format_duration(4 * interval->first)));
  }

  void check_comparison(const BinaryExpr& b) {
    if (!promql::is_comparison(b.op)) return;
    auto l = constant_value(b.lhs.get());
    auto r = constant_value(b.rhs.get());
    std::string op(promql::binary_op_string(b.op));
    if (l && r && !b.return_bool) {
      bool result = compare(b.op, *l, *r);
      ctx_.add("promql/constant-comparison", at(b),
               fmt::format("{} compares two constants: it is {} true, whatever the series are",
                           text(b), result ? "always" : "never"));
      return;
    }
    if ((l && std::isnan(*l)) || (r && std::isnan(*r))) {
      ctx_.add("promql/constant-comparison", at(b),
               fmt::format("{} compares with NaN, which equals nothing (not even NaN): it is {} "
                           "true; use a function such as absent() or `x != x` to find NaN",
                           text(b), b.op == BinaryOp::kNeq ? "always" : "never"));
    }
  }

  Context& ctx_;
  const Rule& rule_;
  std::vector<const Expr*> up_;
};

OutputLabels labels_of(const Expr& e, bool* from_absent);

OutputLabels unbounded() { return {}; }
OutputLabels bounded(std::set<std::string> names) { return {true, std::move(names)}; }

OutputLabels labels_of_call(const Call& c, bool* from_absent) {
  std::string_view f = func_name(c);
  if (f == "absent" || f == "absent_over_time") {
    if (from_absent) *from_absent = true;
    const Expr* arg = c.args.empty() ? nullptr : strip_parens(c.args[0].get());
    const VectorSelector* vs = as<VectorSelector>(arg);
    if (auto* ms = as<MatrixSelector>(arg)) vs = ms->selector.get();
    std::set<std::string> names;
    if (vs) {
      for (const auto& m : vs->matchers) {
        if (m.type() == MatchType::kEqual && m.name() != "__name__") names.insert(m.name());
      }
    }
    return bounded(std::move(names));
  }
  if (f == "info") return unbounded();
  // The first vector or range-vector argument carries the series through.
  const Expr* series = nullptr;
  for (const auto& a : c.args) {
    if (a->type() == ValueType::kVector || a->type() == ValueType::kMatrix) {
      series = a.get();
      break;
    }
  }
  if (!series) return bounded({});
  OutputLabels in = labels_of(*series, from_absent);
  if (!in.bounded) return in;
  if ((f == "label_replace" || f == "label_join") && c.args.size() > 1) {
    if (auto* dst = as<StringLiteral>(strip_parens(c.args[1].get()))) in.names.insert(dst->value);
  } else if (f == "histogram_quantile") {
    in.names.erase("le");
  }
  return in;
}

OutputLabels labels_of(const Expr& e, bool* from_absent) {
  switch (e.kind) {
    case promql::ExprKind::kNumberLiteral:
    case promql::ExprKind::kStringLiteral:
    case promql::ExprKind::kDuration:
      return bounded({});
    case promql::ExprKind::kVectorSelector:
    case promql::ExprKind::kMatrixSelector:
      return unbounded();
    case promql::ExprKind::kSubquery:
      return labels_of(*static_cast<const SubqueryExpr&>(e).expr, from_absent);
    case promql::ExprKind::kParen:
      return labels_of(*static_cast<const ParenExpr&>(e).expr, from_absent);
    case promql::ExprKind::kUnary:
      return labels_of(*static_cast<const UnaryExpr&>(e).expr, from_absent);
    case promql::ExprKind::kCall:
      return labels_of_call(static_cast<const Call&>(e), from_absent);
    case promql::ExprKind::kAggregate: {
      const auto& a = static_cast<const AggregateExpr&>(e);
      OutputLabels in = labels_of(*a.expr, from_absent);
      switch (a.op) {
        case AggregateOp::kTopk:
        case AggregateOp::kBottomk:
        case AggregateOp::kLimitk:
        case AggregateOp::kLimitRatio:
          return in;
        default: break;
      }
      std::set<std::string> grouping(a.grouping.begin(), a.grouping.end());
      OutputLabels out;
      if (a.without) {
        if (!in.bounded) return unbounded();
        out = in;
        for (const auto& g : grouping) out.names.erase(g);
        out.names.erase("__name__");
      } else {
        out = bounded({});
        for (const auto& g : grouping) {
          if (!in.bounded || in.names.contains(g)) out.names.insert(g);
        }
      }
      if (a.op == AggregateOp::kCountValues && a.param) {
        if (auto* s = as<StringLiteral>(strip_parens(a.param.get()))) out.names.insert(s->value);
      }
      return out;
    }
    case promql::ExprKind::kBinary: {
      const auto& b = static_cast<const BinaryExpr&>(e);
      bool ls = b.lhs->type() == ValueType::kScalar;
      bool rs = b.rhs->type() == ValueType::kScalar;
      if (ls && rs) return bounded({});
      if (ls) return labels_of(*b.rhs, from_absent);
      if (rs) return labels_of(*b.lhs, from_absent);
      OutputLabels l = labels_of(*b.lhs, from_absent);
      if (b.op == BinaryOp::kAnd || b.op == BinaryOp::kUnless) return l;
      bool rhs_absent = false;
      OutputLabels r = labels_of(*b.rhs, &rhs_absent);
      if (b.op == BinaryOp::kOr) {
        if (from_absent && rhs_absent) *from_absent = true;
        if (!l.bounded || !r.bounded) return unbounded();
        l.names.insert(r.names.begin(), r.names.end());
        return l;
      }
      if (!b.matching) return l;
      const auto& m = *b.matching;
      std::set<std::string> matching(m.matching_labels.begin(), m.matching_labels.end());
      switch (m.card) {
        case Cardinality::kOneToOne:
        case Cardinality::kManyToMany: {
          if (m.on) {
            std::set<std::string> names;
            for (const auto& n : matching) {
              if (!l.bounded || l.names.contains(n)) names.insert(n);
            }
            return bounded(std::move(names));
          }
          if (!l.bounded) return l;
          for (const auto& n : matching) l.names.erase(n);
          return l;
        }
        case Cardinality::kManyToOne:
          if (l.bounded) l.names.insert(m.include.begin(), m.include.end());
          return l;
        case Cardinality::kOneToMany:
          if (r.bounded) r.names.insert(m.include.begin(), m.include.end());
          return r;
      }
      return l;
    }
  }
  return unbounded();
}

void check_templates(Context& ctx, const Rule& rule) {
  if (!rule.is_alert() || !rule.parsed) return;
  bool from_absent = false;
  OutputLabels labels = labels_of(*rule.parsed, &from_absent);
  auto check_one = [&](const Label& l, Position p, std::string_view what) {
    if (labels.bounded) {
      std::set<std::string> reported;
      for (const auto& ref : template_label_refs(l.value)) {
        if (labels.names.contains(ref) || !reported.insert(ref).second) continue;
        if (from_absent) {
          ctx.add("alerts/absent-missing-label", p,
                  fmt::format("{} `{}` uses the label {}, but absent() returns only the labels of its "
                              "= matchers ({}): it will be empty",
                              what, l.name, ref, join(labels.names)));
        } else {
          ctx.add("alerts/template-missing-label", p,
                  fmt::format("{} `{}` uses the label {}, but the expression returns only {}: it "
                              "will be empty",
                              what, l.name, ref, join(labels.names)));
        }
      }
    }
  };
  for (size_t i = 0; i < rule.labels.size(); ++i) {
    Position p = i < rule.label_positions.size() ? rule.label_positions[i] : rule.position;
    check_one(rule.labels[i], p, "label");
    if (uses_value(rule.labels[i].value)) {
      ctx.add("alerts/value-in-labels", p,
              fmt::format("label `{}` uses $value: every new value makes a new alert (the old one "
                          "resolves, the new one waits `for` again); put it in an annotation",
                          rule.labels[i].name));
    }
  }
  for (size_t i = 0; i < rule.annotations.size(); ++i) {
    Position p = i < rule.annotation_positions.size() ? rule.annotation_positions[i] : rule.position;
    check_one(rule.annotations[i], p, "annotation");
  }
}

void check_alert(Context& ctx, const RuleGroup& g, const Rule& rule) {
  if (!rule.is_alert()) return;
  if (rule.parsed) {
    if (auto* b = as<BinaryExpr>(strip_parens(rule.parsed.get()));
        b && promql::is_comparison(b->op) && b->return_bool) {
      ctx.add("alerts/bool-comparison", ctx.locator.locate(rule, b->pos),
              fmt::format("the alert's expression ends in a `{} bool` comparison, which returns 0 or 1 "
                          "for every series instead of filtering: the alert fires for all of them",
                          promql::binary_op_string(b->op)));
    }
  }
  Millis interval = group_interval(g, ctx.opts);
  if (rule.for_duration > 0 && rule.for_duration < interval) {
    ctx.add("alerts/for-too-short", rule.position,
            fmt::format("`for: {}` is shorter than the group's evaluation interval {}: the alert "
                        "fires at the second evaluation that finds it, {} after the first",
                        format_duration(rule.for_duration), format_duration(interval),
                        format_duration(interval)));
  }
}

void check_duplicate_severity(Context& ctx, const RuleGroup& g) {
  std::map<std::string, std::vector<std::pair<std::string, const Rule*>>> by_name;
  for (const auto& r : g.rules) {
    if (!r.is_alert()) continue;
    std::string severity;
    for (const auto& l : r.labels) {
      if (l.name == "severity") severity = l.value;
    }
    by_name[r.name].emplace_back(severity, &r);
  }
  for (const auto& [name, rules] : by_name) {
    for (size_t i = 1; i < rules.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (rules[j].first == rules[i].first) continue;
        ctx.add("alerts/duplicate-severity", rules[i].second->position,
                fmt::format("alert {} (severity \"{}\") is also defined with severity \"{}\" at line "
                            "{} of group \"{}\": when both match, both fire; inhibit the lower one "
                            "or make their conditions exclusive",
                            name, rules[i].first, rules[j].first, rules[j].second->position.line,
                            g.name));
        break;
      }
    }
  }
}

void check_dependency_order(Context& ctx) {
  struct Recorder {
    size_t group;
    size_t index;
    const Rule* rule;
  };
  std::map<std::string, std::vector<Recorder>> recorded;
  const auto& groups = ctx.file.groups;
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    for (size_t ri = 0; ri < groups[gi].rules.size(); ++ri) {
      const Rule& r = groups[gi].rules[ri];
      if (!r.is_alert()) recorded[r.name].push_back({gi, ri, &r});
    }
  }
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    for (size_t ri = 0; ri < groups[gi].rules.size(); ++ri) {
      const Rule& r = groups[gi].rules[ri];
      if (!r.parsed) continue;
      std::set<std::string> reported;
      for (const VectorSelector* sel : promql::vector_selectors(*r.parsed)) {
        std::string name = selector_name(*sel);
        auto it = recorded.find(name);
        if (it == recorded.end() || reported.contains(name)) continue;
        const Recorder* earliest = &it->second.front();
        bool any_before = false;
        for (const auto& rec : it->second) {
          if (rec.group == gi && rec.index == ri) continue;
          if (rec.group < gi || (rec.group == gi && rec.index < ri)) any_before = true;
        }
        if (any_before || (earliest->group == gi && earliest->index == ri)) continue;
        reported.insert(name);
        Position p = ctx.locator.locate(r, sel->pos);
        if (earliest->group == gi) {
          ctx.add("rules/dependency-order", p,
                  fmt::format("reads {}, which is recorded by a later rule in this group (line {}): "
                              "rules run in file order, so it sees the previous evaluation's value; "
                              "move the recording rule above this one",
                              name, earliest->rule->position.line));
        } else {
          ctx.add("rules/dependency-order", p,
                  fmt::format("reads {}, which is recorded in the later group \"{}\" (line {}): "
                              "groups run independently, so the value can be up to one of its "
                              "intervals old; record it in this group, before this rule",
                              name, groups[earliest->group].name, earliest->rule->position.line));
        }
      }
    }
  }
}


// The selector without offset or @, as PromQL text, optionally with only
// some of its label matchers.
std::string selector_text(const VectorSelector& vs, const std::vector<const Matcher*>& keep) {
  std::string name = vs.name;
  std::string out;
  for (const Matcher* m : keep) {
    if (!name.empty() && m->name() == "__name__") continue;
    out += out.empty() ? "" : ", ";
    out += m->to_string();
  }
  return out.empty() && !name.empty() ? name : name + "{" + out + "}";
}

class LiveChecks {
 public:
  LiveChecks(Context& ctx, const std::set<std::string>& recorded) : ctx_(ctx), recorded_(recorded) {}

  Result<void> rule(const Rule& r) {
    if (!r.parsed) return {};
    double touched = 0;
    std::vector<std::string> parts;
    std::set<std::string> seen;
    for (const VectorSelector* vs : promql::vector_selectors(*r.parsed)) {
      std::string name = selector_name(*vs);
      if (!name.empty() && recorded_.contains(name)) continue;
      std::vector<const Matcher*> all;
      for (const auto& m : vs->matchers) all.push_back(&m);
      std::string text = selector_text(*vs, all);
      if (!seen.insert(text).second) continue;
      auto n = count(text);
      if (!n) return std::unexpected(n.error());
      if (*n > 0) {
        touched += *n;
        parts.push_back(fmt::format("{}: {}", text, *n));
        continue;
      }
      auto why = explain(*vs, name);
      if (!why) return std::unexpected(why.error());
      ctx_.add("promql/series-missing", ctx_.locator.locate(r, vs->pos),
               fmt::format("{} matches no series on the datasource{}", text, *why));
    }
    if (!parts.empty()) {
      std::string list;
      for (const auto& p : parts) list += (list.empty() ? "" : ", ") + p;
      ctx_.add("promql/series-count", r.expr_position.line ? r.expr_position : r.position,
               fmt::format("the query touches {} series ({})", touched, list));
    }
    return {};
  }

 private:
  Result<double> query(const std::string& q) {
    auto e = promql::parse_expr(q);
    if (!e) return fail(fmt::format("cannot build the query {}: {}", q, e.error().message));
    auto v = ctx_.opts.query(**e, ctx_.opts.now);
    if (!v) return fail(fmt::format("datasource: {} (query: {})", v.error().message, q));
    if (v->empty()) return 0.0;
    return (*v)[0].value;
  }
  Result<double> count(const std::string& selector) { return query("count(" + selector + ")"); }

  // Why nothing matches: the name alone, or which matcher rules everything
  // out (with the values the label does have), or when it was last there.
  Result<std::string> explain(const VectorSelector& vs, const std::string& name) {
    if (name.empty()) return std::string();
    std::string bare = name;
    auto any = count(bare);
    if (!any) return std::unexpected(any.error());
    if (*any == 0) {
      auto week = query("count(last_over_time(" + bare + "[7d]))");
      if (!week) return std::unexpected(week.error());
      return std::string(*week > 0 ? ": the metric was there in the last 7 days, but is not now"
                                   : ": no series of this name in the last 7 days");
    }
    for (const auto& m : vs.matchers) {
      if (m.name() == "__name__") continue;
      auto n = count(selector_text(vs, {&m}));
      if (!n) return std::unexpected(n.error());
      if (*n > 0) continue;
      // What the label does hold, a few values.
      auto e = promql::parse_expr("count by (" + m.name() + ") (" + bare + ")");
      std::string values;
      if (e) {
        auto v = ctx_.opts.query(**e, ctx_.opts.now);
        if (!v) return fail(fmt::format("datasource: {}", v.error().message));
        size_t shown = 0;
        for (const auto& s : *v) {
          if (shown++ == 5) {
            values += ", ...";
            break;
          }
          auto l = s.labels.get(m.name());
          values += fmt::format("{}\"{}\"", values.empty() ? "" : ", ", l);
        }
      }
      return fmt::format(": {} has {:.0f} series, none with {} ({} values: {})", name, *any,
                         m.to_string(), m.name(), values.empty() ? "none" : values);
    }
    return std::string(": each matcher alone matches, but not all together");
  }

  Context& ctx_;
  const std::set<std::string>& recorded_;
};

std::set<std::string> recorded_names(const RuleFile& file) {
  std::set<std::string> out;
  for (const auto& g : file.groups) {
    for (const auto& r : g.rules) {
      if (!r.is_alert()) out.insert(r.name);
    }
  }
  return out;
}

// Ignore comments apply to the rule whose lines hold them: from its first
// line to the next rule's or group's.
void apply_ignores(std::vector<Finding>& findings, const RuleFile& file, const Locator& locator) {
  auto ignores = locator.ignores();
  if (ignores.empty()) return;
  std::vector<int> starts;
  for (const auto& g : file.groups) {
    starts.push_back(g.position.line);
    for (const auto& r : g.rules) starts.push_back(r.position.line);
  }
  std::sort(starts.begin(), starts.end());
  auto span_of = [&](int line) -> std::pair<int, int> {
    auto it = std::upper_bound(starts.begin(), starts.end(), line);
    int first = it == starts.begin() ? 1 : *(it - 1);
    int last = it == starts.end() ? locator.line_count() : *it - 1;
    return {first, last};
  };
  std::erase_if(findings, [&](const Finding& f) {
    auto [first, last] = span_of(f.line);
    for (auto it = ignores.lower_bound(first); it != ignores.end() && it->first <= last; ++it) {
      for (const auto& name : it->second) {
        if (name == f.check || name == "all") return true;
      }
    }
    return false;
  });
}

}  // namespace

OutputLabels output_labels(const promql::Expr& e) { return labels_of(e, nullptr); }

Result<std::vector<Finding>> lint_live(const RuleFile& file, std::string_view content,
                                       const LintOptions& opts) {
  std::vector<Finding> findings;
  if (!opts.query) return findings;
  Locator locator(content);
  Context ctx{file, opts, locator, findings};
  auto recorded = recorded_names(file);
  LiveChecks live(ctx, recorded);
  for (const auto& g : file.groups) {
    for (const auto& r : g.rules) {
      if (auto ok = live.rule(r); !ok) return std::unexpected(ok.error());
    }
  }
  apply_ignores(findings, file, locator);
  return findings;
}

std::vector<Finding> lint_rule_file(const RuleFile& file, std::string_view content,
                                    const LintOptions& opts) {
  std::vector<Finding> findings;
  Locator locator(content);
  Context ctx{file, opts, locator, findings};
  for (const auto& g : file.groups) {
    for (const auto& r : g.rules) {
      check_alert(ctx, g, r);
      check_templates(ctx, r);
      ExprChecks(ctx, r).run();
    }
    check_duplicate_severity(ctx, g);
  }
  check_dependency_order(ctx);

  apply_ignores(findings, file, locator);
  return findings;
}

int lint_files(const std::vector<std::string>& files, const LintRunOptions& opts, std::ostream& out,
               std::ostream& err) {
  std::vector<Finding> findings;
  for (const auto& path : files) {
    auto content = read_file(path);
    if (!content) {
      findings.push_back({path, 0, 0, "rules/load", Severity::kBug, content.error().message});
      continue;
    }
    LoadResult r = parse_rule_file(*content, opts.load);
    r.file.path = path;
    if (!r.ok()) {
      auto more = load_error_findings(path, r);
      findings.insert(findings.end(), more.begin(), more.end());
      continue;
    }
    if (r.multiple_documents) {
      err << path << ": only the first YAML document is read, as Prometheus does\n";
    }
    auto more = lint_rule_file(r.file, *content, opts.lint);
    findings.insert(findings.end(), more.begin(), more.end());
    if (opts.lint.query) {
      auto live = lint_live(r.file, *content, opts.lint);
      if (!live) {
        err << "vigil lint: " << live.error().message << "\n";
        return kExitFailure;
      }
      findings.insert(findings.end(), live->begin(), live->end());
    }
    if (!opts.lint.disabled.contains("rules/duplicate-rules")) {
      auto dups = duplicate_findings(path, r.file);
      findings.insert(findings.end(), dups.begin(), dups.end());
    }
  }
  bool fail = opts.fail_on && std::any_of(findings.begin(), findings.end(), [&](const Finding& f) {
                return f.severity >= *opts.fail_on;
              });
  write_findings(out, opts.format, std::move(findings), files, "vigil lint");
  out.flush();
  return fail ? kExitFailure : kExitSuccess;
}

}  // namespace vigil::rules
