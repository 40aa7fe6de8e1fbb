#include "model/yaml.h"

#include "model/base64.h"

#include "model/names.h"

#include <charconv>
#include <optional>
#include <string>
#include <memory>
#include <stdexcept>
#include <unordered_map>

#include <fmt/format.h>

#include <yaml.h>

namespace vigil {
namespace {

// YAML's printable set: what Go's yaml reader accepts.
bool yaml_printable(uint32_t c) {
  return c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c <= 0x7E) || c == 0x85 ||
         (c >= 0xA0 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD && c != 0xFEFF) ||
         (c >= 0x10000 && c <= 0x10FFFF);
}

// Rejects what the YAML reader must reject before yaml-cpp sees it, so that
// garbage gets a precise position rather than whatever the scanner makes of it.
Result<void> check_characters(std::string_view text) {
  int line = 1, column = 1;
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    int len = utf8_decode(text, i, &cp);
    if (len == 0) return fail("yaml: invalid UTF-8", line, column);
    if (!yaml_printable(cp) && !(cp == 0xFEFF && i == 0))
      return fail("yaml: control characters are not allowed", line, column);
    i += len;
    if (cp == '\n') { ++line; column = 1; } else { ++column; }
  }
  return {};
}

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

// !!binary: base64 as Go's StdEncoding reads it, line breaks ignored.
std::optional<std::string> decode_base64(std::string_view in) {
  std::string text;
  for (char c : in)
    if (c != '\n' && c != '\r') text += c;
  return base64_decode(text);
}

// Builds the arena tree from libyaml's parse events: no recursion on our side,
// so depth is bounded only by the explicit limit.
class YamlBuilder {
 public:
  explicit YamlBuilder(YamlDocument& doc) : doc_(doc) {}

  // Feeds one event; returns an error for nesting too deep or an unknown alias.
  Result<void> on(const yaml_event_t& e) {
    switch (e.type) {
      case YAML_SCALAR_EVENT: {
        const auto& sc = e.data.scalar;
        std::string_view value(reinterpret_cast<const char*>(sc.value), sc.length);
        std::string_view tag = sc.tag ? reinterpret_cast<const char*>(sc.tag) : "";
        bool plain = sc.style == YAML_PLAIN_SCALAR_STYLE;
        // A plain null word without a tag is YAML's null, as Go's yaml reads it.
        bool null = plain && tag.empty() && is_null_word(value);
        // A !!binary scalar is its base64-decoded bytes, a string, as Go's yaml reads it.
        std::string decoded;
        if (tag == "tag:yaml.org,2002:binary") {
          auto bytes = decode_base64(value);
          if (!bytes) {
            return fail("!!binary value contains invalid base64 data", static_cast<int>(e.start_mark.line) + 1,
                        static_cast<int>(e.start_mark.column) + 1);
          }
          decoded = std::move(*bytes);
          value = decoded;
          tag = "!";  // a string now, whatever its bytes look like
        }
        uint32_t i = add(null ? YamlNode::Kind::Null : YamlNode::Kind::Scalar, e.start_mark, tag,
                         sc.anchor, !plain);
        if (doc_.pool_.size() + value.size() > UINT32_MAX) return fail("yaml: document too large");
        doc_.nodes_[i].value_begin = static_cast<uint32_t>(doc_.pool_.size());
        doc_.nodes_[i].value_size = static_cast<uint32_t>(value.size());
        doc_.pool_ += value;
        return {};
      }
      case YAML_ALIAS_EVENT: {
        auto it = anchors_.find(reinterpret_cast<const char*>(e.data.alias.anchor));
        if (it == anchors_.end()) {
          return fail(fmt::format("yaml: unknown anchor '{}' referenced",
                                  reinterpret_cast<const char*>(e.data.alias.anchor)),
                      static_cast<int>(e.start_mark.line) + 1, static_cast<int>(e.start_mark.column) + 1);
        }
        uint32_t i = add(YamlNode::Kind::Alias, e.start_mark, "", nullptr, false);
        doc_.nodes_[i].first_child = it->second;
        return {};
      }
      case YAML_SEQUENCE_START_EVENT:
        return open(add(YamlNode::Kind::Sequence, e.start_mark, tag_of(e.data.sequence_start.tag),
                        e.data.sequence_start.anchor, false),
                    e.start_mark);
      case YAML_MAPPING_START_EVENT:
        return open(add(YamlNode::Kind::Mapping, e.start_mark, tag_of(e.data.mapping_start.tag),
                        e.data.mapping_start.anchor, false),
                    e.start_mark);
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        stack_.pop_back();
        return {};
      default:
        return {};
    }
  }

 private:
  struct Open {
    uint32_t node;
    uint32_t last_child = YamlNode::kNone;
  };

  static std::string_view tag_of(const yaml_char_t* t) {
    return t ? reinterpret_cast<const char*>(t) : "";
  }

