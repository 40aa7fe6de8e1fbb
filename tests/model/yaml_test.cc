#include <doctest/doctest.h>

#include <string>

#include "model/yaml.h"

using namespace vigil;

TEST_CASE("yaml: mappings, sequences, scalars with positions") {
  auto doc = parse_yaml(
      "groups:\n"
      "  - name: a\n"
      "    rules:\n"
      "      - expr: |\n"
      "          sum(\n"
      "            y)\n"
      "        labels: {a: '1', b: \"two\", c: 3, d: ~}\n");
  REQUIRE_MESSAGE(doc.has_value(), doc.error().message);
  const YamlNode* root = doc->root();
  REQUIRE(root->kind == YamlNode::Kind::Mapping);
  auto top = doc->children(*root);
  REQUIRE(top.size() == 2);
  CHECK(doc->value(*top[0]) == "groups");
  const YamlNode* group = doc->children(*top[1])[0];
  auto g = doc->children(*group);
  CHECK(doc->value(*g[1]) == "a");
  CHECK(g[1]->line == 2);
  CHECK(g[1]->column == 11);
  const YamlNode* rule = doc->children(*g[3])[0];
  auto r = doc->children(*rule);
  CHECK(doc->value(*r[1]) == "sum(\n  y)\n");
  CHECK(r[1]->quoted);
  auto labels = doc->children(*r[3]);
  CHECK(doc->resolved_tag(*labels[1]) == "!!str");
  CHECK(doc->resolved_tag(*labels[5]) == "!!int");
  CHECK(labels[7]->kind == YamlNode::Kind::Null);
  CHECK(doc->describe(*labels[3]) == "!!str `two`");
}

TEST_CASE("yaml: columns count characters, not bytes") {
  auto doc = parse_yaml("ünï: x\n");
  REQUIRE(doc.has_value());
  CHECK(doc->children(*doc->root())[1]->column == 6);
}

TEST_CASE("yaml: syntax errors give line and column") {
  auto bad = parse_yaml("a: [1, 2\nb: 3\n");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().line >= 1);
  CHECK(bad.error().message.find("yaml: line") == 0);
  CHECK_FALSE(parse_yaml("a:\n\t- b\n").has_value());
  CHECK_FALSE(parse_yaml("a: *nope\n").has_value());
}

TEST_CASE("yaml: deep nesting and garbage are errors, not crashes") {
  auto d = parse_yaml(std::string(100000, '['));
  REQUIRE_FALSE(d.has_value());
  CHECK(d.error().message == "yaml: exceeded max depth of 1000");
  std::string g(8192, '\0');
  for (size_t i = 0; i < g.size(); ++i) g[i] = static_cast<char>((i * 7919 + 13) % 251);
  CHECK_FALSE(parse_yaml(g).has_value());
  CHECK_FALSE(parse_yaml("\xff\xfe").has_value());
}

TEST_CASE("yaml: empty input and several documents") {
  auto empty = parse_yaml("");
  REQUIRE(empty.has_value());
  CHECK(empty->root() == nullptr);
  auto two = parse_yaml("a: 1\n---\nb: 2\n");
  REQUIRE(two.has_value());
  CHECK(two->has_more_documents());
  CHECK(two->children(*two->root()).size() == 2);
}

TEST_CASE("yaml: integers are read as Go's yaml reads them, in every base") {
  CHECK(yaml_int("42") == 42);
  CHECK(yaml_int("-42") == -42);
  CHECK(yaml_int("+7") == 7);
  CHECK(yaml_int("1_000") == 1000);
  CHECK(yaml_int("0x1F") == 31);
  CHECK(yaml_int("0o17") == 15);
  CHECK(yaml_int("017") == 15);  // a leading zero is octal
  CHECK(yaml_int("0b101") == 5);
  CHECK(yaml_int("0") == 0);
  CHECK(yaml_int("-9223372036854775808") == INT64_MIN);
  CHECK_FALSE(yaml_int("9223372036854775808"));
  CHECK_FALSE(yaml_int("08"));
  CHECK_FALSE(yaml_int("1.5"));
  CHECK_FALSE(yaml_int("0x"));
  CHECK_FALSE(yaml_int(""));
  CHECK_FALSE(yaml_int("ten"));
}

TEST_CASE("yaml: !!binary scalars are their decoded bytes, as Go's yaml reads them") {
  auto doc = parse_yaml("a: !!binary aGVsbG8=\nb: !!binary \"/w==\"\nc: !!binary |\n  aGVs\n  bG8=\n");
  REQUIRE_MESSAGE(doc.has_value(), doc.error().message);
  auto kids = doc->children(*doc->root());
  CHECK(doc->value(*kids[1]) == "hello");
  CHECK(doc->value(*kids[3]) == "\xff");
  CHECK(doc->resolved_tag(*kids[3]) == "!!str");
  CHECK(doc->value(*kids[5]) == "hello");
  for (const char* bad : {"x: !!binary /w==$1\n", "x: !!binary abc\n", "x: !!binary a=bc\n"}) {
    CAPTURE(bad);
    auto r = parse_yaml(bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message == "!!binary value contains invalid base64 data");
    CHECK(r.error().line == 1);
  }
}
