#include "rules/rule_file.h"


#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "model/file.h"
#include "model/names.h"
#include "templates/prometheus.h"
#include "model/yaml.h"

namespace vigil::rules {

size_t RuleFile::rule_count() const {
  size_t n = 0;
  for (const auto& g : groups) n += g.rules.size();
  return n;
}

namespace {

using Kind = YamlNode::Kind;

// Go's yaml names these types in its messages; promtool users know them.
constexpr std::string_view kGroupsType = "rulefmt.RuleGroups";
constexpr std::string_view kGroupListType = "[]rulefmt.RuleGroup";
constexpr std::string_view kGroupType = "rulefmt.RuleGroup";
constexpr std::string_view kRuleListType = "[]rulefmt.Rule";
constexpr std::string_view kRuleType = "rulefmt.Rule";
constexpr std::string_view kMapType = "map[string]string";

// Nested `<<` merges deeper than this are cut off (they can form cycles).
constexpr int kMaxMergeDepth = 16;

Position pos_of(const YamlNode& n) { return {n.line, n.column}; }

struct Entry {
  std::string_view key;
  const YamlNode* key_node;
  const YamlNode* value;
};

// Turns the YAML tree into RuleFile, recording every structural problem.
class Decoder {
 public:
  Decoder(const YamlDocument& doc, const LoadOptions& opts, std::vector<LoadError>& errors)
      : doc_(doc), opts_(opts), errors_(errors), budget_(4 * doc.node_count() + 10000) {}

  RuleFile decode_file(const YamlNode* root) {
    RuleFile file;
    if (root == nullptr || root->kind == Kind::Null) return file;
    if (!expect(*root, Kind::Mapping, kGroupsType)) return file;
    for (const Entry& e : entries(*root, kGroupsType)) {
      if (e.key == "groups") {
        decode_groups(*e.value, file);
      } else {
        unknown_field(e, kGroupsType);
      }
    }
    return file;
  }

  // Which optional fields were written, for validations that care about
  // presence rather than value.
  struct RuleNodes {
    std::string record_name, alert_name;  // both as written; the model keeps one
    const YamlNode* record = nullptr;
    const YamlNode* alert = nullptr;
    const YamlNode* expr = nullptr;
    std::vector<const YamlNode*> label_keys, label_values;
    std::vector<const YamlNode*> annotation_keys, annotation_values;
  };
  struct GroupNodes {
    std::vector<const YamlNode*> label_keys, label_values;
    std::vector<RuleNodes> rules;
  };
  std::vector<GroupNodes> group_nodes;  // parallel to RuleFile::groups

 private:
  // Aliases let a small file stand for a huge one ("billion laughs"): stop
  // once decoding has visited far more nodes than the file holds, as Go's
  // yaml does.
  bool over_budget(const YamlNode& at) {
    if (budget_ > 0) {
      --budget_;
      return false;
    }
    if (!exhausted_) structure(at, "document contains excessive aliasing");
    exhausted_ = true;
    return true;
  }

  void structure(const YamlNode& at, std::string msg) {
    errors_.push_back({LoadError::Kind::Structure,
                       fmt::format("line {}, column {}: {}", at.line, at.column, msg), at.line,
                       at.column});
  }

  bool expect(const YamlNode& n, Kind kind, std::string_view type) {
    if (n.kind == kind) return true;
    if (n.kind != Kind::Null) {
      structure(n, fmt::format("cannot unmarshal {} into {}", doc_.describe(n), type));
    }
    return false;
  }

  void unknown_field(const Entry& e, std::string_view type) {
    if (opts_.ignore_unknown_fields) return;
    structure(*e.key_node, fmt::format("field {} not found in type {}", e.key, type));
  }

  // A mapping's entries in file order, with `<<` merge keys expanded (explicit
  // keys win, then earlier merged maps) and repeated keys reported.
  std::vector<Entry> entries(const YamlNode& map, std::string_view type) {
    std::vector<Entry> out;
    std::unordered_map<std::string_view, int> seen;  // key -> line
    collect(map, type, out, seen, 0);
    return out;
  }

