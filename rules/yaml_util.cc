#include "rules/yaml_util.h"

#include <span>
#include <spanstream>
#include <stdexcept>
#include <unordered_map>

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

namespace vigil::rules {
namespace {

// Decodes one UTF-8 sequence at s[i]; returns its length, or 0 when invalid.
int utf8_sequence(std::string_view s, size_t i, char32_t* cp) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  int len;
  char32_t v;
  if (c < 0x80) { *cp = c; return 1; }
  if ((c & 0xE0) == 0xC0) { len = 2; v = c & 0x1F; }
  else if ((c & 0xF0) == 0xE0) { len = 3; v = c & 0x0F; }
  else if ((c & 0xF8) == 0xF0) { len = 4; v = c & 0x07; }
  else return 0;
  if (i + len > s.size()) return 0;
  for (int k = 1; k < len; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    v = (v << 6) | (b(i + k) & 0x3F);
  }
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (v < kMin[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

// YAML's printable set: what Go's yaml reader accepts.
bool yaml_printable(char32_t c) {
  return c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c <= 0x7E) || c == 0x85 ||
         (c >= 0xA0 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD && c != 0xFEFF) ||
         (c >= 0x10000 && c <= 0x10FFFF);
}

// Rejects what the YAML reader must reject before yaml-cpp sees it, so that
// garbage gets a precise position rather than whatever the scanner makes of it.
Result<void> check_characters(std::string_view text) {
  int line = 1, column = 1;
  for (size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    int len = utf8_sequence(text, i, &cp);
    if (len == 0) return fail("yaml: invalid UTF-8", line, column);
    if (!yaml_printable(cp) && !(cp == 0xFEFF && i == 0))
      return fail("yaml: control characters are not allowed", line, column);
    i += len;
    if (cp == '\n') { ++line; column = 1; } else { ++column; }
  }
  return {};
}

// yaml-cpp counts columns in bytes; Go's yaml (and editors) in characters.
int character_column(std::string_view text, const YAML::Mark& mark) {
  if (mark.pos < 0 || mark.column < 0 || static_cast<size_t>(mark.pos) > text.size())
    return mark.column + 1;
  size_t end = static_cast<size_t>(mark.pos);
  size_t start = end >= static_cast<size_t>(mark.column) ? end - mark.column : 0;
  int column = 1;
  for (size_t i = start; i < end; ++i)
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++column;
  return column;
}

struct TooDeep {
  YAML::Mark mark;
};

}  // namespace

// Builds the arena tree from yaml-cpp's parse events: no recursion on our
// side, so depth is bounded only by the explicit limit.
class YamlBuilder : public YAML::EventHandler {
 public:
  YamlBuilder(YamlDocument& doc, std::string_view text) : doc_(doc), text_(text) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    add(YamlNode::Kind::Null, mark, "", anchor);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    // yaml-cpp rejects unknown aliases itself; be safe anyway.
    if (it == anchors_.end()) return;
    uint32_t i = add(YamlNode::Kind::Alias, mark, "", YAML::NullAnchor);
    doc_.nodes_[i].first_child = it->second;
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    uint32_t i = add(YamlNode::Kind::Scalar, mark, tag, anchor);
    if (doc_.pool_.size() + value.size() > UINT32_MAX) throw std::length_error("YAML too large");
    doc_.nodes_[i].value_begin = static_cast<uint32_t>(doc_.pool_.size());
    doc_.nodes_[i].value_size = static_cast<uint32_t>(value.size());
    doc_.pool_ += value;
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(add(YamlNode::Kind::Sequence, mark, tag, anchor), mark);
  }
  void OnSequenceEnd() override { stack_.pop_back(); }
  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(add(YamlNode::Kind::Mapping, mark, tag, anchor), mark);
  }
  void OnMapEnd() override { stack_.pop_back(); }

 private:
  struct Open {
    uint32_t node;
    uint32_t last_child = YamlNode::kNone;
  };

  uint32_t add(YamlNode::Kind kind, const YAML::Mark& mark, const std::string& tag,
               YAML::anchor_t anchor) {
    if (doc_.nodes_.size() >= YamlNode::kNone - 1) throw std::length_error("YAML too large");
    auto i = static_cast<uint32_t>(doc_.nodes_.size());
    YamlNode& n = doc_.nodes_.emplace_back();
    n.kind = kind;
    n.line = mark.line + 1;
    n.column = character_column(text_, mark);
    // yaml-cpp marks quoted and block scalars with the non-specific tag "!"
    // and plain ones with "?".
    if (tag == "!") {
      n.quoted = true;
    } else if (tag != "?" && !tag.empty()) {
      n.tag = static_cast<uint32_t>(doc_.tags_.size());
      doc_.tags_.push_back(tag);
      if (tag == "tag:yaml.org,2002:str") n.quoted = true;
    }
    if (anchor != YAML::NullAnchor) anchors_[anchor] = i;
    if (stack_.empty()) {
      doc_.root_ = i;
    } else {
      Open& parent = stack_.back();
      if (parent.last_child == YamlNode::kNone) doc_.nodes_[parent.node].first_child = i;
      else doc_.nodes_[parent.last_child].next_sibling = i;
      parent.last_child = i;
    }
    return i;
  }
  void open(uint32_t i, const YAML::Mark& mark) {
    if (static_cast<int>(stack_.size()) >= kMaxYamlDepth) throw TooDeep{mark};
    stack_.push_back({i});
  }

