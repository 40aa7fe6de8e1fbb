#include "config/relabel.h"

#include <openssl/evp.h>
#include <re2/re2.h>

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "model/names.h"

namespace vigil::config {

namespace {

using Kind = YamlNode::Kind;

constexpr std::string_view kDefaultRegex = "(.*)";
constexpr std::string_view kDefaultReplacement = "$1";

struct ActionName {
  RelabelAction action;
  std::string_view name;
};
constexpr ActionName kActions[] = {
    {RelabelAction::kReplace, "replace"},     {RelabelAction::kKeep, "keep"},
    {RelabelAction::kDrop, "drop"},           {RelabelAction::kKeepEqual, "keepequal"},
    {RelabelAction::kDropEqual, "dropequal"}, {RelabelAction::kHashMod, "hashmod"},
    {RelabelAction::kLabelMap, "labelmap"},   {RelabelAction::kLabelDrop, "labeldrop"},
    {RelabelAction::kLabelKeep, "labelkeep"}, {RelabelAction::kLowercase, "lowercase"},
    {RelabelAction::kUppercase, "uppercase"},
};

bool valid_name(std::string_view s, NameValidation names) {
  if (names == NameValidation::kLegacy) return is_legacy_label_name(s);
  return !s.empty() && is_valid_utf8(s);
}

// Legacy names may carry $var / ${var} references that expand to name characters.
bool valid_legacy_template_name(std::string_view s) {
  if (s.empty()) return false;
  bool first = true;
  for (size_t i = 0; i < s.size();) {
    char c = s[i];
    auto word = [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_'; };
    if (c == '$') {
      size_t j = i + 1;
      if (j < s.size() && s[j] == '{') {
        size_t k = j + 1;
        while (k < s.size() && word(s[k])) ++k;
        if (k == j + 1 || k >= s.size() || s[k] != '}') return false;
        i = k + 1;
      } else {
        size_t k = j;
        while (k < s.size() && word(s[k])) ++k;
        if (k == j) return false;
        i = k;
      }
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      ++i;
    } else if (std::isdigit(static_cast<unsigned char>(c)) && !first) {
      ++i;
    } else {
      return false;
    }
    first = false;
  }
  return true;
}

bool valid_name_or_template(std::string_view s, NameValidation names) {
  return names == NameValidation::kLegacy ? valid_legacy_template_name(s) : valid_name(s, names);
}

// A byte that can be part of a bare `$name`: letters, digits, underscore.
// Bytes of multi-byte UTF-8 sequences count as letters.
bool name_byte(char c) {
  auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '_' || u >= 0x80;
}

std::string join_values(const std::vector<Label>& ls, const RelabelConfig& c);

const Label* find(const std::vector<Label>& ls, std::string_view name) {
  for (const Label& l : ls)
    if (l.name == name) return &l;
  return nullptr;
}

std::string_view get(const std::vector<Label>& ls, std::string_view name) {
  const Label* l = find(ls, name);
  return l ? std::string_view(l->value) : std::string_view();
}

void set(std::vector<Label>& ls, std::string_view name, std::string_view value) {
  auto it = std::find_if(ls.begin(), ls.end(), [&](const Label& l) { return l.name == name; });
  if (value.empty()) {
    if (it != ls.end()) ls.erase(it);
  } else if (it != ls.end()) {
    it->value = std::string(value);
  } else {
    ls.push_back({std::string(name), std::string(value)});
  }
}

std::string join_values(const std::vector<Label>& ls, const RelabelConfig& c) {
  std::string out;
  for (size_t i = 0; i < c.source_labels.size(); ++i) {
    if (i > 0) out += c.separator;
    out += get(ls, c.source_labels[i]);
  }
  return out;
}

// Submatches of a full match of `re` against `s`; empty when it does not match.
std::vector<std::string_view> full_match(const re2::RE2& re, std::string_view s) {
  std::vector<re2::StringPiece> pieces(static_cast<size_t>(re.NumberOfCapturingGroups()) + 1);
  std::vector<std::string_view> groups;
  if (!re.Match(s, 0, s.size(), re2::RE2::ANCHOR_BOTH, pieces.data(), static_cast<int>(pieces.size())))
    return groups;
  for (const re2::StringPiece& p : pieces) groups.emplace_back(p.data(), p.size());
  return groups;
}

uint64_t hash_mod(std::string_view s, uint64_t modulus) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), digest, &len, EVP_md5(), nullptr);
  uint64_t v = 0;  // the digest's last eight bytes, big-endian
  for (int i = 8; i < 16; ++i) v = (v << 8) | digest[i];
  return v % modulus;
}

