#include "templates/value.h"

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>

namespace vigil::templates {

const Method* Type::find_method(std::string_view n) const {
  for (const auto& m : methods) {
    if (m.name == n) return &m;
  }
  if (kind == Kind::kPointer && elem) return elem->find_method(n);
  return nullptr;
}

namespace {

// Types are never freed: values point at them from anywhere.
std::deque<Type>& type_store() {
  static std::deque<Type> store;
  return store;
}
std::mutex& type_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace

Type* make_mutable_type(Kind kind, std::string name, std::string underlying, const Type* elem) {
  std::lock_guard lock(type_mutex());
  Type& t = type_store().emplace_back();
  t.kind = kind;
  t.underlying = std::move(underlying);
  t.name = name.empty() ? t.underlying : std::move(name);
  t.elem = elem;
  return &t;
}

const Type* make_type(Kind kind, std::string name, std::string underlying, const Type* elem) {
  return make_mutable_type(kind, std::move(name), std::move(underlying), elem);
}

const Type* bool_type() {
  static const Type* t = make_type(Kind::kBool, "", "bool");
  return t;
}
const Type* int_type() {
  static const Type* t = make_type(Kind::kInt, "", "int");
  return t;
}
const Type* int64_type() {
  static const Type* t = make_type(Kind::kInt, "", "int64");
  return t;
}
const Type* uint64_type() {
  static const Type* t = make_type(Kind::kUint, "", "uint64");
  return t;
}
const Type* float64_type() {
  static const Type* t = make_type(Kind::kFloat, "", "float64");
  return t;
}
const Type* string_type() {
  static const Type* t = make_type(Kind::kString, "", "string");
  return t;
}
const Type* any_type() {
  static const Type* t = make_type(Kind::kInterface, "", "interface {}");
  return t;
}

namespace {

// Unnamed composite types are interned by spelling so that equal spellings are
// one type, as in Go.
const Type* interned(Kind kind, const std::string& spelling, const Type* elem) {
  static std::map<std::string, const Type*> cache;
  static std::mutex m;
  std::lock_guard lock(m);
  auto it = cache.find(spelling);
  if (it != cache.end()) return it->second;
  const Type* t = make_type(kind, "", spelling, elem);
  cache.emplace(spelling, t);
  return t;
}

}  // namespace

const Type* pointer_to(const Type* t) { return interned(Kind::kPointer, "*" + t->name, t); }
const Type* slice_of(const Type* t) { return interned(Kind::kSlice, "[]" + t->name, t); }
const Type* string_slice_type() { return slice_of(string_type()); }
const Type* any_slice_type() { return slice_of(any_type()); }
const Type* string_map_type() {
  static const Type* t = interned(Kind::kMap, "map[string]string", string_type());
  return t;
}
const Type* any_map_type() {
  static const Type* t = interned(Kind::kMap, "map[string]interface {}", any_type());
  return t;
}

bool assignable(const Type* from, const Type* to) {
  if (from == to || to->kind == Kind::kInterface) return true;
  bool from_named = from->name != from->underlying;
  bool to_named = to->name != to->underlying;
  // Identical underlying types, and at least one side unnamed. Predeclared
  // types (string, int, ...) count as named.
  auto predeclared = [](const Type* t) {
    return t->kind != Kind::kSlice && t->kind != Kind::kMap && t->kind != Kind::kPointer &&
           t->kind != Kind::kFunc && t->kind != Kind::kStruct;
  };
  if (predeclared(from)) from_named = true;
  if (predeclared(to)) to_named = true;
  return from->underlying == to->underlying && (!from_named || !to_named);
}

Value Value::boolean(bool b) {
  Value v;
  v.type_ = bool_type();
  v.i_ = b;
  return v;
}

Value Value::integer(int64_t i, const Type* t) {
  Value v;
  v.type_ = t ? t : int_type();
  v.i_ = i;
  return v;
}

Value Value::uinteger(uint64_t u, const Type* t) {
  Value v;
  v.type_ = t ? t : uint64_type();
  v.i_ = static_cast<int64_t>(u);
  return v;
}

Value Value::floating(double f, const Type* t) {
  Value v;
  v.type_ = t ? t : float64_type();
  v.f_ = f;
  return v;
}

Value Value::string(std::string s, const Type* t) {
  Value v;
  v.type_ = t ? t : string_type();
  v.s_ = std::move(s);
  return v;
}

Value Value::slice(std::vector<Value> items, const Type* t) {
  Value v;
  v.type_ = t;
  auto c = std::make_shared<Compound>();
  c->items = std::move(items);
  v.c_ = std::move(c);
  return v;
}

Value Value::strings(const std::vector<std::string>& items, const Type* t) {
  std::vector<Value> vs;
  vs.reserve(items.size());
  for (const auto& s : items) vs.push_back(Value::string(s));
  return slice(std::move(vs), t ? t : string_slice_type());
}

Value Value::map(MapEntries entries, const Type* t) {
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  // Keep the last of equal keys.
  MapEntries unique;
  unique.reserve(entries.size());
  for (auto& e : entries) {
    if (!unique.empty() && unique.back().first == e.first) {
      unique.back().second = std::move(e.second);
    } else {
      unique.push_back(std::move(e));
    }
  }
  Value v;
  v.type_ = t;
  auto c = std::make_shared<Compound>();
  c->entries = std::move(unique);
  v.c_ = std::move(c);
  return v;
}

Value Value::structure(std::vector<Value> fields, const Type* t) {
  Value v = slice(std::move(fields), t);
  return v;
}

Value Value::pointer(Value target, const Type* t) {
  Value v;
  v.type_ = t;
  auto c = std::make_shared<Compound>();
  c->items.push_back(std::move(target));
  v.c_ = std::move(c);
  return v;
}

Value Value::nil_of(const Type* t) {
  Value v;
  v.type_ = t;
  return v;
}

Value Value::function(Callable fn, Signature sig, const Type* t) {
  Value v;
  v.type_ = t;
  auto c = std::make_shared<Compound>();
  c->fn = std::move(fn);
  c->sig = std::move(sig);
  v.c_ = std::move(c);
  return v;
}

Value Value::native(std::shared_ptr<const void> data, const Type* t) {
  Value v;
  v.type_ = t;
  auto c = std::make_shared<Compound>();
  c->native = std::move(data);
  v.c_ = std::move(c);
  return v;
}

size_t Value::size() const {
  if (!c_) return kind() == Kind::kString ? s_.size() : 0;
  return kind() == Kind::kMap ? c_->entries.size() : c_->items.size();
}

const std::vector<Value>& Value::items() const {
  static const std::vector<Value> empty;
  return c_ ? c_->items : empty;
}

const MapEntries& Value::entries() const {
  static const MapEntries empty;
  return c_ ? c_->entries : empty;
}

const Value* Value::find(std::string_view key) const {
  const MapEntries& es = entries();
  auto it = std::lower_bound(es.begin(), es.end(), key,
                             [](const auto& e, std::string_view k) { return e.first < k; });
  if (it == es.end() || it->first != key) return nullptr;
  return &it->second;
}

const Value* Value::field(std::string_view name) const {
  if (kind() != Kind::kStruct || !c_) return nullptr;
  const auto& names = type_->fields;
  for (size_t i = 0; i < names.size() && i < c_->items.size(); ++i) {
    if (names[i] == name) return &c_->items[i];
  }
  return nullptr;
}

bool Value::is_nil() const {
  switch (kind()) {
    case Kind::kPointer:
    case Kind::kFunc:
    case Kind::kSlice:
    case Kind::kMap:
      return !c_;
    default:
      return false;
  }
}

const Value& Value::pointee() const {
  static const Value invalid;
  if (kind() != Kind::kPointer || !c_ || c_->items.empty()) return invalid;
  return c_->items[0];
}

const Callable* Value::callable() const { return c_ && c_->fn ? &c_->fn : nullptr; }
const Signature* Value::signature() const { return c_ ? &c_->sig : nullptr; }

bool is_true(const Value& v, bool* ok) {
  if (ok) *ok = true;
  switch (v.kind()) {
    case Kind::kInvalid: return false;
    case Kind::kBool: return v.as_bool();
    case Kind::kInt:
    case Kind::kUint: return v.as_int() != 0;
    case Kind::kFloat: return v.as_float() != 0;
    case Kind::kString: return !v.as_string().empty();
    case Kind::kSlice:
    case Kind::kMap: return v.size() > 0;
    case Kind::kStruct: return true;
    case Kind::kPointer:
    case Kind::kFunc: return !v.is_nil();
    case Kind::kInterface:
      if (ok) *ok = false;
      return false;
  }
  return false;
}

const Value& indirect(const Value& v, bool* was_nil) {
  if (was_nil) *was_nil = false;
  const Value* p = &v;
  while (p->kind() == Kind::kPointer) {
    if (p->is_nil()) {
      if (was_nil) *was_nil = true;
      return *p;
    }
    p = &p->pointee();
  }
  return *p;
}

bool has_stringer(const Type* t) {
  if (!t) return false;
  const Method* m = t->find_method("String");
  return m && m->sig.params.empty();
}

}  // namespace vigil::templates
