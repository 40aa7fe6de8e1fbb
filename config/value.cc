#include "config/value.h"

#include <algorithm>

namespace vigil::config {

ConfigValue ConfigValue::boolean(bool b) {
  ConfigValue v;
  v.kind_ = Kind::Bool;
  v.b_ = b;
  return v;
}

ConfigValue ConfigValue::integer(int64_t i) {
  ConfigValue v;
  v.kind_ = Kind::Int;
  v.i_ = i;
  return v;
}

ConfigValue ConfigValue::number(double d) {
  ConfigValue v;
  v.kind_ = Kind::Float;
  v.d_ = d;
  return v;
}

ConfigValue ConfigValue::string(std::string s) {
  ConfigValue v;
  v.kind_ = Kind::String;
  v.s_ = std::move(s);
  return v;
}

ConfigValue ConfigValue::list() {
  ConfigValue v;
  v.kind_ = Kind::List;
  return v;
}

ConfigValue ConfigValue::map() {
  ConfigValue v;
  v.kind_ = Kind::Map;
  return v;
}

const ConfigValue* ConfigValue::find(std::string_view key) const {
  for (const auto& [k, v] : entries_)
    if (k == key) return &v;
  return nullptr;
}

ConfigValue* ConfigValue::find(std::string_view key) {
  for (auto& [k, v] : entries_)
    if (k == key) return &v;
  return nullptr;
}

void ConfigValue::set(std::string key, ConfigValue v) {
  if (ConfigValue* old = find(key)) {
    *old = std::move(v);
    return;
  }
  entries_.emplace_back(std::move(key), std::move(v));
}

void ConfigValue::erase(std::string_view key) {
  std::erase_if(entries_, [&](const auto& e) { return e.first == key; });
}

std::string_view ConfigValue::str(std::string_view key) const {
  const ConfigValue* v = find(key);
  return v && v->kind_ == Kind::String ? std::string_view(v->s_) : std::string_view();
}

bool ConfigValue::flag(std::string_view key) const {
  const ConfigValue* v = find(key);
  return v && v->kind_ == Kind::Bool && v->b_;
}

int64_t ConfigValue::num(std::string_view key) const {
  const ConfigValue* v = find(key);
  return v && v->kind_ == Kind::Int ? v->i_ : 0;
}

bool ConfigValue::has(std::string_view key) const {
  const ConfigValue* v = find(key);
  if (v == nullptr || v->is_null()) return false;
  return v->kind_ != Kind::String || !v->s_.empty();
}

bool ConfigValue::present(std::string_view key) const {
  const ConfigValue* v = find(key);
  return v != nullptr && !v->is_null();
}

int ConfigValue::count_set(std::initializer_list<std::string_view> keys) const {
  int n = 0;
  for (auto k : keys) n += has(k) ? 1 : 0;
  return n;
}

}  // namespace vigil::config