std::string ascii_case(std::string s, bool upper) {
  for (char& c : s)
    c = static_cast<char>(upper ? std::toupper(static_cast<unsigned char>(c)) : std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Applies one rule; false when it drops the set.
bool apply(const RelabelConfig& c, std::vector<Label>& ls) {
  const std::string val = join_values(ls, c);
  switch (c.action) {
    case RelabelAction::kDrop:
      return !re2::RE2::FullMatch(val, c.re());
    case RelabelAction::kKeep:
      return re2::RE2::FullMatch(val, c.re());
    case RelabelAction::kDropEqual:
      return get(ls, c.target_label) != val;
    case RelabelAction::kKeepEqual:
      return get(ls, c.target_label) == val;
    case RelabelAction::kReplace: {
      auto groups = full_match(c.re(), val);
      if (groups.empty()) break;
      std::string target = expand_template(c.re(), c.target_label, groups);
      // An expansion that yields no valid name leaves the set as it was.
      if (!valid_name(target, c.names)) break;
      set(ls, target, expand_template(c.re(), c.replacement, groups));
      break;
    }
    case RelabelAction::kLowercase:
    case RelabelAction::kUppercase:
      set(ls, c.target_label, ascii_case(val, c.action == RelabelAction::kUppercase));
      break;
    case RelabelAction::kHashMod:
      set(ls, c.target_label, std::to_string(hash_mod(val, c.modulus)));
      break;
    case RelabelAction::kLabelMap: {
      // Reads the labels as they were before this rule, so that copies
      // made by it are not mapped again.
      const std::vector<Label> before = ls;
      for (const Label& l : before) {
        auto groups = full_match(c.re(), l.name);
        if (groups.empty()) continue;
        std::string name = expand_template(c.re(), c.replacement, groups);
        if (!name.empty()) set(ls, name, l.value);
      }
      break;
    }
    case RelabelAction::kLabelDrop:
    case RelabelAction::kLabelKeep: {
      const bool keep = c.action == RelabelAction::kLabelKeep;
      std::erase_if(ls, [&](const Label& l) { return re2::RE2::FullMatch(l.name, c.re()) != keep; });
      break;
    }
  }
  return true;
}

// ---- YAML decoding ----

std::vector<std::pair<const YamlNode*, const YamlNode*>> pairs(const YamlDocument& doc, const YamlNode& map) {
  std::vector<std::pair<const YamlNode*, const YamlNode*>> out;
  auto c = doc.children(map);
  for (size_t i = 0; i + 1 < c.size(); i += 2) out.emplace_back(c[i], c[i + 1]);
  return out;
}

Result<std::string> string_of(const YamlDocument& doc, const YamlNode& n, std::string_view field) {
  if (n.kind == Kind::Null) return std::string();
  if (n.kind != Kind::Scalar)
    return fail(fmt::format("{}: cannot unmarshal {} into string", field, doc.describe(n)), n.line, n.column);
  return std::string(doc.value(n));
}

}  // namespace

std::string_view relabel_action_name(RelabelAction a) {
  for (const auto& an : kActions)
    if (an.action == a) return an.name;
  return "replace";
}

std::string expand_template(const re2::RE2& re, std::string_view tmpl, std::span<const std::string_view> groups) {
  std::string out;
  while (!tmpl.empty()) {
    size_t dollar = tmpl.find('$');
    if (dollar == std::string_view::npos) break;
    out.append(tmpl.substr(0, dollar));
    tmpl.remove_prefix(dollar + 1);
    if (!tmpl.empty() && tmpl[0] == '$') {
      out += '$';
      tmpl.remove_prefix(1);
      continue;
    }
    // The reference: ${name} or a bare run of name bytes.
    std::string_view rest = tmpl;
    const bool brace = !rest.empty() && rest[0] == '{';
    if (brace) rest.remove_prefix(1);
    size_t n = 0;
    while (n < rest.size() && name_byte(rest[n])) ++n;
    if (n == 0 || (brace && (n >= rest.size() || rest[n] != '}'))) {
      out += '$';  // malformed: the dollar stands for itself
      continue;
    }
    std::string_view name = rest.substr(0, n);
    tmpl = rest.substr(n + (brace ? 1 : 0));
    // A number (no leading zero) is a group index; anything else a group name.
    int index = -1;
    if (std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
        (name.size() == 1 || name[0] != '0') && name.size() <= 8) {
      std::from_chars(name.data(), name.data() + name.size(), index);
    } else {
      const auto& named = re.NamedCapturingGroups();
      if (auto it = named.find(std::string(name)); it != named.end()) index = it->second;
    }
    if (index >= 0 && static_cast<size_t>(index) < groups.size() && groups[index].data() != nullptr)
      out.append(groups[index]);
  }
  out.append(tmpl);
  return out;
}

Result<void> RelabelConfig::compile(NameValidation names) {
  using A = RelabelAction;
  const std::string_view act = relabel_action_name(action);
  auto err = [&](std::string msg) { return fail(std::move(msg), line, column); };
  // The expression first: upstream reports it while decoding, before any
  // check of the rule as a whole.
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  auto re = std::make_shared<re2::RE2>("^(?s:" + regex + ")$", opts);
  if (!re->ok()) return err(fmt::format("error parsing regexp: {}", re->error()));
  if (action == A::kHashMod && modulus == 0)
    return err("relabel configuration for hashmod requires non-zero modulus");
  const bool needs_target = action == A::kReplace || action == A::kHashMod || action == A::kLowercase ||
                            action == A::kUppercase || action == A::kKeepEqual || action == A::kDropEqual;
  if (needs_target && target_label.empty())
    return err(fmt::format("relabel configuration for {} action requires 'target_label' value", act));
  const bool has_var = target_label.find('$') != std::string::npos;
  if (action == A::kReplace && !has_var && !valid_name(target_label, names))
    return err(fmt::format("\"{}\" is invalid 'target_label' for {} action", target_label, act));
  if (action == A::kReplace && has_var && !valid_name_or_template(target_label, names))
    return err(fmt::format("\"{}\" is invalid 'target_label' for {} action", target_label, act));
  const bool target_only = action == A::kLowercase || action == A::kUppercase || action == A::kKeepEqual ||
                           action == A::kDropEqual;
  if (target_only && !valid_name(target_label, names))
    return err(fmt::format("\"{}\" is invalid 'target_label' for {} action", target_label, act));
  if (target_only && replacement != kDefaultReplacement)
    return err(fmt::format("'replacement' can not be set for {} action", act));
  if (action == A::kLabelMap && !valid_name_or_template(replacement, names))
    return err(fmt::format("\"{}\" is invalid 'replacement' for {} action", replacement, act));
  if (action == A::kHashMod && !valid_name(target_label, names))
    return err(fmt::format("\"{}\" is invalid 'target_label' for {} action", target_label, act));
  if ((action == A::kKeepEqual || action == A::kDropEqual) &&
      (regex_set || modulus != 0 || separator != ";" || replacement != kDefaultReplacement))
    return err(fmt::format("{} action requires only 'source_labels' and `target_label`, and no other fields", act));
  if ((action == A::kLabelDrop || action == A::kLabelKeep) &&
      (!source_labels.empty() || !target_label.empty() || modulus != 0 || separator != ";" ||
       replacement != kDefaultReplacement))
    return err(fmt::format("{} action requires only 'regex', and no other fields", act));

  re_ = std::move(re);
  this->names = names;
  return {};
}

Result<RelabelConfig> parse_relabel_config(const YamlDocument& doc, const YamlNode& node, NameValidation names) {
  RelabelConfig c;
  c.line = node.line;
  c.column = node.column;
  if (node.kind != Kind::Mapping)
    return fail(fmt::format("cannot unmarshal {} into relabel.plain", doc.describe(node)), node.line, node.column);
  std::vector<std::string_view> seen;
  const YamlNode* regex_node = nullptr;
  for (auto [k, v] : pairs(doc, node)) {
    std::string_view key = doc.value(*k);
    auto at = [v = v](std::string msg) { return fail(std::move(msg), v->line, v->column); };
    if (std::find(seen.begin(), seen.end(), key) != seen.end())
      return fail(fmt::format("field {} already set in type relabel.plain", key), k->line, k->column);
    seen.push_back(key);
    if (key == "source_labels") {
      if (v->kind == Kind::Null) continue;
      if (v->kind != Kind::Sequence)
        return at(fmt::format("source_labels: cannot unmarshal {} into a list", doc.describe(*v)));
      for (const YamlNode* item : doc.children(*v)) {
        auto s = string_of(doc, *item, key);
        if (!s) return std::unexpected(s.error());
        if (names == NameValidation::kLegacy ? !is_legacy_label_name(*s) : !is_valid_utf8(*s))
          return fail(fmt::format("\"{}\" is not a valid label name", *s), item->line, item->column);
        c.source_labels.push_back(std::move(*s));
      }
    } else if (key == "separator" || key == "regex" || key == "target_label" || key == "replacement" ||
               key == "action") {
      auto s = string_of(doc, *v, key);
      if (!s) return std::unexpected(s.error());
      if (key == "separator") c.separator = std::move(*s);
      else if (key == "target_label") c.target_label = std::move(*s);
      else if (key == "replacement") c.replacement = std::move(*s);
      else if (key == "regex") {
        // Written as null, the expression is empty (it matches only "").
        c.regex = std::move(*s);
        c.regex_set = true;
        regex_node = v;
      } else {
        std::string lower = ascii_case(*s, false);
        auto it = std::find_if(std::begin(kActions), std::end(kActions),
                               [&](const ActionName& a) { return a.name == lower; });
        if (v->kind == Kind::Null || lower.empty()) return at("relabel action cannot be empty");
        if (it == std::end(kActions)) return at(fmt::format("unknown relabel action \"{}\"", *s));
        c.action = it->action;
      }
    } else if (key == "modulus") {
      if (v->kind == Kind::Null) continue;
      std::string_view text = v->kind == Kind::Scalar && !v->quoted ? doc.value(*v) : std::string_view();
      uint64_t m = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), m);
      if (text.empty() || ec != std::errc() || p != text.data() + text.size())
        return at(fmt::format("modulus: cannot unmarshal {} into uint64", doc.describe(*v)));
      c.modulus = m;
    } else {
      return fail(fmt::format("field {} not found in type relabel.plain", key), k->line, k->column);
    }
  }
  if (auto ok = c.compile(names); !ok) {
    Error e = ok.error();
    // A bad expression is reported where it was written.
    if (regex_node != nullptr && e.message.starts_with("error parsing regexp")) {
      e.line = regex_node->line;
      e.column = regex_node->column;
    }
    return std::unexpected(e);
  }
  return c;
}

Result<std::vector<RelabelConfig>> parse_relabel_configs(const YamlDocument& doc, const YamlNode& node,
                                                         NameValidation names) {
  std::vector<RelabelConfig> out;
  if (node.kind == Kind::Null) return out;
  if (node.kind != Kind::Sequence)
    return fail(fmt::format("cannot unmarshal {} into []*relabel.Config", doc.describe(node)), node.line, node.column);
  for (const YamlNode* item : doc.children(node)) {
    if (item->kind == Kind::Null) return fail("empty or null relabeling rule", item->line, item->column);
    auto c = parse_relabel_config(doc, *item, names);
    if (!c) return std::unexpected(c.error());
    out.push_back(std::move(*c));
  }
  return out;
}

std::optional<Labels> relabel(const Labels& in, std::span<const RelabelConfig> rules) {
  std::vector<Label> ls = in.to_vector();
  for (const RelabelConfig& c : rules) {
    if (!c.compiled()) continue;
    if (!apply(c, ls)) return std::nullopt;
  }
  return Labels(ls);
}

}  // namespace vigil::config