  void collect(const YamlNode& map, std::string_view type, std::vector<Entry>& out,
               std::unordered_map<std::string_view, int>& seen, int depth) {
    std::vector<const YamlNode*> merges;
    const auto c = doc_.children(map);
    for (size_t i = 0; i + 1 < c.size(); i += 2) {
      const YamlNode& k = *c[i];
      const YamlNode& v = *c[i + 1];
      std::string_view key = k.kind == Kind::Scalar ? doc_.value(k) : "";
      if (key == "<<" && !k.quoted) {
        merges.push_back(&v);
        continue;
      }
      if (depth == 0) {
        auto [it, fresh] = seen.emplace(key, k.line);
        if (!fresh) {
          structure(k, fmt::format("mapping key \"{}\" already defined at line {}", key,
                                   it->second));
          continue;
        }
      } else if (!seen.emplace(key, k.line).second) {
        continue;  // an explicit key overrides the merged one
      }
      out.push_back({key, &k, &v});
    }
    for (const YamlNode* m : merges) {
      if (depth >= kMaxMergeDepth) {
        structure(*m, "merge keys nested too deeply");
        return;
      }
      if (m->kind == Kind::Mapping) {
        collect(*m, type, out, seen, depth + 1);
      } else if (m->kind == Kind::Sequence) {
        for (const YamlNode* child : doc_.children(*m)) {
          const YamlNode& item = *child;
          if (item.kind == Kind::Mapping) collect(item, type, out, seen, depth + 1);
          else structure(item, "map merge requires map or sequence of maps as the value");
        }
      } else {
        structure(*m, "map merge requires map or sequence of maps as the value");
      }
    }
  }

  std::string decode_string(const YamlNode& n) {
    if (n.kind == Kind::Scalar) return std::string(doc_.value(n));
    expect(n, Kind::Scalar, "string");
    return "";
  }

  // Go's yaml accepts integers written in any base and integral floats.
  int64_t decode_int(const YamlNode& n) {
    if (n.kind == Kind::Null) return 0;
    std::string tag = doc_.resolved_tag(n);
    if (n.kind == Kind::Scalar && tag == "!!int") {
      if (auto i = yaml_int(doc_.value(n))) return *i;
    } else if (n.kind == Kind::Scalar && tag == "!!float") {
      double d = std::strtod(std::string(doc_.value(n)).c_str(), nullptr);
      if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9.2e18)
        return static_cast<int64_t>(d);
    }
    structure(n, fmt::format("cannot unmarshal {} into int", doc_.describe(n)));
    return 0;
  }

  // nullopt when absent, null or invalid (the error is recorded).
  std::optional<Millis> decode_duration(const YamlNode& n) {
    if (n.kind == Kind::Null) return std::nullopt;
    if (!expect(n, Kind::Scalar, "string")) return std::nullopt;
    auto d = parse_duration(doc_.value(n));
    if (!d) {
      structure(n, d.error().message);
      return std::nullopt;
    }
    return *d;
  }

  std::vector<Label> decode_map(const YamlNode& n, std::vector<const YamlNode*>* keys,
                                std::vector<const YamlNode*>* values) {
    std::vector<Label> out;
    if (!expect(n, Kind::Mapping, kMapType)) return out;
    for (const Entry& e : entries(n, kMapType)) {
      if (over_budget(*e.value)) break;
      if (e.key_node->kind != Kind::Scalar) {
        structure(*e.key_node,
                  fmt::format("cannot unmarshal {} into string", doc_.describe(*e.key_node)));
        continue;
      }
      out.push_back({std::string(e.key), decode_string(*e.value)});
      keys->push_back(e.key_node);
      values->push_back(e.value);
    }
    return out;
  }

  void decode_groups(const YamlNode& n, RuleFile& file) {
    if (!expect(n, Kind::Sequence, kGroupListType)) return;
    for (const YamlNode* child : doc_.children(n)) {
      if (over_budget(*child)) break;
      const YamlNode& g = *child;
      RuleGroup group;
      group.position = pos_of(g);
      group_nodes.emplace_back();
      if (expect(g, Kind::Mapping, kGroupType)) decode_group(g, group);
      file.groups.push_back(std::move(group));
    }
  }

  void decode_group(const YamlNode& g, RuleGroup& group) {
    for (const Entry& e : entries(g, kGroupType)) {
      const YamlNode& v = *e.value;
      if (e.key == "name") {
        group.name = decode_string(v);
      } else if (e.key == "interval") {
        auto d = decode_duration(v);
        if (d && *d != 0) group.interval = d;  // 0 means "the global interval", as upstream
      } else if (e.key == "query_offset") {
        group.query_offset = decode_duration(v);
      } else if (e.key == "limit") {
        group.limit = decode_int(v);
      } else if (e.key == "labels") {
        GroupNodes& gn = group_nodes.back();
        group.labels = decode_map(v, &gn.label_keys, &gn.label_values);
      } else if (e.key == "rules") {
        decode_rules(v, group);
      } else {
        unknown_field(e, kGroupType);
      }
    }
  }