  YamlDocument& doc_;
  std::string_view text_;
  std::vector<Open> stack_;
  std::unordered_map<YAML::anchor_t, uint32_t> anchors_;
};

std::vector<const YamlNode*> YamlDocument::children(const YamlNode& n) const {
  std::vector<const YamlNode*> out;
  if (n.kind != YamlNode::Kind::Sequence && n.kind != YamlNode::Kind::Mapping) return out;
  for (uint32_t i = n.first_child; i != YamlNode::kNone; i = nodes_[i].next_sibling) {
    const YamlNode* c = &nodes_[i];
    // An alias points at a node that is never itself an alias.
    if (c->kind == YamlNode::Kind::Alias) c = &nodes_[c->first_child];
    out.push_back(c);
  }
  return out;
}

namespace {

// Skips our own documents' trailing events when probing for a second one.
class IgnoreEvents : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

}  // namespace

Result<YamlDocument> parse_yaml(std::string_view text) {
  if (auto ok = check_characters(text); !ok) return std::unexpected(ok.error());
  YamlDocument doc;
  // yaml-cpp reads from a stream; a span stream avoids copying the text.
  std::ispanstream in(std::span<const char>(text.data(), text.size()));
  try {
    YAML::Parser parser(in);
    YamlBuilder builder(doc, text);
    if (!parser.HandleNextDocument(builder)) return doc;
    try {
      IgnoreEvents ignore;
      doc.more_documents_ = parser.HandleNextDocument(ignore);
    } catch (const YAML::Exception&) {
      // Only the first document counts, as in Prometheus; a broken second
      // one still means there was a second one.
      doc.more_documents_ = true;
    }
  } catch (const TooDeep& e) {
    return fail(fmt::format("yaml: exceeded max depth of {}", kMaxYamlDepth), e.mark.line + 1,
                character_column(text, e.mark));
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own guard (it says only "bad file").
    return fail(fmt::format("yaml: exceeded max depth of {}", e.depth() - 1), e.mark.line + 1,
                character_column(text, e.mark));
  } catch (const YAML::Exception& e) {
    return fail("yaml: " + e.msg, e.mark.line + 1, character_column(text, e.mark));
  } catch (const std::exception& e) {
    return fail(std::string("yaml: ") + e.what());
  }
  return doc;
}

namespace {

bool is_null_word(std::string_view v) {
  return v.empty() || v == "~" || v == "null" || v == "Null" || v == "NULL";
}
bool is_bool_word(std::string_view v) {
  return v == "true" || v == "True" || v == "TRUE" || v == "false" || v == "False" ||
         v == "FALSE";
}
bool all_of(std::string_view v, std::string_view set) {
  return !v.empty() && v.find_first_not_of(set) == std::string_view::npos;
}
bool is_int_word(std::string_view v) {
  if (!v.empty() && (v[0] == '-' || v[0] == '+')) v.remove_prefix(1);
  if (v.starts_with("0x")) return all_of(v.substr(2), "0123456789abcdefABCDEF_");
  if (v.starts_with("0o")) return all_of(v.substr(2), "01234567_");
  if (v.starts_with("0b")) return all_of(v.substr(2), "01_");
  return all_of(v, "0123456789_");
}
bool is_float_word(std::string_view v) {
  if (v == ".inf" || v == "-.inf" || v == "+.inf" || v == ".Inf" || v == ".INF" ||
      v == ".nan" || v == ".NaN" || v == ".NAN")
    return true;
  if (!v.empty() && (v[0] == '-' || v[0] == '+')) v.remove_prefix(1);
  bool digits = false, dot = false;
  size_t i = 0;
  for (; i < v.size(); ++i) {
    if (v[i] >= '0' && v[i] <= '9') digits = true;
    else if (v[i] == '.' && !dot) dot = true;
    else break;
  }
  if (!digits) return false;
  if (i == v.size()) return true;
  if (v[i] != 'e' && v[i] != 'E') return false;
  ++i;
  if (i < v.size() && (v[i] == '-' || v[i] == '+')) ++i;
  return i < v.size() && all_of(v.substr(i), "0123456789");
}

}  // namespace

std::string YamlDocument::resolved_tag(const YamlNode& n) const {
  switch (n.kind) {
    case YamlNode::Kind::Null: return "!!null";
    case YamlNode::Kind::Sequence: return "!!seq";
    case YamlNode::Kind::Mapping: return "!!map";
    case YamlNode::Kind::Alias: return resolved_tag(nodes_[n.first_child]);
    case YamlNode::Kind::Scalar: break;
  }
  if (n.tag != 0) {
    constexpr std::string_view kCore = "tag:yaml.org,2002:";
    std::string_view t = tags_[n.tag];
    if (t.starts_with(kCore)) return "!!" + std::string(t.substr(kCore.size()));
    return std::string(t);
  }
  const std::string_view v = value(n);
  if (n.quoted) return "!!str";
  if (is_null_word(v)) return "!!null";
  if (is_bool_word(v)) return "!!bool";
  if (is_int_word(v)) return "!!int";
  if (is_float_word(v)) return "!!float";
  return "!!str";
}

std::string YamlDocument::describe(const YamlNode& n) const {
  std::string tag = resolved_tag(n);
  if (n.kind != YamlNode::Kind::Scalar) return tag;
  std::string v(value(n));
  // Go's yaml shortens long values to their first seven bytes.
  if (v.size() > 10) v = v.substr(0, 7) + "...";
  return fmt::format("{} `{}`", tag, v);
}

}  // namespace vigil::rules
