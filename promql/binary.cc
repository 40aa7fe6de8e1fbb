// Binary operators: scalar/scalar, vector/scalar and vector/vector with
// one-to-one, many-to-one, one-to-many and set matching.

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include <fmt/format.h>

#include "model/names.h"
#include "promql/evaluator.h"
#include "promql/functions.h"
#include "promql/label_subset.h"

namespace vigil::promql::detail {
namespace {

bool changes_schema(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd: case BinaryOp::kSub: case BinaryOp::kMul: case BinaryOp::kDiv:
    case BinaryOp::kPow: case BinaryOp::kMod: case BinaryOp::kAtan2:
      return true;
    default:
      return false;
  }
}

// The value of `l op r` and whether a filtering operator keeps the element.
struct Outcome {
  double value;
  bool keep;
  bool incompatible;  // a histogram-only operator applied to floats
};

Outcome apply(BinaryOp op, double l, double r) {
  switch (op) {
    case BinaryOp::kAdd: return {l + r, true, false};
    case BinaryOp::kSub: return {l - r, true, false};
    case BinaryOp::kMul: return {l * r, true, false};
    case BinaryOp::kDiv: return {l / r, true, false};
    case BinaryOp::kPow: return {std::pow(l, r), true, false};
    case BinaryOp::kMod: return {std::fmod(l, r), true, false};
    case BinaryOp::kAtan2: return {std::atan2(l, r), true, false};
    case BinaryOp::kEql: return {l, l == r, false};
    case BinaryOp::kNeq: return {l, l != r, false};
    case BinaryOp::kGtr: return {l, l > r, false};
    case BinaryOp::kLss: return {l, l < r, false};
    case BinaryOp::kGte: return {l, l >= r, false};
    case BinaryOp::kLte: return {l, l <= r, false};
    case BinaryOp::kTrimUpper: case BinaryOp::kTrimLower:
      return {0, false, true};
    default:
      eval_fail(fmt::format("operator \"{}\" not allowed here", binary_op_string(op)));
  }
}

// The outcome of an operator with a native histogram on at least one side
// (upstream's rules: histogram * float, float * histogram, histogram / float,
// histogram +/- histogram, ==/!= between histograms; anything else is an
// incompatible-types info and no result).
struct HistOutcome {
  double value = 0;
  HistogramPtr h;
  bool keep = false;
  bool dropped = false;  // no result at all, even with `bool`
};

HistOutcome apply_hist(Evaluator& ev, const BinaryExpr& b, double l, const HistogramPtr& lh, double r,
                       const HistogramPtr& rh) {
  std::string_view op = binary_op_string(b.op);
  auto incompatible = [&]() {
    ev.ctx().info(fmt::format("incompatible sample types encountered for binary operator {}: {} {} {}", go_quote(op),
                              lh ? "histogram" : "float", op, rh ? "histogram" : "float"),
                  b.pos);
    return HistOutcome{0, nullptr, false, true};
  };
  auto scaled = [](const FloatHistogram& h, double f, bool div) {
    auto c = std::make_shared<FloatHistogram>(h);
    if (div) c->div(f);
    else c->mul(f);
    c->compact();
    return HistOutcome{0, std::move(c), true};
  };
  if (!lh) {
    if (b.op == BinaryOp::kMul) return scaled(*rh, l, false);
    return incompatible();
  }
  if (!rh) {
    if (b.op == BinaryOp::kMul) return scaled(*lh, r, false);
    if (b.op == BinaryOp::kDiv) return scaled(*lh, r, true);
    if (b.op == BinaryOp::kTrimUpper || b.op == BinaryOp::kTrimLower) {
      auto c = std::make_shared<FloatHistogram>(*lh);
      c->trim(r, b.op == BinaryOp::kTrimUpper);
      return HistOutcome{0, std::move(c), true};
    }
    return incompatible();
  }
  switch (b.op) {
    case BinaryOp::kAdd: case BinaryOp::kSub: {
      auto c = std::make_shared<FloatHistogram>(*lh);
      bool collision = false, reconciled = false;
      if (!c->add(*rh, b.op == BinaryOp::kSub, &collision, &reconciled)) {
        ev.ctx().warn(fmt::format("incompatible bucket layout encountered for binary operator {}", op), b.pos);
        return HistOutcome{0, nullptr, false, true};
      }
      const char* what = b.op == BinaryOp::kAdd ? "addition" : "subtraction";
      if (b.op == BinaryOp::kSub) c->hint = CounterResetHint::kGauge;
      c->compact();
      if (collision) {
        ev.ctx().warn(fmt::format("conflicting counter resets during histogram {}", what), b.pos);
        return HistOutcome{0, nullptr, false, true};
      }
      if (reconciled) ev.ctx().info(fmt::format("mismatched custom buckets were reconciled during {}", what), b.pos);
      return HistOutcome{0, std::move(c), true};
    }
    case BinaryOp::kEql: return HistOutcome{0, lh, lh->approx_equal(*rh, 0, true)};
    case BinaryOp::kNeq: return HistOutcome{0, lh, !lh->approx_equal(*rh, 0, true)};
    default: return incompatible();
  }
}

void note_incompatible(Evaluator& ev, const BinaryExpr& b) {
  std::string_view op = binary_op_string(b.op);
  ev.ctx().info(fmt::format("incompatible sample types encountered for binary operator {}: float {} float",
                            go_quote(op), op),
                b.pos);
}

Mat scalar_scalar(Evaluator& ev, const BinaryExpr& b) {
  std::vector<double> l = ev.eval_scalar_steps(*b.lhs);
  std::vector<double> r = ev.eval_scalar_steps(*b.rhs);
  const Grid& g = ev.grid();
  SeriesData out;
  for (int64_t i = 0; i < g.steps(); ++i) {
    Outcome o = apply(b.op, l[i], r[i]);
    if (o.incompatible) {
      note_incompatible(ev, b);
      continue;
    }
    out.t.push_back(g.at(i));
    out.v.push_back(is_comparison(b.op) ? (o.keep ? 1.0 : 0.0) : o.value);
  }
  ev.ctx().hold(static_cast<int64_t>(out.t.size()));
  Mat m;
  m.push_back(std::move(out));
  return m;
}

Mat vector_scalar(Evaluator& ev, const BinaryExpr& b, bool scalar_left) {
  const Expr& vec_side = scalar_left ? *b.rhs : *b.lhs;
  const Expr& scalar_side = scalar_left ? *b.lhs : *b.rhs;
  std::vector<double> sc;
  Mat m;
  if (scalar_left) {
    sc = ev.eval_scalar_steps(scalar_side);
    m = ev.eval(vec_side);
  } else {
    m = ev.eval(vec_side);
    sc = ev.eval_scalar_steps(scalar_side);
  }
  const Grid& g = ev.grid();
  const bool cmp = is_comparison(b.op);
  bool incompatible = false;
  Mat out;
  out.reserve(m.size());
  for (auto& s : m) {
    size_t w = 0;
    for (size_t k = 0; k < s.t.size(); ++k) {
      double x = s.v[k];
      double y = sc[g.index(s.t[k])];
      if (s.is_hist(k)) {
        HistOutcome o = scalar_left ? apply_hist(ev, b, y, nullptr, x, s.h[k]) : apply_hist(ev, b, x, s.h[k], y, nullptr);
        if (o.dropped) continue;
        if (cmp && o.keep) o.h = s.h[k];
        if (b.return_bool) {
          o.h = nullptr;
          o.value = o.keep ? 1.0 : 0.0;
        } else if (!o.keep) {
          continue;
        }
        s.t[w] = s.t[k];
        s.v[w] = o.h ? std::numeric_limits<double>::quiet_NaN() : o.value;
        s.h[w] = std::move(o.h);
        ++w;
        continue;
      }
      Outcome o = scalar_left ? apply(b.op, y, x) : apply(b.op, x, y);
      if (o.incompatible) {
        incompatible = true;
        continue;
      }
      double v = cmp ? x : o.value;
      if (b.return_bool) {
        v = o.keep ? 1.0 : 0.0;
      } else if (!o.keep) {
        continue;
      }
      s.t[w] = s.t[k];
      s.v[w] = v;
      if (s.has_hist()) s.h[w] = nullptr;
      ++w;
    }
    ev.ctx().release(static_cast<int64_t>(s.t.size() - w));
    s.t.resize(w);
    s.v.resize(w);
    if (s.has_hist()) {
      s.h.resize(w);
      if (std::none_of(s.h.begin(), s.h.end(), [](const HistogramPtr& h) { return h != nullptr; })) s.h.clear();
    }
    if (w == 0) continue;
    if (changes_schema(b.op) || b.return_bool) s.drop_name = true;
    out.push_back(std::move(s));
  }
  if (incompatible) note_incompatible(ev, b);
  return out;
}

// Whether a label takes part in matching: listed in on(...), or not listed in
// ignoring(...) and not __name__.
bool matched_on(LabelView l, const VectorMatching& vm) {
  bool listed = std::find(vm.matching_labels.begin(), vm.matching_labels.end(), l.name) !=
                vm.matching_labels.end();
  return vm.on ? listed : (!listed && l.name != "__name__");
}

// Labels a series is matched on.
Labels match_labels(const Labels& ls, const VectorMatching& vm) {
  return subset(ls, [&](LabelView l) { return matched_on(l, vm); });
}

struct Side {
  Mat m;
  std::vector<int> sig;  // signature ordinal per series
};

Mat set_operation(Evaluator& ev, const BinaryExpr& b, Side& lhs, Side& rhs, int num_sigs) {
  const Grid& g = ev.grid();
  OutputBuilder out(ev.ctx());
  StepCursor lc(lhs.m), rc(rhs.m);
  std::vector<char> present(num_sigs);
  for (int64_t i = 0; i < g.steps(); ++i) {
    ev.ctx().tick();
    int64_t t = g.at(i);
    const auto& lv = lc.values(t);
    const auto& rv = rc.values(t);
    std::fill(present.begin(), present.end(), 0);
    switch (b.op) {
      case BinaryOp::kAnd:
        for (const auto& it : rv) present[rhs.sig[it.series]] = 1;
        for (const auto& it : lv) {
          const auto& s = lhs.m[it.series];
          if (present[lhs.sig[it.series]]) out.add(s.labels, s.drop_name, t, it.value, it.h ? *it.h : nullptr);
        }
        break;
      case BinaryOp::kOr:
        for (const auto& it : lv) {
          const auto& s = lhs.m[it.series];
          present[lhs.sig[it.series]] = 1;
          out.add(s.labels, s.drop_name, t, it.value, it.h ? *it.h : nullptr);
        }
        for (const auto& it : rv) {
          const auto& s = rhs.m[it.series];
          if (!present[rhs.sig[it.series]]) out.add(s.labels, s.drop_name, t, it.value, it.h ? *it.h : nullptr);
        }
        break;
      default:  // unless
        for (const auto& it : rv) present[rhs.sig[it.series]] = 1;
        for (const auto& it : lv) {
          const auto& s = lhs.m[it.series];
          if (!present[lhs.sig[it.series]]) out.add(s.labels, s.drop_name, t, it.value, it.h ? *it.h : nullptr);
        }
        break;
    }
  }
  return out.take();
}

// The result labels of a matched pair: from the "many" side, trimmed for
// one-to-one matching, with group_x(...) labels copied from the "one" side.
Labels result_labels(const Labels& many, const Labels& one, const BinaryExpr& b) {
  const VectorMatching& vm = *b.matching;
  auto dropped = [&](LabelView l) {
    if ((l.name == "__name__" || l.name == "__type__" || l.name == "__unit__") && changes_schema(b.op)) return true;
    if (vm.card != Cardinality::kOneToOne) return false;
    bool listed = std::find(vm.matching_labels.begin(), vm.matching_labels.end(), l.name) !=
                  vm.matching_labels.end();
    return vm.on ? !listed : listed;
  };
  // Most results keep the "many" side's labels as they are: share them.
  bool same = std::none_of(many.begin(), many.end(), dropped);
  for (const auto& name : vm.include) same = same && one.get(name) == many.get(name);
  if (same) return many;
  LabelsBuilder lb(many);
  for (const auto& l : many) {
    if (dropped(l)) lb.del(l.name);
  }
  for (const auto& name : vm.include) lb.set(name, one.get(name));
  return lb.build();
}

Mat arithmetic(Evaluator& ev, const BinaryExpr& b, Side& lhs, Side& rhs, int num_sigs) {
  const VectorMatching& vm = *b.matching;
  const bool swapped = vm.card == Cardinality::kOneToMany;
  // After the swap, "many" is the side whose every element is looked up in
  // "one", as upstream does.
  Side& many = swapped ? rhs : lhs;
  Side& one = swapped ? lhs : rhs;
  // As upstream, fill_right always stands in for a missing "one" side and
  // fill_left for a missing "many" side, also after the swap: with
  // group_right, fill_right fills the left operand and fill_left the right.
  std::optional<double> fill_one = vm.fill_rhs;
  std::optional<double> fill_many = vm.fill_lhs;
  const Grid& g = ev.grid();
  OutputBuilder out(ev.ctx());
  StepCursor mc(many.m), oc(one.m);
  std::vector<int> one_at(num_sigs, -1);      // index into `ov` per signature
  std::vector<char> matched(num_sigs);        // one-to-one: signature used
  std::vector<std::vector<uint64_t>> inserted(vm.card == Cardinality::kOneToOne ? 0 : num_sigs);
  std::unordered_map<uint64_t, Labels> label_cache;
  bool incompatible = false;

  auto pair_labels = [&](int mi, int oi, const Labels& synthetic_many, const Labels& synthetic_one) {
    uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(mi)) << 32) | static_cast<uint32_t>(oi);
    if (mi >= 0 && oi >= 0) {
      auto it = label_cache.find(key);
      if (it != label_cache.end()) return it->second;
    }
    const Labels& ml = mi >= 0 ? many.m[mi].labels : synthetic_many;
    const Labels& ol = oi >= 0 ? one.m[oi].labels : synthetic_one;
    Labels res = result_labels(ml, ol, b);
    // Only a pair met again at a later step gains from the cache.
    if (mi >= 0 && oi >= 0 && g.steps() > 1) label_cache.emplace(key, res);
    return res;
  };

  for (int64_t i = 0; i < g.steps(); ++i) {
    ev.ctx().tick();
    int64_t t = g.at(i);
    const auto& mv = mc.values(t);
    const auto& ov = oc.values(t);
    if ((mv.empty() || ov.empty()) && !fill_one && !fill_many) continue;
    std::fill(one_at.begin(), one_at.end(), -1);
    for (size_t k = 0; k < ov.size(); ++k) {
      int sig = one.sig[ov[k].series];
      if (one_at[sig] >= 0) {
        const Labels& a = one.m[ov[k].series].labels;
        const Labels& c = one.m[ov[one_at[sig]].series].labels;
        std::string d1 = a.to_string(), d2 = c.to_string();
        if (d1 > d2) std::swap(d1, d2);
        eval_fail(fmt::format(
            "found duplicate series for the match group {} on the {} hand-side of the operation: "
            "[{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
            match_labels(a, vm).to_string(), swapped ? "left" : "right", d1, d2));
      }
      one_at[sig] = static_cast<int>(k);
    }
    std::fill(matched.begin(), matched.end(), 0);
    for (auto& v : inserted) v.clear();

    auto combine = [&](int mi, double mval, int oi, double oval, int sig, const Labels& syn_many,
                       const Labels& syn_one, const HistogramPtr* mh = nullptr, const HistogramPtr* oh = nullptr) {
      double l = swapped ? oval : mval;
      double r = swapped ? mval : oval;
      Outcome o{0, false, false};
      HistogramPtr result_h;
      if (mh || oh) {
        const HistogramPtr none;
        const HistogramPtr& lh = swapped ? (oh ? *oh : none) : (mh ? *mh : none);
        const HistogramPtr& rh = swapped ? (mh ? *mh : none) : (oh ? *oh : none);
        HistOutcome ho = apply_hist(ev, b, l, lh, r, rh);
        if (ho.dropped) return;
        o = Outcome{ho.value, ho.keep, false};
        result_h = std::move(ho.h);
      } else {
        o = apply(b.op, l, r);
      }
      if (o.incompatible) {
        incompatible = true;
        return;
      }
      Labels labels = pair_labels(mi, oi, syn_many, syn_one);
      if (vm.card == Cardinality::kOneToOne) {
        if (matched[sig]) {
          eval_fail("multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)");
        }
        matched[sig] = 1;
      } else {
        auto& seen = inserted[sig];
        uint64_t h = labels.hash();
        if (std::find(seen.begin(), seen.end(), h) != seen.end()) {
          eval_fail("multiple matches for labels: grouping labels must ensure unique matches");
        }
        seen.push_back(h);
      }
      double v = o.value;
      if (b.return_bool) {
        v = o.keep ? 1.0 : 0.0;
        result_h = nullptr;
      } else if (!o.keep) {
        return;
      }
      bool drop = b.return_bool || (mi >= 0 && many.m[mi].drop_name && !changes_schema(b.op));
      out.add(labels, drop, t, v, std::move(result_h));
    };

    for (const auto& it : mv) {
      int sig = many.sig[it.series];
      if (one_at[sig] >= 0) {
        const auto& o = ov[one_at[sig]];
        combine(static_cast<int>(it.series), it.value, static_cast<int>(o.series), o.value, sig, {}, {}, it.h, o.h);
      } else if (fill_one) {
        combine(static_cast<int>(it.series), it.value, -1, *fill_one, sig, {},
                match_labels(many.m[it.series].labels, vm), it.h, nullptr);
      }
    }
    if (fill_many) {
      for (const auto& it : ov) {
        int sig = one.sig[it.series];
        bool done = vm.card == Cardinality::kOneToOne ? matched[sig] != 0 : !inserted[sig].empty();
        if (done) continue;
        combine(-1, *fill_many, static_cast<int>(it.series), it.value, sig,
                match_labels(one.m[it.series].labels, vm), {}, nullptr, it.h);
      }
    }
  }
  if (incompatible) note_incompatible(ev, b);
  return out.take();
}

