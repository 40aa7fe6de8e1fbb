#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/error.h"

namespace vigil::templates {

// Templates see data the way Go's reflect sees it: every value has a type with
// a kind, a Go spelling for messages ("template.KV", "[]string"), and a method
// set. Only the kinds Prometheus' and Alertmanager's data and functions use
// exist here; maps always have string keys.
enum class Kind : uint8_t {
  kInvalid,    // Go's invalid reflect.Value: a missing value, printed "<no value>"
  kBool,
  kInt,        // int, int64, time.Duration, time.Month, ...
  kUint,
  kFloat,
  kString,
  kSlice,
  kMap,
  kStruct,     // fields by name; opaque natives (time.Time) have none
  kPointer,
  kFunc,
  kInterface,  // only as a parameter or element type: interface{} accepts anything
};

class Value;
struct Type;
class ExecEnv;

// What a function or method receives: its evaluated arguments, and the
// caller-supplied environment of this execution (may be null).
struct CallArgs {
  std::span<const Value> args;
  const ExecEnv* env = nullptr;
  // For the builtin call: its function argument as written (or, when piped
  // in, the value's string), which its errors name.
  std::string_view callee = {};
};

// Returns the result, or an error message Go would wrap as
// "error calling NAME: MESSAGE".
using Callable = std::function<Result<Value>(const CallArgs&)>;

// A Go function signature: parameter types (the last is the element type of a
// variadic parameter when `variadic`), and whether a second, error, result
// exists. Text/template checks arity and assignability against it.
struct Signature {
  std::vector<const Type*> params;
  bool variadic = false;
};

struct Method {
  std::string name;
  Signature sig;
  // args[0] is the receiver; the rest are the method's arguments.
  Callable fn;
};

struct Type {
  std::string name;        // Go spelling, e.g. "template.KV", "*template.sample"
  Kind kind = Kind::kInvalid;
  const Type* elem = nullptr;  // slice/map element or pointer target
  std::string underlying;  // spelling of the underlying type; == name when unnamed
  std::vector<std::string> fields;  // struct fields in declaration order
  std::vector<std::string> unexported;  // struct fields templates may not read
  std::vector<std::string> json_fields;  // names encoding/json uses (tags), if not `fields`
  std::vector<Method> methods;      // value-receiver method set

  const Method* find_method(std::string_view n) const;
};

// Creating types: they live for the program's lifetime and are compared by
// address. `name` empty means the type is unnamed (its name is `underlying`).
const Type* make_type(Kind kind, std::string name, std::string underlying,
                      const Type* elem = nullptr);
Type* make_mutable_type(Kind kind, std::string name, std::string underlying,
                        const Type* elem = nullptr);

// Predeclared and common types.
const Type* bool_type();
const Type* int_type();
const Type* int64_type();
const Type* uint64_type();
const Type* float64_type();
const Type* string_type();
const Type* any_type();         // interface {}
const Type* string_slice_type();  // []string
const Type* any_slice_type();     // []interface {}
const Type* string_map_type();    // map[string]string
const Type* any_map_type();       // map[string]interface {}
const Type* pointer_to(const Type* t);
const Type* slice_of(const Type* t);

// Go assignability, as text/template applies it to arguments.
bool assignable(const Type* from, const Type* to);

using MapEntries = std::vector<std::pair<std::string, Value>>;

class Value {
 public:
  Value() = default;  // invalid

  static Value boolean(bool b);
  static Value integer(int64_t i, const Type* t = nullptr);
  static Value uinteger(uint64_t u, const Type* t = nullptr);
  static Value floating(double f, const Type* t = nullptr);
  static Value string(std::string s, const Type* t = nullptr);
  static Value slice(std::vector<Value> items, const Type* t);
  static Value strings(const std::vector<std::string>& items, const Type* t = nullptr);
  // Entries are sorted by key here; a later duplicate key wins.
  static Value map(MapEntries entries, const Type* t);
  static Value strmap(MapEntries entries) { return map(std::move(entries), string_map_type()); }
  static Value structure(std::vector<Value> fields, const Type* t);
  static Value pointer(Value target, const Type* t);  // t is the pointer type
  static Value nil_of(const Type* t);
  static Value function(Callable fn, Signature sig, const Type* t);
  // An opaque value of a struct type implemented natively (time.Time).
  static Value native(std::shared_ptr<const void> data, const Type* t);

  bool valid() const { return type_ != nullptr; }
  const Type* type() const { return type_; }
  Kind kind() const { return type_ ? type_->kind : Kind::kInvalid; }

  bool as_bool() const { return i_ != 0; }
  int64_t as_int() const { return i_; }
  uint64_t as_uint() const { return static_cast<uint64_t>(i_); }
  double as_float() const { return f_; }
  const std::string& as_string() const { return s_; }

  // Slices, maps, structs.
  size_t size() const;
  const std::vector<Value>& items() const;  // slice elements or struct fields
  const MapEntries& entries() const;
  const Value* find(std::string_view key) const;  // map lookup
  const Value* field(std::string_view name) const;

  bool is_nil() const;                 // nil pointer, slice, map or func
  const Value& pointee() const;        // pointer target; invalid when nil
  const Callable* callable() const;
  const Signature* signature() const;
  template <typename T>
  const T* native() const {
    return c_ ? static_cast<const T*>(c_->native.get()) : nullptr;
  }

 private:
  struct Compound {
    std::vector<Value> items;
    MapEntries entries;
    std::shared_ptr<const void> native;
    Callable fn;
    Signature sig;
  };

  const Type* type_ = nullptr;
  int64_t i_ = 0;
  double f_ = 0;
  std::string s_;
  std::shared_ptr<const Compound> c_;
};

// Go's truth for if/with/and/or/not: false, 0, nil, empty string/slice/map
// are false; structs are true. `ok` is false for values without a truth
// (functions are treated as non-nil).
bool is_true(const Value& v, bool* ok = nullptr);

// Follows pointers to the value they point at; *was_nil is set when a nil
// pointer stopped the walk (the nil pointer itself is returned).
const Value& indirect(const Value& v, bool* was_nil = nullptr);

// Calls the String() method a type may have (fmt.Stringer). Empty when absent.
bool has_stringer(const Type* t);

}  // namespace vigil::templates
