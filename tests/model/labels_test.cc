#include <doctest/doctest.h>

#include "model/labels.h"

#include <algorithm>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

using namespace vigil;

TEST_CASE("labels are sorted, unique and drop empty values") {
  Labels ls{{"job", "api"}, {"instance", "a:1"}, {"env", ""}, {"job", "web"}};
  REQUIRE(ls.size() == 2);
  CHECK(ls[0].name == "instance");
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

namespace {
// FNV-1a 64 over name, 0xff, value, 0xff of each label, written out here
// independently of the library.
uint64_t expected_fnv(const std::vector<Label>& sorted) {
  uint64_t h = 14695981039346656037ULL;
  auto add = [&](unsigned char c) {
    h ^= c;
    h *= 1099511628211ULL;
  };
  for (const auto& l : sorted) {
    for (unsigned char c : l.name) add(c);
    add(0xff);
    for (unsigned char c : l.value) add(c);
    add(0xff);
  }
  return h;
}
}  // namespace

TEST_CASE("hash and fingerprint are FNV-1a over name, 0xff, value, 0xff") {
  CHECK(Labels{{"a", "1"}}.hash() == 15256350014033025077ULL);
  CHECK(Labels{{"zone", "eu"}, {"job", "api"}}.fingerprint() == 872099051876258210ULL);
  std::vector<Label> in{{"alertname", "BenchAlert01"}, {"cluster", "cluster-0001"}, {"instance", "host-0000001:9100"},
                        {"job", "bench"}, {"service", "svc-01"}, {"severity", "warning"}};
  Labels ls(in);
  CHECK(ls.hash() == expected_fnv(in));
  CHECK(ls.fingerprint() == ls.hash());
  CHECK(Labels{}.hash() == expected_fnv({}));
}

TEST_CASE("the empty set iterates nothing and finds nothing") {
  Labels e;
  CHECK(e.empty());
  CHECK(e.size() == 0);
  CHECK(e.begin() == e.end());
  CHECK(std::distance(e.begin(), e.end()) == 0);
  CHECK(e.get("a").empty());
  CHECK(e.to_vector().empty());
  CHECK(e.to_string() == "{}");
  Labels dropped{{"a", ""}, {"b", ""}};
  CHECK(dropped.empty());
  CHECK(dropped.same_storage(e));
}

TEST_CASE("labels iterate in name order as views") {
  Labels ls{{"zeta", "26"}, {"alpha", "1"}, {"mu", "12"}, {"beta", "2"}};
  std::vector<std::string> names;
  for (const LabelView l : ls) names.emplace_back(l.name);
  CHECK(names == std::vector<std::string>{"alpha", "beta", "mu", "zeta"});
  // Random access both ways.
  auto it = ls.begin();
  CHECK(ls.end() - it == 4);
  CHECK(it[2].name == "mu");
  CHECK((it + 3)->value == "26");
  CHECK((ls.end() - 1)->name == "zeta");
  --(it += 2);
  CHECK(it->name == "beta");
  CHECK(ls[3] == LabelView("zeta", "26"));
  CHECK(std::is_sorted(ls.begin(), ls.end(), [](LabelView a, LabelView b) { return a.name < b.name; }));
  std::vector<Label> owned = ls.to_vector();
  REQUIRE(owned.size() == 4);
  CHECK(owned[0] == Label{"alpha", "1"});
  CHECK(owned[3] == Label{"zeta", "26"});
}

TEST_CASE("get finds present names and misses absent ones") {
  Labels ls{{"job", "api"}, {"instance", "a:1"}, {"j", "x"}, {"jobs", "y"}};
  CHECK(ls.get("job") == "api");
  CHECK(ls.get("j") == "x");
  CHECK(ls.get("jobs") == "y");
  CHECK(ls.get("instance") == "a:1");
  CHECK(ls.get("jo").empty());
  CHECK(ls.get("").empty());
  CHECK(ls.get("zzz").empty());
  CHECK(ls.has("job"));
  CHECK_FALSE(ls.has("missing"));
  // A set large enough to be searched by bisection.
  std::vector<Label> many;
  for (int i = 0; i < 40; ++i) many.push_back({"name" + std::to_string(100 + i), "v" + std::to_string(i)});
  Labels big(many);
  REQUIRE(big.size() == 40);
  for (int i = 0; i < 40; ++i) CHECK(big.get("name" + std::to_string(100 + i)) == "v" + std::to_string(i));
  CHECK(big.get("name099").empty());
  CHECK(big.get("name1400").empty());
  CHECK(big.get("zz").empty());
  CHECK(big.get("a").empty());
}

TEST_CASE("repeated names keep the last value and empty values are dropped") {
  Labels ls{{"b", "1"}, {"a", "x"}, {"b", "2"}, {"c", ""}, {"a", ""}, {"b", "3"}};
  REQUIRE(ls.size() == 1);
  CHECK(ls.get("b") == "3");
  CHECK_FALSE(ls.has("a"));
  CHECK(ls.to_string() == "{b=\"3\"}");
  // The last one wins even when it is empty, which drops the name.
  Labels gone{{"a", "1"}, {"a", ""}};
  CHECK(gone.empty());
}

TEST_CASE("label sets build from string_view pairs") {
  std::string text = "job=api,instance=a:1,job=web,env=";
  std::vector<LabelView> views{{std::string_view(text).substr(0, 3), std::string_view(text).substr(4, 3)},
                               {"instance", "a:1"},
                               {"job", "web"},
                               {"env", ""}};
  Labels ls(views);
  text.assign(text.size(), '#');  // the set owns its text
  CHECK(ls.to_string() == "{instance=\"a:1\", job=\"web\"}");
  CHECK(ls == Labels{{"job", "web"}, {"instance", "a:1"}});
  CHECK(ls.hash() == Labels{{"job", "web"}, {"instance", "a:1"}}.hash());
  // Already in order.
  std::vector<LabelView> sorted{{"a", "1"}, {"b", "2"}};
  CHECK(Labels(sorted).to_string() == "{a=\"1\", b=\"2\"}");
  CHECK(Labels(std::vector<LabelView>{}).empty());
}

TEST_CASE("values longer than 64 KiB are kept whole") {
  std::string big(70000, 'v');
  big.back() = 'z';
  std::string huge(200000, 'h');
  std::string long_name(66000, 'n');
  Labels ls{{"a", "1"}, {"big", big}, {long_name, "x"}, {"z", huge}};
  REQUIRE(ls.size() == 4);
  CHECK(ls.get("big") == big);
  CHECK(ls.get("z") == huge);
  CHECK(ls.get(long_name) == "x");
  CHECK(ls.get("a") == "1");
  CHECK(ls[1].value.size() == 70000);
  CHECK(ls[2].name.size() == 66000);
  CHECK(ls.hash() == expected_fnv({{"a", "1"}, {"big", big}, {long_name, "x"}, {"z", huge}}));
  Labels same{{"z", huge}, {"big", big}, {long_name, "x"}, {"a", "1"}};
  CHECK(ls == same);
  CHECK_FALSE(ls.same_storage(same));
  Labels shorter{{"a", "1"}, {"big", big.substr(1)}, {long_name, "x"}, {"z", huge}};
  CHECK_FALSE(ls == shorter);
}

TEST_CASE("copies share storage and compare equal") {
  Labels a{{"job", "api"}, {"instance", "a:1"}};
  Labels b = a;
  CHECK(b.same_storage(a));
  CHECK(b == a);
  CHECK(b.hash() == a.hash());
  Labels c{{"instance", "a:1"}, {"job", "api"}};
  CHECK_FALSE(c.same_storage(a));
  CHECK(c == a);
  Labels moved = std::move(b);
  CHECK(moved.same_storage(a));
  CHECK(b.empty());  // NOLINT(bugprone-use-after-move): a moved-from set is empty
  b = moved;
  CHECK(b.same_storage(a));
  a = Labels{};
  CHECK(b.get("job") == "api");
  // Copies made and dropped on several threads leave the set intact.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&moved] {
      for (int i = 0; i < 10000; ++i) {
        Labels copy = moved;
        (void)copy.size();
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(moved.to_string() == "{instance=\"a:1\", job=\"api\"}");
}

TEST_CASE("sets order by names then values then size") {
  CHECK(Labels{{"a", "1"}} < Labels{{"a", "2"}});
  CHECK(Labels{{"a", "2"}} < Labels{{"b", "1"}});
  CHECK(Labels{{"a", "1"}} < Labels{{"a", "1"}, {"b", "1"}});
  CHECK_FALSE(Labels{{"a", "1"}} < Labels{{"a", "1"}});
  CHECK(Labels{} < Labels{{"a", "1"}});
}

TEST_CASE("the builder shares the base when nothing changes") {
  Labels base{{"a", "1"}, {"b", "2"}};
  CHECK(LabelsBuilder(base).build().same_storage(base));
  CHECK(LabelsBuilder(base).del("missing").build().same_storage(base));
  CHECK(LabelsBuilder(base).set("a", "1").build().same_storage(base));
  Labels out = LabelsBuilder(base).set("a", "x").set("_first", "1").set("c", "3").del("b").build();
  CHECK(out.to_string() == "{_first=\"1\", a=\"x\", c=\"3\"}");
  CHECK(out.hash() == Labels{{"_first", "1"}, {"a", "x"}, {"c", "3"}}.hash());
  // A later set overrides an earlier delete and the other way round.
  CHECK(LabelsBuilder(base).del("a").set("a", "9").build().get("a") == "9");
  CHECK(LabelsBuilder(base).set("z", "9").del("z").build() == base);
  CHECK(LabelsBuilder().set("x", "1").build().to_string() == "{x=\"1\"}");
}