  void decode_rules(const YamlNode& n, RuleGroup& group) {
    if (!expect(n, Kind::Sequence, kRuleListType)) return;
    for (const YamlNode* child : doc_.children(n)) {
      if (over_budget(*child)) break;
      const YamlNode& r = *child;
      Rule rule;
      rule.position = pos_of(r);
      RuleNodes nodes;
      if (expect(r, Kind::Mapping, kRuleType)) decode_rule(r, rule, nodes);
      group.rules.push_back(std::move(rule));
      group_nodes.back().rules.push_back(std::move(nodes));
    }
  }

  void decode_rule(const YamlNode& r, Rule& rule, RuleNodes& nodes) {
    std::string& record = nodes.record_name;
    std::string& alert = nodes.alert_name;
    for (const Entry& e : entries(r, kRuleType)) {
      const YamlNode& v = *e.value;
      if (e.key == "record") {
        record = decode_string(v);
        nodes.record = &v;
      } else if (e.key == "alert") {
        alert = decode_string(v);
        nodes.alert = &v;
      } else if (e.key == "expr") {
        rule.expr = decode_string(v);
        rule.expr_position = pos_of(v);
        nodes.expr = &v;
      } else if (e.key == "for") {
        rule.for_duration = decode_duration(v).value_or(0);
      } else if (e.key == "keep_firing_for") {
        rule.keep_firing_for = decode_duration(v).value_or(0);
      } else if (e.key == "labels") {
        rule.labels = decode_map(v, &nodes.label_keys, &nodes.label_values);
        for (const YamlNode* k : nodes.label_keys) rule.label_positions.push_back(pos_of(*k));
      } else if (e.key == "annotations") {
        rule.annotations = decode_map(v, &nodes.annotation_keys, &nodes.annotation_values);
        for (const YamlNode* k : nodes.annotation_keys) rule.annotation_positions.push_back(pos_of(*k));
      } else {
        unknown_field(e, kRuleType);
      }
    }
    // Keep both names for validation; the model holds the one that counts.
    rule.kind = alert.empty() ? Rule::Kind::Recording : Rule::Kind::Alerting;
    rule.name = alert.empty() ? record : alert;
  }

  const YamlDocument& doc_;
  const LoadOptions& opts_;
  std::vector<LoadError>& errors_;
  size_t budget_;
  bool exhausted_ = false;
};

// promtool's semantic checks (upstream rulefmt's Validate), with positions
// added where promtool has none.
class Validator {
 public:
  Validator(const LoadOptions& opts, Decoder& d, std::vector<LoadError>& errors)
      : opts_(opts), d_(d), errors_(errors) {}

  void validate(RuleFile& file) {
    std::set<std::string_view> names;
    for (size_t gi = 0; gi < file.groups.size(); ++gi) {
      RuleGroup& g = file.groups[gi];
      Position gp = g.position;
      if (g.name.empty()) invalid(gp, "Groupname must not be empty");
      if (!names.insert(g.name).second) {
        invalid(gp, fmt::format("groupname: \"{}\" is repeated in the same file", g.name));
      }
      const Decoder::GroupNodes& gn = d_.group_nodes[gi];
      for (size_t li = 0; li < g.labels.size(); ++li) {
        check_label(g.labels[li], pos_of(*gn.label_keys[li]),
                    [&](Position p, std::string_view msg) { invalid(p, std::string(msg)); });
      }
      for (size_t ri = 0; ri < g.rules.size(); ++ri) validate_rule(g, ri, gn.rules[ri]);
    }
  }

 private:
  void invalid(Position p, std::string msg) {
    errors_.push_back({LoadError::Kind::Invalid,
                       p.line ? fmt::format("{}:{}: {}", p.line, p.column, msg) : msg, p.line,
                       p.column});
  }

  template <typename Report>
  static void check_label(const Label& l, Position at, Report report) {
    if (!is_valid_label_name(l.name) || l.name == kMetricNameLabel)
      report(at, "invalid label name: " + l.name);
    if (!is_valid_utf8(l.value)) report(at, "invalid label value: " + l.value);
  }

