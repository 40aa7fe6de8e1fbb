#include "rules/unit_test.h"

#include <glob.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <ostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <re2/re2.h>

#include "model/duration.h"
#include "model/file.h"
#include "model/go_format.h"
#include "model/names.h"
#include "model/timestamp.h"
#include "model/yaml.h"
#include "promql/parser.h"
#include "promql/series_desc.h"
#include "rules/findings.h"
#include "rules/json_diff.h"
#include "templates/escape.h"

namespace vigil::rules {
namespace {

struct ExpAlert {
  Labels labels;
  Labels annotations;
};
struct AlertTest {
  Millis eval_time = 0;
  std::string alertname;
  std::vector<ExpAlert> exp;
};
struct ExpSample {
  std::string labels;
  double value = 0;
  HistogramPtr histogram;  // `histogram:` in the series notation
};
struct ExprTest {
  std::string expr;
  Millis eval_time = 0;
  std::vector<ExpSample> exp;
};
// One input series as the series description parser reads it: the series,
// a space, its values. The input is the bulk of a test file, so it is kept
// once, and the YAML document it came from is freed before tests run.
struct InputSeries {
  std::string desc;
  size_t series_size = 0;
  std::string_view series() const { return std::string_view(desc).substr(0, series_size); }
};
struct TestGroup {
  std::string name;
  std::optional<Millis> interval;
  std::vector<InputSeries> input;
  std::vector<AlertTest> alerts;
  std::vector<ExprTest> exprs;
  Labels external_labels;
  std::string external_url;
  Millis start = 0;  // start_timestamp, Unix ms
};
struct TestFile {
  std::vector<std::string> rule_files;
  Millis evaluation_interval = kMinute;
  std::vector<std::string> group_eval_order;
  bool fuzzy_compare = false;
  std::vector<TestGroup> tests;
};

// A small strict reader over the YAML tree.
class Reader {
 public:
  Reader(const YamlDocument& doc, bool ignore_unknown) : doc_(doc), ignore_unknown_(ignore_unknown) {}