Mat vector_vector(Evaluator& ev, const BinaryExpr& b) {
  Side lhs{ev.eval(*b.lhs), {}};
  Side rhs{ev.eval(*b.rhs), {}};
  const VectorMatching& vm = *b.matching;
  // Signatures are numbered by hashing each series' matching labels in
  // place; a collision is told apart by comparing with the first series seen
  // with that signature.
  GroupTable by_hash;
  std::vector<const Labels*> first_with;  // per signature
  auto on = [&](LabelView l) { return matched_on(l, vm); };
  auto assign = [&](Side& s) {
    s.sig.reserve(s.m.size());
    for (const auto& series : s.m) {
      size_t sig = by_hash.find_or_add(subset_hash(series.labels, on), [&](size_t k) {
        return same_subset(series.labels, *first_with[k], on);
      });
      if (sig == first_with.size()) first_with.push_back(&series.labels);
      s.sig.push_back(static_cast<int>(sig));
    }
  };
  assign(lhs);
  assign(rhs);
  int n = static_cast<int>(first_with.size());
  Mat out = is_set_operator(b.op) ? set_operation(ev, b, lhs, rhs, n) : arithmetic(ev, b, lhs, rhs, n);
  ev.ctx().release(count_points(lhs.m) + count_points(rhs.m));
  return out;
}

}  // namespace

Mat eval_binary_op(Evaluator& ev, const BinaryExpr& b) {
  ValueType lt = b.lhs->type(), rt = b.rhs->type();
  if (lt == ValueType::kScalar && rt == ValueType::kScalar) return scalar_scalar(ev, b);
  if (lt == ValueType::kVector && rt == ValueType::kScalar) return vector_scalar(ev, b, false);
  if (lt == ValueType::kScalar && rt == ValueType::kVector) return vector_scalar(ev, b, true);
  if (!b.matching) eval_fail("binary operation between vectors without matching");
  return vector_vector(ev, b);
}

}  // namespace vigil::promql::detail
