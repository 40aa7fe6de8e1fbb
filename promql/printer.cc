#include "promql/printer.h"

#include <algorithm>
#include <charconv>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "model/names.h"
#include "promql/functions.h"
#include "promql/literals.h"

namespace vigil::promql {

namespace {

// Go's strconv.FormatFloat(v, 'f', -1, 64): shortest digits, never an exponent.
std::string format_float(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[400];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return std::string(buf, r.ptr);
}

// Go's %v for a float64 (%g with the shortest precision).
std::string format_float_v(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, r.ptr);
  int exp = std::stoi(sci.substr(sci.find('e') + 1));
  if (exp < -4 || exp >= 6) {
    std::string mant = sci.substr(0, sci.find('e'));
    return fmt::format("{}e{}{:02d}", mant, exp < 0 ? '-' : '+', std::abs(exp));
  }
  return format_float(v);
}

// Inf and NaN, in any case, read as numbers where a label list is
// expected; they are quoted like names that are not legacy ones.
bool reads_as_number(std::string_view name) {
  if (name.size() != 3) return false;
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "inf" || lower == "nan";
}

void write_labels(std::string& out, const std::vector<std::string>& labels) {
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ", ";
    const std::string& l = labels[i];
    out += is_legacy_label_name(l) && !reads_as_number(l) ? l : go_quote(l);
  }
}

void write(std::string& out, const Expr& e);

void write_at(std::string& out, const TimeModifiers& m) {
  switch (m.at) {
    case AtKind::kTimestamp: out += fmt::format(" @ {:.3f}", static_cast<double>(m.at_timestamp) / 1000.0); break;
    case AtKind::kStart: out += " @ start()"; break;
    case AtKind::kEnd: out += " @ end()"; break;
    case AtKind::kNone: break;
  }
}

void write_offset(std::string& out, const TimeModifiers& m) {
  if (m.offset_expr) {
    out += " offset ";
    write(out, *m.offset_expr);
  } else if (m.offset > 0) {
    out += " offset " + format_duration(m.offset);
  } else if (m.offset < 0) {
    out += " offset -" + format_duration(-m.offset);
  }
}

void write_extended(std::string& out, const VectorSelector& vs) {
  if (vs.anchored) out += " anchored";
  else if (vs.smoothed) out += " smoothed";
}

void write_selector_core(std::string& out, const VectorSelector& vs) {
  std::vector<std::string> parts;
  for (const auto& m : vs.matchers) {
    if (m.name() == kMetricNameLabel && m.type() == MatchType::kEqual && m.value() == vs.name && !vs.name.empty())
      continue;
    parts.push_back(m.to_string());
  }
  out += vs.name;
  if (parts.empty()) return;
  std::sort(parts.begin(), parts.end());
  out += '{';
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += ',';
    out += parts[i];
  }
  out += '}';
}

void write_range(std::string& out, Millis ms, const DurationExpr* expr) {
  if (expr) write(out, *expr);
  else out += format_duration(ms);
}

void write_duration(std::string& out, const DurationExpr& d) {
  if (d.wrapped) out += '(';
  switch (d.op) {
    case DurationOp::kStep: out += "step()"; break;
    case DurationOp::kRange: out += "range()"; break;
    case DurationOp::kMinOf:
    case DurationOp::kMaxOf:
      out += d.op == DurationOp::kMinOf ? "min_of(" : "max_of(";
      write(out, *d.lhs);
      out += ", ";
      write(out, *d.rhs);
      out += ')';
      break;
    default:
      static constexpr std::string_view ops[] = {"+", "-", "*", "/", "%", "^"};
      if (!d.lhs) {
        if (d.op == DurationOp::kSub) out += '-';
        write(out, *d.rhs);
      } else {
        write(out, *d.lhs);
        out += ' ';
        out += ops[static_cast<int>(d.op)];
        out += ' ';
        write(out, *d.rhs);
      }
  }
  if (d.wrapped) out += ')';
}