  template <typename Fn>
  void mapping(const YamlNode* n, std::string_view what, Fn&& field) {
    if (!n || n->kind == YamlNode::Kind::Null) return;
    if (n->kind != YamlNode::Kind::Mapping) fail_at(n, fmt::format("{} must be a mapping", what));
    auto kids = doc_.children(*n);
    for (size_t i = 0; i + 1 < kids.size(); i += 2) {
      std::string key(doc_.value(*kids[i]));
      if (!field(key, kids[i + 1]) && !ignore_unknown_) {
        fail_at(kids[i], fmt::format("field {} not found in {}", key, what));
      }
    }
  }
  std::vector<const YamlNode*> seq(const YamlNode* n, std::string_view what) {
    if (!n || n->kind == YamlNode::Kind::Null) return {};
    if (n->kind != YamlNode::Kind::Sequence) fail_at(n, fmt::format("{} must be a list", what));
    return doc_.children(*n);
  }
  std::string str(const YamlNode* n) { return std::string(view(n)); }
  // The scalar's text inside the document.
  std::string_view view(const YamlNode* n) {
    if (!n || n->kind == YamlNode::Kind::Null) return "";
    if (n->kind != YamlNode::Kind::Scalar) fail_at(n, "expected a string, got " + doc_.describe(*n));
    return doc_.value(*n);
  }
  Millis duration(const YamlNode* n) {
    auto d = parse_duration(str(n));
    if (!d) fail_at(n, d.error().message);
    return *d;
  }
  bool boolean(const YamlNode* n) {
    std::string s = str(n);
    for (const char* t : {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"})
      if (s == t) return true;
    for (const char* f : {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"})
      if (s == f) return false;
    fail_at(n, fmt::format("cannot unmarshal !!str `{}` into bool", s));
  }
  // promtool's start_timestamp: Unix seconds (fractions allowed) or RFC 3339.
  Millis timestamp(const YamlNode* n) {
    std::string s = str(n);
    char* end = nullptr;
    double secs = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size() && std::isfinite(secs)) {
      return static_cast<Millis>(std::llround(secs * 1000));
    }
    auto t = parse_rfc3339(s);
    if (!t) fail_at(n, fmt::format("cannot parse {} to a valid timestamp", go_quote(s)));
    return *t;
  }
  HistogramPtr histogram(const YamlNode* n) {
    auto v = promql::parse_series_values(str(n));
    if (!v) fail_at(n, "expected a native histogram like {{schema:0 count:1 sum:1 buckets:[1]}}: " + v.error().message);
    if (v->size() != 1 || !(*v)[0].histogram) {
      fail_at(n, "expected one native histogram like {{schema:0 count:1 sum:1 buckets:[1]}}, got " + doc_.describe(*n));
    }
    return (*v)[0].histogram;
  }
  double number(const YamlNode* n) {
    auto v = promql::parse_series_values(str(n));
    if (!v || v->size() != 1) fail_at(n, "expected a number, got " + doc_.describe(*n));
    return (*v)[0].value;
  }
  Labels labels(const YamlNode* n) {
    std::vector<Label> ls;
    mapping(n, "labels", [&](const std::string& k, const YamlNode* v) {
      ls.push_back({k, str(v)});
      return true;
    });
    return Labels(ls);
  }
  [[noreturn]] void fail_at(const YamlNode* n, std::string msg) {
    throw Error{std::move(msg), n ? n->line : 0, n ? n->column : 0};
  }

 private:
  const YamlDocument& doc_;
  bool ignore_unknown_;
};

TestFile read_test_file(const YamlDocument& doc, bool ignore_unknown) {
  Reader r(doc, ignore_unknown);
  TestFile f;
  r.mapping(doc.root(), "unitTestFile", [&](const std::string& k, const YamlNode* v) {
    if (k == "rule_files") {
      for (auto* x : r.seq(v, "rule_files")) f.rule_files.push_back(r.str(x));
    } else if (k == "evaluation_interval") {
      f.evaluation_interval = r.duration(v);
      if (f.evaluation_interval == 0) f.evaluation_interval = kMinute;  // 0 is unset, as in promtool
    } else if (k == "group_eval_order") {
      for (auto* x : r.seq(v, "group_eval_order")) {
        std::string name = r.str(x);
        if (std::find(f.group_eval_order.begin(), f.group_eval_order.end(), name) != f.group_eval_order.end()) {
          r.fail_at(x, "group name repeated in evaluation order: " + name);
        }
        f.group_eval_order.push_back(std::move(name));
      }
    } else if (k == "fuzzy_compare") {
      f.fuzzy_compare = r.boolean(v);
    } else if (k == "tests") {
      for (auto* t : r.seq(v, "tests")) {
        TestGroup g;
        r.mapping(t, "testGroup", [&](const std::string& tk, const YamlNode* tv) {
          if (tk == "name") {
            g.name = r.str(tv);
          } else if (tk == "interval") {
            g.interval = r.duration(tv);
          } else if (tk == "external_labels") {
            g.external_labels = r.labels(tv);
          } else if (tk == "external_url") {
            g.external_url = r.str(tv);
          } else if (tk == "start_timestamp") {
            g.start = r.timestamp(tv);
          } else if (tk == "input_series") {
            for (auto* s : r.seq(tv, "input_series")) {
              std::string_view series, values;
              r.mapping(s, "series", [&](const std::string& sk, const YamlNode* sv) {
                if (sk == "series") series = r.view(sv);
                else if (sk == "values") values = r.view(sv);
                else return false;
                return true;
              });
              InputSeries in;
              in.desc.reserve(series.size() + 1 + values.size());
              in.desc.append(series).append(" ").append(values);
              in.series_size = series.size();
              g.input.push_back(std::move(in));
            }
          } else if (tk == "alert_rule_test") {
            for (auto* a : r.seq(tv, "alert_rule_test")) {
              AlertTest at;
              r.mapping(a, "alertTestCase", [&](const std::string& ak, const YamlNode* av) {
                if (ak == "eval_time") at.eval_time = r.duration(av);
                else if (ak == "alertname") at.alertname = r.str(av);
                else if (ak == "exp_alerts") {
                  for (auto* e : r.seq(av, "exp_alerts")) {
                    ExpAlert ea;
                    r.mapping(e, "alert", [&](const std::string& ek, const YamlNode* ev) {
                      if (ek == "exp_labels") ea.labels = r.labels(ev);
                      else if (ek == "exp_annotations") ea.annotations = r.labels(ev);
                      else return false;
                      return true;
                    });
                    at.exp.push_back(std::move(ea));
                  }
                } else {
                  return false;
                }
                return true;
              });
              g.alerts.push_back(std::move(at));
            }
          } else if (tk == "promql_expr_test") {
            for (auto* e : r.seq(tv, "promql_expr_test")) {
              ExprTest et;
              r.mapping(e, "promqlTestCase", [&](const std::string& ek, const YamlNode* ev) {
                if (ek == "expr") et.expr = r.str(ev);
                else if (ek == "eval_time") et.eval_time = r.duration(ev);
                else if (ek == "exp_samples") {
                  for (auto* s : r.seq(ev, "exp_samples")) {
                    ExpSample es;
                    r.mapping(s, "sample", [&](const std::string& sk, const YamlNode* sv) {
                      if (sk == "labels") es.labels = r.str(sv);
                      else if (sk == "value") es.value = r.number(sv);
                      else if (sk == "histogram") es.histogram = r.histogram(sv);
                      else return false;
                      return true;
                    });
                    et.exp.push_back(std::move(es));
                  }
                } else {
                  return false;
                }
                return true;
              });
              g.exprs.push_back(std::move(et));
            }
          } else {
            return false;
          }
          return true;
        });
        f.tests.push_back(std::move(g));
      }
    } else {
      return false;
    }
    return true;
  });
  return f;
}

std::string indent(std::string_view text, std::string_view prefix) {
  std::string out;
  for (char c : text) {
    out += c;
    if (c == '\n') out += prefix;
  }
  return out;
}

std::string alerts_string(const std::vector<ExpAlert>& as) {
  if (as.empty()) return "[]";
  std::string s = "[";
  for (size_t i = 0; i < as.size(); ++i) {
    s += i == 0 ? "\n" : ",\n";
    s += std::to_string(i) + ":" +
         indent("\nLabels:" + as[i].labels.to_string() + "\nAnnotations:" + as[i].annotations.to_string(), "  ");
  }
  return s + "\n]";
}

// The alerts as promtool's --diff sees them: a list of objects with
// "Labels" and "Annotations", an empty list standing as one empty alert.
DiffValue alerts_tree(const std::vector<ExpAlert>& as) {
  auto labels_tree = [](const Labels& ls) {
    DiffValue::Object o;
    for (const auto& l : ls) o[std::string(l.name)] = DiffValue{std::string(l.value)};
    return DiffValue{std::move(o)};
  };
  DiffValue::Array arr;
  for (const ExpAlert& a : as) {
    arr.push_back(DiffValue{DiffValue::Object{{"Annotations", labels_tree(a.annotations)}, {"Labels", labels_tree(a.labels)}}});
  }
  if (arr.empty()) arr.push_back(DiffValue{DiffValue::Object{{"Annotations", DiffValue{DiffValue::Object{}}},
                                                             {"Labels", DiffValue{DiffValue::Object{}}}}});
  return DiffValue{std::move(arr)};
}

bool alert_less(const ExpAlert& a, const ExpAlert& b) {
  if (!(a.labels == b.labels)) return a.labels < b.labels;
  return a.annotations < b.annotations;
}

bool float_equal(double a, double b, bool fuzzy) {
  if (a == b || (std::isnan(a) && std::isnan(b))) return true;
  return fuzzy && (std::nextafter(a, -INFINITY) == b || std::nextafter(a, INFINITY) == b);
}

struct Sample {
  Labels labels;
  double value;
  HistogramPtr h = nullptr;  // a native histogram instead of the value
};

std::string samples_string(const std::vector<Sample>& ss) {
  if (ss.empty()) return "nil";
  std::string s;
  for (size_t i = 0; i < ss.size(); ++i) {
    if (i) s += ", ";
    s += ss[i].labels.to_string() + " " + (ss[i].h ? ss[i].h->to_notation() : go_format_float(ss[i].value, 'E', -1));
  }
  return s;
}

// --debug: says when a test group starts and, when it is left, how long it took.
class DebugTimer {
 public:
  DebugTimer(std::ostream& out, const std::string& name)
      : out_(out), name_(name), start_(std::chrono::steady_clock::now()) {
    out_ << "DEBUG: Starting test " << name_ << "\n";
  }
  ~DebugTimer() {
    auto took = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_);
    out_ << "DEBUG: Test " << name_ << " finished, took " << format_go_duration(took.count()) << "\n";
  }
  DebugTimer(const DebugTimer&) = delete;
  DebugTimer& operator=(const DebugTimer&) = delete;

 private:
  std::ostream& out_;
  std::string name_;
  std::chrono::steady_clock::time_point start_;
};

// --debug: every series with its samples after the start, up to the last
// eval_time rounded up to the next whole second, as promtool prints the
// range query {__name__=~".+"}[that long] at that time.
void dump_series(const storage::MemoryStore& store, Millis start, Millis max_eval, std::ostream& out) {
  const Millis range = (max_eval + kSecond) / kSecond * kSecond;
  out << "DEBUG: Dump of all data (input_series and rules) at " << format_go_duration(range * 1'000'000) << ":\n";
  std::vector<storage::SeriesRef> refs(store.num_series());
  for (size_t i = 0; i < refs.size(); ++i) refs[i] = static_cast<storage::SeriesRef>(i);
  std::sort(refs.begin(), refs.end(),
            [&](storage::SeriesRef a, storage::SeriesRef b) { return store.get(a).labels < store.get(b).labels; });
  std::string text;
  for (storage::SeriesRef ref : refs) {
    const storage::Series& s = store.get(ref);
    std::string points;
    std::vector<int64_t> ts;
    std::vector<double> vs;
    s.read(start, start + range, ts, vs);
    for (size_t k = 0; k < ts.size(); ++k) {
      if (storage::is_stale_nan(vs[k])) continue;
      points += fmt::format("\n{} @[{}]", go_format_float(vs[k], 'f', -1), ts[k]);
    }
    if (points.empty()) continue;
    if (!text.empty()) text += "\n";
    text += s.labels.to_string() + " =>" + points;
  }
  out << text << "\n";
}

// Go's strings.TrimSpace, for ASCII whitespace.
std::string_view trim_space(std::string_view s) {
  constexpr std::string_view kSpace = " \t\n\v\f\r";
  const size_t b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(kSpace) - b + 1);
}

// A loaded rule file and the name coverage knows it by.
struct LoadedRules {
  std::string key;  // canonical path
  RuleFile file;
};

// Runs one test group; returns its failures (empty: passed).
std::vector<std::string> run_group(const TestGroup& tg, const std::string& group_name, const TestFile& tf,
                                   const std::vector<LoadedRules>& files, const UnitTestOptions& opts,
                                   Coverage* coverage, std::vector<std::string>& warnings) {
  std::vector<std::string> errs;
  std::optional<DebugTimer> timer;
  if (opts.debug) timer.emplace(*opts.debug, group_name);
  // An interval of 0 is unset, as in promtool.
  Millis interval = tg.interval.value_or(0) > 0 ? *tg.interval : tf.evaluation_interval;
  const Millis start = tg.start;
  storage::MemoryStore store(16);  // instant queries at every evaluation: cheap seeks
  // promtool's loader keeps one definition per label set, the last one
  // written (it stores series by their labels' hash): a series listed twice
  // is replaced, not extended.
  // The loader also reads the definitions line by line: a newline inside
  // `values` starts another definition, and a blank or '#' line (a block
  // scalar's final newline makes one) ends the input there.
  std::vector<promql::SeriesDesc> defs;
  std::map<Labels, size_t> def_of;
  bool ended = false;
  for (size_t n = 0; n < tg.input.size() && !ended; ++n) {
    const InputSeries& in = tg.input[n];
    std::string_view rest = in.desc;
    for (bool first = true; !ended; first = false) {
      const size_t nl = rest.find('\n');
      std::string_view line = trim_space(rest.substr(0, nl));
      if (line.empty() || line.front() == '#') {
        ended = true;
        if (n + 1 < tg.input.size() || nl != std::string_view::npos) {
          warnings.push_back(fmt::format(
              "  WARNING: input_series of test group {}: the values of series {} hold a blank or comment line, so the "
              "definitions after it are not loaded (as in promtool)",
              group_name, go_quote(in.series())));
        }
        break;
      }
      auto d = promql::parse_series_desc(line);
      if (!d) {
        errs.push_back(fmt::format("    series {}: {}", go_quote(first ? in.series() : line), d.error().message));
        return errs;
      }
      auto [it, added] = def_of.try_emplace(d->labels, defs.size());
      if (added) defs.push_back(std::move(*d));
      else defs[it->second] = std::move(*d);
      if (nl == std::string_view::npos) break;
      rest.remove_prefix(nl + 1);
    }
  }
  def_of.clear();
  for (const auto& d : defs) {
    storage::SeriesRef ref = store.series(d.labels);
    for (size_t i = 0; i < d.values.size(); ++i) {
      if (d.values[i].omitted) continue;
      const int64_t t = start + static_cast<int64_t>(i) * interval;
      const auto& h = d.values[i].histogram;
      if (h) {
        if (std::string why = h->validate(); !why.empty()) {
          errs.push_back(fmt::format("    series {}: invalid histogram: {}", go_quote(d.labels.to_string()), why));
          return errs;
        }
      }
      auto r = h ? store.append_histogram(ref, t, h) : store.append(ref, t, d.values[i].value);
      if (!r) {
        errs.push_back(fmt::format("    series {}: {}", go_quote(d.labels.to_string()), r.error().message));
        return errs;
      }
    }
  }
  defs.clear();
  // The input is loaded: drop the spare capacity the sample arrays grew.
  store.compact();
  promql::EngineOptions eopts;
  eopts.default_subquery_step = tf.evaluation_interval;
  eopts.left_closed_windows = opts.left_closed_windows;
  // promtool's test engine holds at most 10000 samples per query.
  eopts.max_samples = 10'000;
  QueryFn query = engine_query(store, eopts);
  EvalSettings settings;
  settings.external_labels = tg.external_labels;
  settings.external_url = tg.external_url;

  // Groups run in group_eval_order; groups it does not name rank with its
  // first entry, as promtool ranks them.
  struct Group {
    const LoadedRules* file;
    size_t index;
    GroupEvaluator eval;
  };
  struct Ranked {
    size_t rank;
    const LoadedRules* file;
    size_t index;
  };
  std::vector<Ranked> ordered;
  const auto& order = tf.group_eval_order;
  for (const auto& f : files) {
    for (size_t gi = 0; gi < f.file.groups.size(); ++gi) {
      auto it = std::find(order.begin(), order.end(), f.file.groups[gi].name);
      ordered.push_back({it == order.end() ? 0 : static_cast<size_t>(it - order.begin()), &f, gi});
    }
  }
  std::stable_sort(ordered.begin(), ordered.end(), [](const Ranked& a, const Ranked& b) { return a.rank < b.rank; });
  std::vector<Group> groups;
  groups.reserve(ordered.size());
  for (const Ranked& r : ordered) {
    groups.push_back(Group{r.file, r.index, GroupEvaluator(r.file->file.groups[r.index], settings)});
  }

  Millis max_eval = 0;
  for (const auto& a : tg.alerts) max_eval = std::max(max_eval, a.eval_time);
  for (const auto& e : tg.exprs) max_eval = std::max(max_eval, e.eval_time);
  std::vector<const AlertTest*> alert_tests;
  for (const auto& a : tg.alerts) {
    if (a.alertname.empty()) {
      std::string where = tg.name.empty() ? "" : fmt::format(" (in TestGroup {})", tg.name);
      errs.push_back(fmt::format("an item under alert_rule_test misses required attribute alertname at eval_time {}{}",
                                 format_duration(a.eval_time), where));
      return errs;
    }
    alert_tests.push_back(&a);
  }
  std::stable_sort(alert_tests.begin(), alert_tests.end(),
                   [](const AlertTest* a, const AlertTest* b) { return a->eval_time < b->eval_time; });
  std::string test_name = tg.name.empty() ? "" : fmt::format("    name: {},\n", tg.name);

  auto record_coverage = [&](const Group& g) {
    const RuleGroup& rg = g.eval.group();
    for (size_t i = 0; i < rg.rules.size(); ++i) {
      Coverage::RuleUse& use = coverage->rule(g.file->key, g.index, i);
      if (const AlertingRule* ar = g.eval.alerting(i)) {
        for (const Alert* a : ar->alerts()) {
          use.pending = use.pending || a->state != AlertState::kInactive;
          use.fired = use.fired || a->state == AlertState::kFiring;
        }
      } else if (g.eval.health()[i].ok && g.eval.health()[i].samples > 0) {
        use.produced = true;
      }
    }
  };

  size_t next = 0;
  for (Millis rel = 0; rel <= max_eval; rel += tf.evaluation_interval) {
    const int64_t ts = start + rel;
    std::vector<std::string> eval_errs;
    for (auto& g : groups) {
      g.eval.eval(ts, store, query);
      const auto& health = g.eval.health();
      for (size_t i = 0; i < health.size(); ++i) {
        if (!health[i].ok) {
          eval_errs.push_back(fmt::format("    rule: {}, time: {}, err: {}", g.eval.group().rules[i].name,
                                          format_go_duration(ts * 1'000'000), health[i].last_error));
        }
      }
      if (coverage) record_coverage(g);
    }
    if (!eval_errs.empty()) {
      errs.insert(errs.end(), eval_errs.begin(), eval_errs.end());
      return errs;
    }
    for (; next < alert_tests.size() && alert_tests[next]->eval_time >= rel &&
           alert_tests[next]->eval_time < rel + tf.evaluation_interval;
         ++next) {
      const AlertTest& at = *alert_tests[next];
      std::vector<ExpAlert> got;
      for (const auto& g : groups) {
        const RuleGroup& rg = g.eval.group();
        for (size_t i = 0; i < rg.rules.size(); ++i) {
          const AlertingRule* ar = g.eval.alerting(i);
          if (!ar || ar->rule().name != at.alertname) continue;
          if (coverage) coverage->rule(g.file->key, g.index, i).asserted = true;
          for (const Alert* a : ar->alerts()) {
            if (a->state == AlertState::kFiring) got.push_back({a->labels, a->annotations});
          }
        }
      }
      std::vector<ExpAlert> exp;
      for (const auto& e : at.exp) exp.push_back({LabelsBuilder(e.labels).set("alertname", at.alertname).build(), e.annotations});
      std::sort(got.begin(), got.end(), alert_less);
      std::sort(exp.begin(), exp.end(), alert_less);
      bool same = got.size() == exp.size() &&
                  std::equal(got.begin(), got.end(), exp.begin(), [](const ExpAlert& a, const ExpAlert& b) {
                    return a.labels == b.labels && a.annotations == b.annotations;
                  });
      if (!same && opts.diff) {
        DiffResult d = json_diff(alerts_tree(exp), alerts_tree(got));
        if (!d.equal) {
          errs.push_back(fmt::format("{}    alertname: {}, time: {}, \n        diff: {}", test_name, at.alertname,
                                     format_duration(at.eval_time), indent(d.text, "            ")));
        }
      } else if (!same) {
        errs.push_back(fmt::format("{}    alertname: {}, time: {}, \n        exp:{}, \n        got:{}", test_name,
                                   at.alertname, format_duration(at.eval_time),
                                   indent(alerts_string(exp), "            "), indent(alerts_string(got), "            ")));
      }
    }
  }

  for (const auto& et : tg.exprs) {
    auto expr = promql::parse_expr(et.expr, opts.promql);
    std::vector<Sample> got;
    if (!expr) {
      errs.push_back(fmt::format("    expr: {}, time: {}, err: {}", go_quote(et.expr), format_duration(et.eval_time),
                                 promql::format_parse_error(expr.error())));
      continue;
    }
    auto res = query(**expr, start + et.eval_time);
    if (!res) {
      errs.push_back(fmt::format("    expr: {}, time: {}, err: {}", go_quote(et.expr), format_duration(et.eval_time),
                                 res.error().message));
      continue;
    }
    for (auto& s : *res) got.push_back({std::move(s.labels), s.value, std::move(s.h)});
    std::vector<Sample> exp;
    bool bad = false;
    for (const auto& es : et.exp) {
      Labels ls;
      if (!es.labels.empty()) {
        auto d = promql::parse_series_desc(es.labels);
        if (!d) {
          errs.push_back(fmt::format("    expr: {}, time: {}, err: labels {}: {}", go_quote(et.expr),
                                     format_duration(et.eval_time), go_quote(es.labels), d.error().message));
          bad = true;
          break;
        }
        ls = d->labels;
      }
      exp.push_back({std::move(ls), es.value, es.histogram});
    }
    if (bad) continue;
    auto by_labels = [](const Sample& a, const Sample& b) { return a.labels < b.labels; };
    std::stable_sort(got.begin(), got.end(), by_labels);
    std::stable_sort(exp.begin(), exp.end(), by_labels);
    bool same = got.size() == exp.size() &&
                std::equal(got.begin(), got.end(), exp.begin(), [&](const Sample& a, const Sample& b) {
                  if (a.labels != b.labels || !a.h != !b.h) return false;
                  if (a.h) return a.h->approx_equal(*b.h, tf.fuzzy_compare ? 1e-15 : 0, true);
                  return float_equal(a.value, b.value, tf.fuzzy_compare);
                });
    if (!same) {
      errs.push_back(fmt::format("    expr: {}, time: {},\n        exp: {}\n        got: {}", go_quote(et.expr),
                                 format_duration(et.eval_time), samples_string(exp), samples_string(got)));
    }
  }
  if (opts.debug) dump_series(store, start, max_eval, *opts.debug);
  return errs;
}

std::vector<std::string> expand_rule_files(const std::string& test_path, const std::vector<std::string>& patterns,
                                           std::vector<std::string>& warnings) {
  std::vector<std::string> files;
  std::filesystem::path base = std::filesystem::path(test_path).parent_path();
  for (const auto& p : patterns) {
    std::string full = std::filesystem::path(p).is_absolute() ? p : (base / p).string();
    glob_t g{};
    int rc = ::glob(full.c_str(), 0, nullptr, &g);
    if (rc != 0 || g.gl_pathc == 0) {
      warnings.push_back("  WARNING: no file match pattern " + full);
    } else {
      for (size_t i = 0; i < g.gl_pathc; ++i) files.emplace_back(g.gl_pathv[i]);
    }
    ::globfree(&g);
  }
  return files;
}

}  // namespace

bool TestFileResult::ok() const {
  if (!abort_error.empty()) return false;
  return std::all_of(groups.begin(), groups.end(), [](const TestGroupResult& g) { return g.failures.empty(); });
}

Coverage::RuleUse& Coverage::rule(const std::string& file, size_t group, size_t index) {
  return rules_[{file, group, index}];
}

void Coverage::print(std::ostream& out) const {
  size_t alerting = 0, fired = 0, asserted = 0, recording = 0, produced = 0;
  std::vector<const RuleUse*> not_fired, not_produced;
  for (const auto& [key, r] : rules_) {
    if (r.alerting) {
      ++alerting;
      if (r.fired) ++fired;
      else not_fired.push_back(&r);
      if (r.asserted) ++asserted;
    } else {
      ++recording;
      if (r.produced) ++produced;
      else not_produced.push_back(&r);
    }
  }
  out << "Coverage:\n";
  out << fmt::format("  alerting rules: {} of {} fired in a test ({} named by an alert_rule_test)\n", fired, alerting,
                     asserted);
  for (const RuleUse* r : not_fired) {
    out << fmt::format("    never fired: {} ({}:{}, group {}){}\n", r->name, r->file, r->line, r->group,
                       r->pending ? ", went pending only" : "");
  }
  if (recording == 0) {
    out << "  recording rules: none\n";
    return;
  }
  out << fmt::format("  recording rules: {} of {} produced a sample in a test\n", produced, recording);
  for (const RuleUse* r : not_produced) {
    out << fmt::format("    never produced a sample: {} ({}:{}, group {})\n", r->name, r->file, r->line, r->group);
  }
}

double Coverage::percent() const {
  size_t covered = 0;
  for (const auto& [key, r] : rules_) covered += (r.alerting ? r.fired : r.produced) ? 1 : 0;
  return rules_.empty() ? 100.0 : 100.0 * static_cast<double>(covered) / static_cast<double>(rules_.size());
}

std::string Coverage::json() const {
  size_t alerting = 0, fired = 0, asserted = 0, recording = 0, produced = 0;
  auto rules = nlohmann::json::array();
  for (const auto& [key, r] : rules_) {
    nlohmann::json j = {{"file", r.file}, {"line", r.line}, {"group", r.group}, {"name", r.name},
                        {"type", r.alerting ? "alerting" : "recording"}};
    if (r.alerting) {
      ++alerting;
      fired += r.fired;
      asserted += r.asserted;
      j["fired"] = r.fired;
      j["pending"] = r.pending;
      j["asserted"] = r.asserted;
      j["covered"] = r.fired;
    } else {
      ++recording;
      produced += r.produced;
      j["produced"] = r.produced;
      j["covered"] = r.produced;
    }
    rules.push_back(std::move(j));
  }
  nlohmann::json out = {{"percent", percent()},
                        {"alerting", {{"total", alerting}, {"fired", fired}, {"asserted", asserted}}},
                        {"recording", {{"total", recording}, {"produced", produced}}},
                        {"rules", std::move(rules)}};
  return out.dump(2) + "\n";
}

std::vector<Finding> unit_test_findings(const std::vector<TestFileResult>& results) {
  std::vector<Finding> out;
  for (const auto& r : results) {
    if (!r.abort_error.empty()) {
      out.push_back({r.path, 0, 0, "test/error", Severity::kBug, r.abort_error});
      continue;
    }
    for (const auto& g : r.groups) {
      for (const auto& f : g.failures) {
        std::string_view text = f;
        text.remove_prefix(std::min(text.find_first_not_of(' '), text.size()));
        out.push_back({r.path, 0, 0, "test/failed", Severity::kBug,
                       fmt::format("test group {}: {}", g.name, text)});
      }
    }
  }
  return out;
}

TestFileResult run_unit_test_file(const std::string& path, const UnitTestOptions& opts, Coverage* coverage) {
  TestFileResult result;
  result.path = path;
  std::optional<YamlDocument> doc;
  {
    // The text is not needed once parsed (the document keeps its scalars).
    auto text = read_file(path);
    if (!text) {
      result.abort_error = text.error().message;
      return result;
    }
    auto parsed = parse_yaml(*text);
    if (!parsed) {
      result.abort_error =
          fmt::format("{}:{}:{}: {}", path, parsed.error().line, parsed.error().column, parsed.error().message);
      return result;
    }
    doc = std::move(*parsed);
  }
  TestFile tf;
  try {
    tf = read_test_file(*doc, opts.ignore_unknown_fields);
  } catch (const Error& e) {
    result.abort_error = fmt::format("{}:{}:{}: {}", path, e.line, e.column, e.message);
    return result;
  }
  doc.reset();  // everything needed was copied out
  std::vector<LoadedRules> rule_files;
  std::string load_errors;
  for (const auto& f : expand_rule_files(path, tf.rule_files, result.warnings)) {
    LoadOptions lo;
    lo.ignore_unknown_fields = opts.ignore_unknown_fields;
    lo.promql = opts.promql;
    auto loaded = load_rule_file(f, lo);
    for (const auto& e : loaded.errors) {
      load_errors += fmt::format("{}    {}: {}", load_errors.empty() ? "" : "\n", f, e.text);
    }
    std::error_code ec;
    auto canonical = std::filesystem::weakly_canonical(f, ec);
    rule_files.push_back({ec ? f : canonical.string(), std::move(loaded.file)});
  }
  if (coverage) {
    for (const auto& f : rule_files) {
      for (size_t gi = 0; gi < f.file.groups.size(); ++gi) {
        const RuleGroup& g = f.file.groups[gi];
        for (size_t ri = 0; ri < g.rules.size(); ++ri) {
          Coverage::RuleUse& use = coverage->rule(f.key, gi, ri);
          use.file = f.key;
          use.group = g.name;
          use.name = g.rules[ri].name;
          use.line = g.rules[ri].position.line;
          use.alerting = g.rules[ri].is_alert();
        }
      }
    }
  }

  for (size_t i = 0; i < tf.tests.size(); ++i) {
    const TestGroup& tg = tf.tests[i];
    if (!opts.run.empty()) {
      bool selected = std::any_of(opts.run.begin(), opts.run.end(),
                                  [&](const std::string& re) { return RE2::PartialMatch(tg.name, re); });
      if (!selected) continue;
    }
    TestGroupResult gr;
    gr.name = tg.name.empty() ? fmt::format("unnamed#{}", i) : tg.name;
    if (!load_errors.empty()) {
      gr.failures.push_back(load_errors);
    } else {
      gr.failures = run_group(tg, gr.name, tf, rule_files, opts, coverage, result.warnings);
    }
    result.groups.push_back(std::move(gr));
  }
  return result;
}

void enable_unit_test_features(std::string_view features, UnitTestOptions& opts, std::ostream& out) {
  size_t start = 0;
  while (start <= features.size()) {
    size_t comma = features.find(',', start);
    if (comma == std::string_view::npos) comma = features.size();
    std::string_view f = features.substr(start, comma - start);
    start = comma + 1;
    if (f.empty() || f == "promql-delayed-name-removal") continue;
    if (f == "promql-experimental-functions") opts.promql.experimental_functions = true;
    else out << "  WARNING: Unknown feature passed to --enable-feature: " << f << "\n";
  }
}

void print_unit_test_result(const TestFileResult& r, std::ostream& out, std::ostream& err) {
  for (const auto& w : r.warnings) err << w << "\n";
  if (r.ok()) {
    out << "  SUCCESS\n\n";
    return;
  }
  // promtool writes the failures to stderr and the blank line after each to stdout.
  err << "  FAILED:\n";
  auto failure = [&](const std::string& text) {
    err << text << "\n";
    err.flush();
    out << "\n";
    out.flush();
  };
  if (!r.abort_error.empty()) failure(r.abort_error);
  for (const auto& g : r.groups) {
    for (const auto& f : g.failures) failure(f);
  }
  out << "\n";
}

std::string junit_xml(const std::vector<TestFileResult>& results, const std::string& timestamp) {
  std::string out = "<testsuites>";
  for (const auto& r : results) {
    size_t failures = 0;
    for (const auto& g : r.groups) failures += g.failures.size();
    bool aborted = !r.abort_error.empty();
    out += fmt::format(R"(<testsuite name="{}" tests="{}" failures="{}" errors="{}" skipped="0" timestamp="{}">)",
                       templates::xml_escape(r.path), r.groups.size() + (aborted && r.groups.empty() ? 1 : 0), failures,
                       aborted ? 1 : 0, aborted ? "" : templates::xml_escape(timestamp));
    if (aborted && r.groups.empty()) {
      out += R"(<testcase name="unknown"><error>)" + templates::xml_escape(r.abort_error) + "</error></testcase>";
    }
    for (const auto& g : r.groups) {
      out += "<testcase name=\"" + templates::xml_escape(g.name) + "\">";
      for (const auto& f : g.failures) out += "<failure>" + templates::xml_escape(f) + "</failure>";
      out += "</testcase>";
    }
    out += "</testsuite>";
  }
  return out + "</testsuites>";
}

}  // namespace vigil::rules
