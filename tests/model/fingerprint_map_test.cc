// The flat fingerprint map against std::unordered_map over random inserts,
// overwrites and erases (small key ranges, so probe runs collide and wrap).
#include <doctest/doctest.h>

#include <memory>
#include <random>
#include <unordered_map>

#include "model/fingerprint_map.h"

using namespace vigil;

TEST_CASE("fingerprint map: behaves as a hash map under random operations") {
  for (uint64_t range : {16ULL, 200ULL, 5000ULL}) {
    std::mt19937_64 rng(range);
    FingerprintMap<std::shared_ptr<int>> m;
    std::unordered_map<uint64_t, int> ref;
    for (int step = 0; step < 20000; ++step) {
      // Keys sharing low or high bits, as fingerprints never do, stress probing.
      uint64_t key = (rng() % range) * ((step & 1) ? 1 : (1ULL << 40));
      switch (rng() % 3) {
        case 0:
        case 1: {
          int v = static_cast<int>(rng() % 1000);
          auto& s = m.slot(key);
          s = std::make_shared<int>(v);
          ref[key] = v;
          break;
        }
        default:
          CHECK(m.erase(key) == (ref.erase(key) == 1));
      }
      if (step % 997 == 0) {
        REQUIRE(m.size() == ref.size());
        for (const auto& [k, v] : ref) {
          auto* p = m.find(k);
          REQUIRE(p);
          CHECK(**p == v);
        }
        size_t seen = 0;
        m.for_each([&](uint64_t k, const std::shared_ptr<int>& v) {
          ++seen;
          CHECK(ref.at(k) == *v);
        });
        CHECK(seen == ref.size());
      }
    }
  }
}

TEST_CASE("fingerprint map: key 0 and missing keys") {
  FingerprintMap<std::unique_ptr<int>> m;
  CHECK(m.find(0) == nullptr);
  CHECK_FALSE(m.erase(0));
  m.slot(0) = std::make_unique<int>(7);
  REQUIRE(m.find(0));
  CHECK(**m.find(0) == 7);
  CHECK(m.find(1) == nullptr);
  CHECK(m.erase(0));
  CHECK(m.empty());
}