void write_matching(std::string& out, const VectorMatching& vm) {
  bool grouped = vm.card == Cardinality::kManyToOne || vm.card == Cardinality::kOneToMany;
  if (!vm.matching_labels.empty() || vm.on || grouped) {
    out += vm.on ? " on (" : " ignoring (";
    write_labels(out, vm.matching_labels);
    out += ')';
  }
  if (grouped) {
    out += vm.card == Cardinality::kManyToOne ? " group_left (" : " group_right (";
    write_labels(out, vm.include);
    out += ')';
  }
  if (vm.fill_lhs && vm.fill_rhs && (*vm.fill_lhs == *vm.fill_rhs)) {
    out += " fill (" + format_float_v(*vm.fill_lhs) + ")";
  } else {
    if (vm.fill_lhs) out += " fill_left (" + format_float_v(*vm.fill_lhs) + ")";
    if (vm.fill_rhs) out += " fill_right (" + format_float_v(*vm.fill_rhs) + ")";
  }
}

void write(std::string& out, const Expr& e) {
  switch (e.kind) {
    case ExprKind::kNumberLiteral: {
      const auto& n = static_cast<const NumberLiteral&>(e);
      if (!n.duration) {
        out += format_float(n.value);
      } else {
        Millis ms = seconds_to_millis(n.value);
        out += ms < 0 ? "-" + format_duration(-ms) : format_duration(ms);
      }
      break;
    }
    case ExprKind::kStringLiteral: out += go_quote(static_cast<const StringLiteral&>(e).value); break;
    case ExprKind::kVectorSelector: {
      const auto& vs = static_cast<const VectorSelector&>(e);
      write_selector_core(out, vs);
      write_at(out, vs.mods);
      write_extended(out, vs);
      write_offset(out, vs.mods);
      break;
    }
    case ExprKind::kMatrixSelector: {
      const auto& ms = static_cast<const MatrixSelector&>(e);
      write_selector_core(out, *ms.selector);
      out += '[';
      write_range(out, ms.range, ms.range_expr.get());
      out += ']';
      write_extended(out, *ms.selector);
      write_at(out, ms.selector->mods);
      write_offset(out, ms.selector->mods);
      break;
    }
    case ExprKind::kSubquery: {
      const auto& sq = static_cast<const SubqueryExpr&>(e);
      write(out, *sq.expr);
      out += '[';
      write_range(out, sq.range, sq.range_expr.get());
      out += ':';
      if (sq.step != 0) out += format_duration(sq.step);
      else if (sq.step_expr) write(out, *sq.step_expr);
      out += ']';
      write_at(out, sq.mods);
      write_offset(out, sq.mods);
      break;
    }
    case ExprKind::kAggregate: {
      const auto& a = static_cast<const AggregateExpr&>(e);
      out += aggregate_op_string(a.op);
      if (a.without || !a.grouping.empty()) {
        out += a.without ? " without (" : " by (";
        write_labels(out, a.grouping);
        out += ") ";
      }
      out += '(';
      if (a.param) {
        write(out, *a.param);
        out += ", ";
      }
      write(out, *a.expr);
      out += ')';
      break;
    }
    case ExprKind::kBinary: {
      const auto& b = static_cast<const BinaryExpr&>(e);
      // "+Inf ^ x" would read back as +(Inf ^ x): unary signs bind looser
      // than ^, so the infinity left of ^ is written without its sign.
      const auto* lhs_number =
          b.lhs->kind == ExprKind::kNumberLiteral ? static_cast<const NumberLiteral*>(b.lhs.get()) : nullptr;
      if (b.op == BinaryOp::kPow && lhs_number && !lhs_number->duration && std::isinf(lhs_number->value) &&
          lhs_number->value > 0) {
        out += "Inf";
      } else {
        write(out, *b.lhs);
      }
      out += ' ';
      out += binary_op_string(b.op);
      if (b.return_bool) out += " bool";
      if (b.matching) write_matching(out, *b.matching);
      out += ' ';
      write(out, *b.rhs);
      break;
    }
    case ExprKind::kUnary: {
      const auto& u = static_cast<const UnaryExpr&>(e);
      out += u.op == UnaryOp::kSub ? '-' : '+';
      write(out, *u.expr);
      break;
    }
    case ExprKind::kParen:
      out += '(';
      write(out, *static_cast<const ParenExpr&>(e).expr);
      out += ')';
      break;
    case ExprKind::kCall: {
      const auto& c = static_cast<const Call&>(e);
      out += c.func->name;
      out += '(';
      for (size_t i = 0; i < c.args.size(); ++i) {
        if (i) out += ", ";
        write(out, *c.args[i]);
      }
      out += ')';
      break;
    }
    case ExprKind::kDuration: write_duration(out, static_cast<const DurationExpr&>(e)); break;
  }
}

}  // namespace

