#include <doctest/doctest.h>

#include <string>

#include "model/yaml.h"

using namespace vigil;

TEST_CASE("yaml: mappings, sequences, scalars with positions") {
  auto doc = yaml::parse(
      "groups:\n"
      "  - name: a\n"
      "    rules:\n"
      "      - record: x\n"
      "        expr: |\n"
      "          sum(\n"
      "            y)\n"
      "        labels: {a: '1', b: \"two\"}\n");
  REQUIRE(doc.has_value());
  const auto* root = doc->root();
  REQUIRE(root->is_mapping());
  const auto* groups = root->get("groups");
  REQUIRE(groups->is_sequence());
  const auto* g = groups->items[0];
  CHECK(g->get("name")->value == "a");
  CHECK(g->get("name")->line == 2);
  CHECK(g->get("name")->column == 11);
  const auto* rule = g->get("rules")->items[0];
  CHECK(rule->get("expr")->value == "sum(\n  y)\n");
  CHECK_FALSE(rule->get("expr")->plain);
  CHECK(rule->get("labels")->get("b")->value == "two");
  CHECK(rule->get("missing") == nullptr);
}

TEST_CASE("yaml: nulls and empty input") {
  auto empty = yaml::parse("");
  REQUIRE(empty.has_value());
  CHECK(empty->root() == nullptr);
  auto doc = yaml::parse("a: ~\nb:\nc: null\nd: 'null'\n");
  REQUIRE(doc.has_value());
  CHECK(doc->root()->get("a")->is_null());
  CHECK(doc->root()->get("b")->is_null());
  CHECK(doc->root()->get("c")->is_null());
  CHECK_FALSE(doc->root()->get("d")->is_null());
}

TEST_CASE("yaml: syntax errors give line and column") {
  auto bad = yaml::parse("a: [1, 2\nb: 3\n");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().line >= 1);
  CHECK(bad.error().message.find("yaml: line") == 0);
  auto tab = yaml::parse("a:\n\t- b\n");
  CHECK_FALSE(tab.has_value());
}

TEST_CASE("yaml: repeated keys are an error") {
  auto dup = yaml::parse("a: 1\nb: 2\na: 3\n");
  REQUIRE_FALSE(dup.has_value());
  CHECK(dup.error().message == "yaml: mapping key \"a\" already defined");
  CHECK(dup.error().line == 3);
}

TEST_CASE("yaml: anchors, aliases and merge keys") {
  auto doc = yaml::parse(
      "base: &b {x: 1, y: 2}\n"
      "ref: *b\n"
      "merged:\n"
      "  <<: *b\n"
      "  y: 3\n");
  REQUIRE(doc.has_value());
  CHECK(doc->root()->get("ref")->get("x")->value == "1");
  const auto* m = doc->root()->get("merged");
  CHECK(m->get("x")->value == "1");
  CHECK(m->get("y")->value == "3");
  CHECK(m->entries.size() == 2);
  CHECK_FALSE(yaml::parse("a: *nope\n").has_value());
}

TEST_CASE("yaml: alias bombs and deep nesting are refused, not expanded") {
  std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 12; ++i) {
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) bomb += (k ? ", *a" : "*a") + std::to_string(i - 1);
    bomb += "]\n";
  }
  auto r = yaml::parse(bomb);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message == "yaml: document contains excessive aliasing");

  std::string deep(100000, '[');
  auto d = yaml::parse(deep);
  REQUIRE_FALSE(d.has_value());
  CHECK(d.error().message.find("nesting deeper than") != std::string::npos);
}

TEST_CASE("yaml: binary garbage is an error, not a crash") {
  std::string g(8192, '\0');
  for (size_t i = 0; i < g.size(); ++i) g[i] = static_cast<char>((i * 7919 + 13) % 251);
  CHECK_FALSE(yaml::parse(g).has_value());
  CHECK_FALSE(yaml::parse("\xff\xfe\x00").has_value());
}

TEST_CASE("yaml: only the first document is read") {
  auto doc = yaml::parse("a: 1\n---\nb: 2\n");
  REQUIRE(doc.has_value());
  CHECK(doc->root()->get("a") != nullptr);
  CHECK(doc->root()->get("b") == nullptr);
}