  void validate_rule(RuleGroup& g, size_t ri, const Decoder::RuleNodes& n) {
    Rule& rule = g.rules[ri];
    const std::string& record = n.record_name;
    const std::string& alert = n.alert_name;
    const std::string prefix = fmt::format("group {}, rule {}, {}: ", go_quote(g.name), ri + 1,
                                           go_quote(rule.name));
    auto report = [&](Position p, std::string_view msg) {
      invalid(p, prefix + std::string(msg));
    };
    // promtool names both the record and alert positions for these two.
    auto report_both = [&](std::string_view msg) {
      if (n.record == nullptr && n.alert == nullptr) return report(rule.position, msg);
      Position a = n.record ? pos_of(*n.record) : rule.position;
      Position b = n.alert ? pos_of(*n.alert) : rule.position;
      errors_.push_back({LoadError::Kind::Invalid,
                         fmt::format("{}:{}: {}:{}: {}{}", a.line, a.column, b.line, b.column,
                                     prefix, msg),
                         a.line, a.column});
    };
    if (!record.empty() && !alert.empty()) report_both("only one of 'record' and 'alert' must be set");
    if (record.empty() && alert.empty()) report_both("one of 'record' or 'alert' must be set");

    Position expr_at = n.expr ? pos_of(*n.expr) : rule.position;
    if (rule.expr.empty()) {
      report(expr_at, "field 'expr' must be set in rule");
    } else if (auto parsed = promql::parse_expr(rule.expr, opts_.promql); !parsed) {
      report(expr_at, "could not parse expression: " + promql::format_parse_error(parsed.error()));
    } else {
      rule.parsed = std::shared_ptr<const promql::Expr>(std::move(*parsed));
    }

    if (!record.empty()) {
      Position at = n.record ? pos_of(*n.record) : rule.position;
      if (!rule.annotations.empty()) report(at, "invalid field 'annotations' in recording rule");
      if (rule.for_duration != 0) report(at, "invalid field 'for' in recording rule");
      if (rule.keep_firing_for != 0) report(at, "invalid field 'keep_firing_for' in recording rule");
      if (!is_valid_metric_name(record)) report(at, "invalid recording rule name: " + record);
      if (record.find_first_of("{}") != std::string::npos) {
        report(at, "braces present in the recording rule name; should it be in expr?: " + record);
      }
    }

    for (size_t i = 0; i < rule.labels.size(); ++i) {
      check_label(rule.labels[i], pos_of(*n.label_keys[i]), report);
    }
    for (size_t i = 0; i < rule.annotations.size(); ++i) {
      if (!is_valid_label_name(rule.annotations[i].name))
        report(pos_of(*n.annotation_keys[i]), "invalid annotation name: " + rule.annotations[i].name);
    }

    if (!alert.empty()) {
      auto check = [&](std::string_view what, const std::vector<Label>& items,
                       const std::vector<const YamlNode*>& values) {
        for (size_t i = 0; i < items.size(); ++i) {
          if (items[i].value.find("{{") == std::string::npos) continue;
          templates::AlertTemplate t(alert, items[i].value);
          if (!t.syntax_error().empty())
            report(pos_of(*values[i]), fmt::format("{} {}: {}", what, go_quote(items[i].name), t.syntax_error()));
        }
      };
      check("label", rule.labels, n.label_values);
      check("annotation", rule.annotations, n.annotation_values);
    }
  }

  const LoadOptions& opts_;
  Decoder& d_;
  std::vector<LoadError>& errors_;
};

// Rule files may be large (generated rule sets); beyond this they are refused.
constexpr size_t kMaxRuleFileSize = size_t{1} << 30;

}  // namespace

LoadResult parse_rule_file(std::string_view content, const LoadOptions& opts) {
  LoadResult result;
  auto doc = parse_yaml(content);
  if (!doc) {
    const Error& e = doc.error();
    // "yaml: line 3, column 5: ..." — Go prints the line; we add the column.
    std::string rest = e.message.starts_with("yaml: ") ? e.message.substr(6) : e.message;
    std::string text = e.line ? fmt::format("yaml: line {}, column {}: {}", e.line, e.column, rest)
                              : e.message;
    result.errors.push_back({LoadError::Kind::Syntax, std::move(text), e.line, e.column});
    return result;
  }
  result.multiple_documents = doc->has_more_documents();
  Decoder decoder(*doc, opts, result.errors);
  result.file = decoder.decode_file(doc->root());
  Validator(opts, decoder, result.errors).validate(result.file);
  return result;
}


LoadResult load_rule_file(const std::string& path, const LoadOptions& opts) {
  auto content = read_file(path, kMaxRuleFileSize);
  if (!content) {
    LoadResult r;
    r.errors.push_back({LoadError::Kind::Read, content.error().message, 0, 0});
    return r;
  }
  LoadResult r = parse_rule_file(*content, opts);
  r.file.path = path;
  return r;
}

std::vector<std::string> format_errors(const std::vector<LoadError>& errors) {
  std::vector<std::string> out;
  std::string block;
  size_t block_at = 0;
  for (const LoadError& e : errors) {
    if (e.kind == LoadError::Kind::Structure) {
      if (block.empty()) {
        block = "yaml: unmarshal errors:";
        block_at = out.size();
        out.emplace_back();
      }
      block += "\n  " + e.text;
    } else {
      out.push_back(e.text);
    }
  }
  if (!block.empty()) out[block_at] = std::move(block);
  return out;
}

}  // namespace vigil::rules
