#include "routing/config_redact.h"

#include <fmt/format.h>

#include "model/names.h"
#include "model/yaml.h"
#include "routing/config_specs.h"

namespace vigil::routing {

using config::FieldSpec;
using config::FieldType;
using config::ObjectSpec;

namespace {

constexpr std::string_view kSecretText = "<secret>";

// How a node is read: as plain data, as an object of a spec, or as a secret.
struct Shape {
  enum Kind { kPlain, kObject, kObjectList, kObjectMap, kSecret, kSecretList, kSecretListMap };
  Kind kind = kPlain;
  const ObjectSpec* spec = nullptr;
};

bool is_secret_type(FieldType t) {
  return t == FieldType::kSecret || t == FieldType::kSecretUrl || t == FieldType::kTemplateUrl;
}

Shape shape_of(const FieldSpec& f) {
  if (is_secret_type(f.type)) return {Shape::kSecret};
  switch (f.type) {
    case FieldType::kSecretList: return {Shape::kSecretList};
    case FieldType::kSecretListMap: return {Shape::kSecretListMap};
    case FieldType::kObject: return {Shape::kObject, f.object};
    case FieldType::kObjectList: return {Shape::kObjectList, f.object};
    case FieldType::kObjectMap: return {Shape::kObjectMap, f.object};
    default: return {Shape::kPlain};
  }
}

// What a mapping entry's value is, given the mapping's shape.
Shape entry_shape(const Shape& map, std::string_view key) {
  switch (map.kind) {
    case Shape::kObject: {
      if (key == "<<") return map;  // a merge key brings in more of the same object
      const FieldSpec* f = map.spec ? map.spec->field(key) : nullptr;
      return f ? shape_of(*f) : Shape{};
    }
    case Shape::kObjectMap: return {Shape::kObject, map.spec};
    case Shape::kSecretListMap: return {Shape::kSecretList};
    default: return {};
  }
}

Shape item_shape(const Shape& seq) {
  switch (seq.kind) {
    case Shape::kObjectList: return {Shape::kObject, seq.spec};
    case Shape::kSecretList: return {Shape::kSecret};
    case Shape::kObject: return seq;  // a merge key's list of mappings
    default: return {};
  }
}

// YAML's double-quoted style reads every escape Go's quoting writes.
void append_quoted(std::string& out, std::string_view s) { out += go_quote(s); }

class Emitter {
 public:
  explicit Emitter(const YamlDocument& doc) : doc_(doc) {}

  std::string run(const YamlNode& root) {
    if (root.kind == YamlNode::Kind::Mapping && !doc_.children(root).empty()) {
      entries(root, {Shape::kObject, &config_spec()}, 0, false);
    } else {
      scalar_or_empty(root, {});
      out_ += '\n';
    }
    return std::move(out_);
  }

 private:
  // A value that follows "key:" or "- " on the same line, for containers
  // the rest of their lines at `indent`.
  void value(const YamlNode& n, const Shape& shape, int indent) {
    if (shape.kind == Shape::kSecret) {
      out_ += ' ';
      bool empty = n.kind == YamlNode::Kind::Null ||
                   (n.kind == YamlNode::Kind::Scalar && doc_.value(n).empty());
      out_ += empty ? std::string_view("\"\"") : kSecretText;
      out_ += '\n';
      return;
    }
    if (n.kind == YamlNode::Kind::Scalar && shape.kind == Shape::kObject && shape.spec &&
        !shape.spec->scalar_field.empty()) {
      // A plain string standing for an object with one field.
      const FieldSpec* f = shape.spec->field(shape.spec->scalar_field);
      return value(n, f ? shape_of(*f) : Shape{}, indent);
    }
    auto kids = doc_.children(n);
    if (n.kind == YamlNode::Kind::Mapping && !kids.empty()) {
      out_ += '\n';
      entries(n, shape, indent, false);
    } else if (n.kind == YamlNode::Kind::Sequence && !kids.empty()) {
      out_ += '\n';
      items(n, shape, indent);
    } else {
      out_ += ' ';
      scalar_or_empty(n, shape);
      out_ += '\n';
    }
  }

  void entries(const YamlNode& map, const Shape& shape, int indent, bool first_inline) {
    auto kids = doc_.children(map);
    for (size_t i = 0; i + 1 < kids.size(); i += 2) {
      if (!(first_inline && i == 0)) out_.append(static_cast<size_t>(indent), ' ');
      const YamlNode& key = *kids[i];
      std::string_view key_text = key.kind == YamlNode::Kind::Scalar ? doc_.value(key) : "";
      scalar_or_empty(key, {});
      out_ += ':';
      value(*kids[i + 1], entry_shape(shape, key_text), indent + 2);
    }
  }

  void items(const YamlNode& seq, const Shape& shape, int indent) {
    Shape item = item_shape(shape);
    for (const YamlNode* c : doc_.children(seq)) {
      out_.append(static_cast<size_t>(indent), ' ');
      out_ += '-';
      if (c->kind == YamlNode::Kind::Mapping && !doc_.children(*c).empty() && item.kind != Shape::kSecret) {
        out_ += ' ';
        entries(*c, item, indent + 2, true);
      } else {
        value(*c, item, indent + 2);
      }
    }
  }

  void scalar_or_empty(const YamlNode& n, const Shape& shape) {
    switch (n.kind) {
      case YamlNode::Kind::Mapping: out_ += "{}"; return;
      case YamlNode::Kind::Sequence: out_ += "[]"; return;
      case YamlNode::Kind::Null:
      case YamlNode::Kind::Alias: out_ += "null"; return;
      case YamlNode::Kind::Scalar: break;
    }
    (void)shape;
    std::string_view v = doc_.value(n);
    bool plain_ok = !n.quoted && !v.empty() && v.front() != ' ' && v.back() != ' ' &&
                    v.find_first_of("\n\r\t") == std::string_view::npos &&
                    v.find(": ") == std::string_view::npos && v.find(" #") == std::string_view::npos;
    if (plain_ok) out_ += v;
    else append_quoted(out_, v);
  }

  const YamlDocument& doc_;
  std::string out_;
};

}  // namespace

Result<std::string> redacted_config_yaml(std::string_view config_text) {
  auto doc = parse_yaml(config_text);
  if (!doc) return std::unexpected(doc.error());
  const YamlNode* root = doc->root();
  if (!root) return std::string();
  return Emitter(*doc).run(*root);
}

}  // namespace vigil::routing
