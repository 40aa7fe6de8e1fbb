#include <doctest/doctest.h>

#include "model/labels.h"

using namespace vigil;

TEST_CASE("labels are sorted, unique and drop empty values") {
  Labels ls{{"job", "api"}, {"instance", "a:1"}, {"env", ""}, {"job", "web"}};
  REQUIRE(ls.size() == 2);
  CHECK(ls.items()[0].name == "instance");
  CHECK(ls.get("job") == "web");
  CHECK(ls.get("env").empty());
  CHECK_FALSE(ls.has("missing"));
  CHECK(ls.to_string() == "{instance=\"a:1\", job=\"web\"}");
}

TEST_CASE("equal label sets hash equally regardless of input order") {
  Labels a{{"a", "1"}, {"b", "2"}};
  Labels b{{"b", "2"}, {"a", "1"}};
  CHECK(a == b);
  CHECK(a.hash() == b.hash());
  Labels c{{"a", "1"}, {"b", "3"}};
  CHECK_FALSE(a == c);
  CHECK(a < c);
}

TEST_CASE("fingerprint is FNV-1a 64 as Alertmanager computes it") {
  // The empty set hashes to the FNV offset basis.
  CHECK(Labels{}.fingerprint() == 14695981039346656037ULL);
  // Separator bytes keep {a="bc"} and {ab="c"} apart.
  CHECK(Labels{{"a", "bc"}}.fingerprint() != Labels{{"ab", "c"}}.fingerprint());
}

TEST_CASE("builder sets and deletes") {
  Labels base{{"a", "1"}, {"b", "2"}};
  Labels out = LabelsBuilder(base).set("c", "3").del("a").set("b", "").build();
  CHECK(out.to_string() == "{c=\"3\"}");
  CHECK(base.size() == 2);
}

TEST_CASE("non-classic label names are quoted when printed") {
  Labels ls{{"service.name", "x"}};
  CHECK(ls.to_string() == "{\"service.name\"=\"x\"}");
}

TEST_CASE("an empty label set equals one built from no labels") {
  vigil::Labels a;
  vigil::Labels b{std::vector<vigil::Label>{}};
  vigil::Labels c{{"x", ""}};  // empty values are dropped
  CHECK(a == b);
  CHECK(a == c);
  CHECK(a.hash() == c.hash());
}