  uint32_t add(YamlNode::Kind kind, const yaml_mark_t& mark, std::string_view tag,
               const yaml_char_t* anchor, bool quoted) {
    auto i = static_cast<uint32_t>(doc_.nodes_.size());
    YamlNode& n = doc_.nodes_.emplace_back();
    n.kind = kind;
    // libyaml counts columns in characters, as Go's yaml and editors do.
    n.line = static_cast<int>(mark.line) + 1;
    n.column = static_cast<int>(mark.column) + 1;
    n.quoted = quoted;
    if (!tag.empty() && tag != "!") {
      n.tag = static_cast<uint32_t>(doc_.tags_.size());
      doc_.tags_.emplace_back(tag);
      if (tag == "tag:yaml.org,2002:str") n.quoted = true;
    } else if (tag == "!") {
      n.quoted = true;  // the non-specific tag makes a plain scalar a string
    }
    if (anchor) anchors_[reinterpret_cast<const char*>(anchor)] = i;
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

  Result<void> open(uint32_t i, const yaml_mark_t& mark) {
    if (static_cast<int>(stack_.size()) >= kMaxYamlDepth) {
      return fail(fmt::format("yaml: exceeded max depth of {}", kMaxYamlDepth),
                  static_cast<int>(mark.line) + 1, static_cast<int>(mark.column) + 1);
    }
    stack_.push_back({i});
    return {};
  }

  YamlDocument& doc_;
  std::vector<Open> stack_;
  std::unordered_map<std::string, uint32_t> anchors_;
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

struct ParserDeleter {
  void operator()(yaml_parser_t* p) const {
    yaml_parser_delete(p);
    delete p;
  }
};

struct Event {
  yaml_event_t e{};
  ~Event() { yaml_event_delete(&e); }
};

Error syntax_error(const yaml_parser_t& p) {
  std::string msg = p.problem ? p.problem : "invalid YAML";
  if (p.context) msg = fmt::format("{} {}", p.context, msg);
  return Error{fmt::format("yaml: line {}: {}", p.problem_mark.line + 1, msg),
               static_cast<int>(p.problem_mark.line) + 1,
               static_cast<int>(p.problem_mark.column) + 1};
}

}  // namespace

Result<YamlDocument> parse_yaml(std::string_view text) {
  if (auto ok = check_characters(text); !ok) return std::unexpected(ok.error());
  YamlDocument doc;
  // Scalars decode to about as much text as they are written with: one
  // allocation holds them all, instead of a pool grown by doubling (which
  // briefly holds three times the text).
  doc.pool_.reserve(text.size());
  std::unique_ptr<yaml_parser_t, ParserDeleter> parser(new yaml_parser_t);
  if (!yaml_parser_initialize(parser.get())) return fail("yaml: cannot initialise the parser");
  yaml_parser_set_input_string(parser.get(), reinterpret_cast<const unsigned char*>(text.data()),
                               text.size());
  yaml_parser_set_encoding(parser.get(), YAML_UTF8_ENCODING);
  YamlBuilder builder(doc);
  int documents = 0;
  for (;;) {
    Event ev;
    if (!yaml_parser_parse(parser.get(), &ev.e)) {
      // Only the first document counts, as in Prometheus; a broken second one
      // still means there was a second one.
      if (documents > 1) break;
      return std::unexpected(syntax_error(*parser));
    }
    if (ev.e.type == YAML_STREAM_END_EVENT) break;
    if (ev.e.type == YAML_DOCUMENT_START_EVENT) {
      if (++documents > 1) {
        doc.more_documents_ = true;
        break;
      }
      continue;
    }
    if (documents == 1) {
      if (auto r = builder.on(ev.e); !r) return std::unexpected(r.error());
    }
  }
  return doc;
}


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

std::optional<int64_t> yaml_int(std::string_view text) {
  std::string digits;
  for (char c : text)
    if (c != '_') digits += c;
  std::string_view v = digits;
  bool neg = false;
  if (!v.empty() && (v[0] == '-' || v[0] == '+')) {
    neg = v[0] == '-';
    v.remove_prefix(1);
  }
  int base = 10;
  if (v.starts_with("0x")) base = 16, v.remove_prefix(2);
  else if (v.starts_with("0o")) base = 8, v.remove_prefix(2);
  else if (v.starts_with("0b")) base = 2, v.remove_prefix(2);
  else if (v.size() > 1 && v[0] == '0') base = 8, v.remove_prefix(1);
  if (v.empty()) return std::nullopt;
  uint64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out, base);
  if (ec != std::errc() || p != v.data() + v.size()) return std::nullopt;
  if (!neg && out > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  if (neg && out > static_cast<uint64_t>(INT64_MAX) + 1) return std::nullopt;
  return neg ? static_cast<int64_t>(0 - out) : static_cast<int64_t>(out);
}

}  // namespace vigil