std::string to_string(const Expr& e) {
  std::string out;
  write(out, e);
  return out;
}

namespace {

constexpr size_t kMaxLine = 100;

std::string indent(int level) { return std::string(static_cast<size_t>(level) * 2, ' '); }

bool needs_split(const Expr& e) { return to_string(e).size() > kMaxLine; }

std::string trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\n");
  size_t e = s.find_last_not_of(" \t\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::string pretty(const Expr& e, int level) {
  switch (e.kind) {
    case ExprKind::kAggregate: {
      if (!needs_split(e)) return indent(level) + to_string(e);
      const auto& a = static_cast<const AggregateExpr&>(e);
      std::string s = indent(level) + std::string(aggregate_op_string(a.op));
      if (a.without || !a.grouping.empty()) {
        s += a.without ? " without (" : " by (";
        write_labels(s, a.grouping);
        s += ") ";
      }
      s += "(\n";
      if (a.param) s += pretty(*a.param, level + 1) + ",\n";
      return s + pretty(*a.expr, level + 1) + "\n" + indent(level) + ")";
    }
    case ExprKind::kBinary: {
      if (!needs_split(e)) return indent(level) + to_string(e);
      const auto& b = static_cast<const BinaryExpr&>(e);
      std::string op(binary_op_string(b.op));
      if (b.return_bool) op += " bool";
      if (b.matching) write_matching(op, *b.matching);
      return pretty(*b.lhs, level + 1) + "\n" + indent(level) + op + "\n" + pretty(*b.rhs, level + 1);
    }
    case ExprKind::kCall: {
      if (!needs_split(e)) return indent(level) + to_string(e);
      const auto& c = static_cast<const Call&>(e);
      std::string s = indent(level) + std::string(c.func->name) + "(\n";
      for (size_t i = 0; i < c.args.size(); ++i) {
        if (i) s += ",\n";
        s += pretty(*c.args[i], level + 1);
      }
      return s + "\n" + indent(level) + ")";
    }
    case ExprKind::kParen: {
      if (!needs_split(e)) return indent(level) + to_string(e);
      return indent(level) + "(\n" + pretty(*static_cast<const ParenExpr&>(e).expr, level + 1) + "\n" +
             indent(level) + ")";
    }
    case ExprKind::kSubquery: {
      // Unsplit, a subquery is written without indentation, as upstream does.
      if (!needs_split(e)) return to_string(e);
      const auto& sq = static_cast<const SubqueryExpr&>(e);
      std::string whole = to_string(e);
      std::string suffix = whole.substr(to_string(*sq.expr).size());
      return pretty(*sq.expr, level) + suffix;
    }
    case ExprKind::kUnary: {
      const auto& u = static_cast<const UnaryExpr&>(e);
      return indent(level) + (u.op == UnaryOp::kSub ? "-" : "+") + trim(pretty(*u.expr, level));
    }
    case ExprKind::kDuration:
      return to_string(e);
    default:
      return indent(level) + to_string(e);
  }
}

}  // namespace

std::string pretty(const Expr& e) { return pretty(e, 0); }

}  // namespace vigil::promql
