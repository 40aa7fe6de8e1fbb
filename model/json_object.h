#pragma once

// Filling nlohmann::ordered_json objects from pairs whose names are already
// distinct (a label set, a template.KV). ordered_json's operator[] and
// emplace compare a new key with every member before it, so an object of n
// labels built that way costs n² string comparisons: one alert with 64 k
// labels took 17 s to become a webhook body.

#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace vigil {

// Appends a member without looking for one of the same name: the caller
// knows `key` is not in `object` yet. `object` must be an object.
inline void append_new_member(nlohmann::ordered_json& object, std::string key, nlohmann::ordered_json value) {
  using Members = nlohmann::ordered_json::object_t;
  static_cast<Members::Container&>(object.get_ref<Members&>()).emplace_back(std::move(key), std::move(value));
}

// An object of `pairs` (anything iterating as .name/.value or .first/.second
// of distinct names), in their order.
template <typename Pairs>
nlohmann::ordered_json object_of_distinct(const Pairs& pairs) {
  nlohmann::ordered_json o = nlohmann::ordered_json::object();
  auto& members = o.get_ref<nlohmann::ordered_json::object_t&>();
  for (const auto& p : pairs) {
    if constexpr (requires { p.name; }) {
      static_cast<nlohmann::ordered_json::object_t::Container&>(members).emplace_back(std::string(p.name),
                                                                                      std::string(p.value));
    } else {
      static_cast<nlohmann::ordered_json::object_t::Container&>(members).emplace_back(std::string(p.first),
                                                                                      std::string(p.second));
    }
  }
  return o;
}

}  // namespace vigil
