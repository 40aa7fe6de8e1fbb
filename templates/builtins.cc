// Go's text/template built-in functions.
#include <fmt/format.h>

#include "net/url.h"
#include "templates/escape.h"
#include "templates/go_fmt.h"
#include "templates/template.h"

namespace vigil::templates {

namespace {

enum class Basic { kInvalid, kBool, kInt, kUint, kFloat, kString };

Basic basic_kind(const Value& v) {
  switch (v.kind()) {
    case Kind::kBool: return Basic::kBool;
    case Kind::kInt: return Basic::kInt;
    case Kind::kUint: return Basic::kUint;
    case Kind::kFloat: return Basic::kFloat;
    case Kind::kString: return Basic::kString;
    default: return Basic::kInvalid;
  }
}

bool is_nil_value(const Value& v) { return !v.valid() || v.is_nil(); }

bool comparable(const Type* t) {
  switch (t->kind) {
    case Kind::kSlice: case Kind::kMap: case Kind::kFunc: return false;
    case Kind::kStruct:
      return t->fields.empty() || t->name == "time.Time";
    default: return true;
  }
}

// == for the comparable non-basic values (pointers, opaque structs).
bool same_value(const Value& a, const Value& b) {
  if (a.type() != b.type()) return false;
  if (a.kind() == Kind::kPointer) return &a.pointee() == &b.pointee();
  return go_sprint_value(a) == go_sprint_value(b);
}

// Comparing values of different basic kinds names both types.
std::string incompatible(const Value& a, const Value& b) {
  return fmt::format("incompatible types for comparison: {} and {}", a.type()->name, b.type()->name);
}

Result<bool> eq_impl(const Value& a1, std::span<const Value> rest) {
  if (rest.empty()) return fail("missing argument for comparison");
  Basic k1 = basic_kind(a1);
  for (const Value& a : rest) {
    Basic k2 = basic_kind(a);
    bool truth = false;
    if (k1 != k2) {
      if (k1 == Basic::kInt && k2 == Basic::kUint) {
        truth = a1.as_int() >= 0 && a1.as_uint() == a.as_uint();
      } else if (k1 == Basic::kUint && k2 == Basic::kInt) {
        truth = a.as_int() >= 0 && a1.as_uint() == a.as_uint();
      } else if (a1.valid() && a.valid()) {
        return fail(incompatible(a1, a));
      }
    } else {
      switch (k1) {
        case Basic::kBool: truth = a1.as_bool() == a.as_bool(); break;
        case Basic::kInt: truth = a1.as_int() == a.as_int(); break;
        case Basic::kUint: truth = a1.as_uint() == a.as_uint(); break;
        case Basic::kFloat: truth = a1.as_float() == a.as_float(); break;
        case Basic::kString: truth = a1.as_string() == a.as_string(); break;
        case Basic::kInvalid: {
          bool can_compare = a1.kind() == a.kind() || !a1.valid() || !a.valid();
          if (!can_compare) {
            return fail(fmt::format("non-comparable types {}: {}, {}: {}", go_sprintf("%s", {&a1, 1}),
                                    a1.type()->name, a.type()->name, go_sprint_value(a)));
          }
          if (is_nil_value(a1) || is_nil_value(a)) {
            truth = is_nil_value(a) == is_nil_value(a1);
          } else {
            if (!comparable(a.type())) {
              return fail(fmt::format("non-comparable type {}: {}", go_sprintf("%s", {&a, 1}),
                                      a.type()->name));
            }
            truth = same_value(a1, a);
          }
          break;
        }
      }
    }
    if (truth) return true;
  }
  return false;
}

Result<bool> lt_impl(const Value& a1, const Value& a2) {
  Basic k1 = basic_kind(a1);
  Basic k2 = basic_kind(a2);
  if (k1 == Basic::kInvalid || k2 == Basic::kInvalid) return fail("invalid type for comparison");
  if (k1 != k2) {
    if (k1 == Basic::kInt && k2 == Basic::kUint) return a1.as_int() < 0 || a1.as_uint() < a2.as_uint();
    if (k1 == Basic::kUint && k2 == Basic::kInt) return a2.as_int() >= 0 && a1.as_uint() < a2.as_uint();
    return fail(incompatible(a1, a2));
  }
  switch (k1) {
    case Basic::kBool: return fail("invalid type for comparison");
    case Basic::kInt: return a1.as_int() < a2.as_int();
    case Basic::kUint: return a1.as_uint() < a2.as_uint();
    case Basic::kFloat: return a1.as_float() < a2.as_float();
    case Basic::kString: return a1.as_string() < a2.as_string();
    case Basic::kInvalid: break;
  }
  return fail("invalid type for comparison");
}

Result<bool> le_impl(const Value& a1, const Value& a2) {
  auto lt = lt_impl(a1, a2);
  if (!lt || *lt) return lt;
  return eq_impl(a1, {&a2, 1});
}

Result<Value> boolean(Result<bool> r) {
  if (!r) return std::unexpected(r.error());
  return Value::boolean(*r);
}

// Go's index arguments: an integer within [0, cap].
Result<int64_t> index_arg(const Value& index, size_t cap) {
  int64_t x;
  switch (index.kind()) {
    case Kind::kInt: x = index.as_int(); break;
    case Kind::kUint: x = static_cast<int64_t>(index.as_uint()); break;
    case Kind::kInvalid: return fail("cannot index slice/array with nil");
    default: return fail("cannot index slice/array with type " + index.type()->name);
  }
  if (x < 0 || static_cast<uint64_t>(x) > cap) return fail(fmt::format("index out of range: {}", x));
  return x;
}

Result<Value> index_fn(const CallArgs& c) {
  Value item = c.args[0];
  if (!item.valid()) return fail("index of untyped nil");
  for (const Value& index : c.args.subspan(1)) {
    bool was_nil;
    item = indirect(item, &was_nil);
    if (was_nil) return fail("index of nil pointer");
    switch (item.kind()) {
      case Kind::kSlice:
      case Kind::kString: {
        auto x = index_arg(index, item.size());
        if (!x) return std::unexpected(x.error());
        if (static_cast<size_t>(*x) >= item.size()) {
          return fail(item.kind() == Kind::kString ? "reflect: string index out of range"
                                                   : "reflect: slice index out of range");
        }
        if (item.kind() == Kind::kString) {
          static const Type* uint8_type = make_type(Kind::kUint, "", "uint8");
          item = Value::uinteger(static_cast<unsigned char>(item.as_string()[*x]), uint8_type);
        } else {
          item = item.items()[*x];
        }
        break;
      }
      case Kind::kMap: {
        if (!index.valid()) return fail("value is nil; should be of type string");
        if (index.kind() != Kind::kString || !assignable(index.type(), string_type())) {
          return fail(fmt::format("value has type {}; should be string", index.type()->name));
        }
        const Value* v = item.find(index.as_string());
        item = v ? *v : zero_value(item.type()->elem);
        break;
      }
      default:
        return fail("can't index item of type " + item.type()->name);
    }
  }
  return item;
}

Result<Value> slice_fn(const CallArgs& c) {
  const Value& item = c.args[0];
  auto indexes = c.args.subspan(1);
  if (!item.valid()) return fail("slice of untyped nil");
  if (indexes.size() > 3) return fail(fmt::format("too many slice indexes: {}", indexes.size()));
  if (item.kind() == Kind::kString) {
    if (indexes.size() == 3) return fail("cannot 3-index slice a string");
  } else if (item.kind() != Kind::kSlice) {
    return fail("can't slice item of type " + item.type()->name);
  }
  size_t cap = item.size();
  int64_t idx[3] = {0, static_cast<int64_t>(item.size()), 0};
  for (size_t i = 0; i < indexes.size(); ++i) {
    auto x = index_arg(indexes[i], cap);
    if (!x) return std::unexpected(x.error());
    idx[i] = *x;
  }
  if (idx[0] > idx[1]) return fail(fmt::format("invalid slice index: {} > {}", idx[0], idx[1]));
  if (indexes.size() == 3 && idx[1] > idx[2]) {
    return fail(fmt::format("invalid slice index: {} > {}", idx[1], idx[2]));
  }
  if (item.kind() == Kind::kString) {
    return Value::string(item.as_string().substr(idx[0], idx[1] - idx[0]), item.type());
  }
  std::vector<Value> items(item.items().begin() + idx[0], item.items().begin() + idx[1]);
  return Value::slice(std::move(items), item.type());
}

Result<Value> len_fn(const CallArgs& c) {
  bool was_nil;
  const Value& item = indirect(c.args[0], &was_nil);
  if (was_nil) return fail("len of nil pointer");
  switch (item.kind()) {
    case Kind::kSlice: case Kind::kMap: case Kind::kString:
      return Value::integer(static_cast<int64_t>(item.size()));
    case Kind::kInvalid: return fail("reflect: call of reflect.Value.Type on zero Value");
    default: return fail("len of type " + item.type()->name);
  }
}

Result<Value> call_fn(const CallArgs& c) {
  const Value& fn = c.args[0];
  if (!fn.valid()) return fail("call of nil");
  if (fn.kind() != Kind::kFunc || !fn.callable()) {
    return fail(fmt::format("non-function {} of type {}", c.callee, fn.type()->name));
  }
  const Signature& sig = *fn.signature();
  auto args = c.args.subspan(1);
  size_t n = sig.params.size();
  if (sig.variadic) {
    if (args.size() < n - 1) {
      return fail(fmt::format("wrong number of args: got {} want at least {}", args.size(), n - 1));
    }
  } else if (args.size() != n) {
    return fail(fmt::format("wrong number of args: got {} want {}", args.size(), n));
  }
  std::vector<Value> argv;
  for (size_t i = 0; i < args.size(); ++i) {
    const Type* t = (!sig.variadic || i < n - 1) ? sig.params[i] : sig.params.back();
    Value v = args[i];
    if (!v.valid()) {
      if (t->kind == Kind::kInterface || t->kind == Kind::kSlice || t->kind == Kind::kMap ||
          t->kind == Kind::kPointer || t->kind == Kind::kFunc) {
        v = zero_value(t);
      } else {
        return fail(fmt::format("arg {} has type <nil>; should be {}", i, t->name));
      }
    } else if (!assignable(v.type(), t)) {
      return fail(fmt::format("arg {} has type {}; should be {}", i, v.type()->name, t->name));
    }
    argv.push_back(std::move(v));
  }
  return (*fn.callable())(CallArgs{argv, c.env});
}

// Go's evalArgs: the arguments as fmt.Sprint prints them, with missing
// values as "<no value>".
std::string eval_args(std::span<const Value> args) {
  if (args.size() == 1 && args[0].type() == string_type()) return args[0].as_string();
  std::vector<Value> printable;
  printable.reserve(args.size());
  for (const Value& a : args) {
    const Value& v = a.kind() == Kind::kPointer ? indirect(a) : a;
    printable.push_back(v.valid() ? v : Value::string("<no value>"));
  }
  return go_sprint(printable);
}

FuncMap make_builtins() {
  const Type* any = any_type();
  Signature one_any{{any}};
  Signature any_variadic{{any, any}, true};
  Signature two_any{{any, any}};
  Signature all_variadic{{any}, true};
  FuncMap m;
  auto unused = [](const CallArgs&) -> Result<Value> { return Value(); };
  m["and"] = {any_variadic, unused};
  m["or"] = {any_variadic, unused};
  m["not"] = {one_any, [](const CallArgs& c) -> Result<Value> { return Value::boolean(!is_true(c.args[0])); }};
  m["len"] = {one_any, len_fn};
  m["index"] = {any_variadic, index_fn};
  m["slice"] = {any_variadic, slice_fn};
  m["call"] = {any_variadic, call_fn};
  m["eq"] = {any_variadic, [](const CallArgs& c) { return boolean(eq_impl(c.args[0], c.args.subspan(1))); }};
  m["ne"] = {two_any, [](const CallArgs& c) {
               auto r = eq_impl(c.args[0], c.args.subspan(1));
               return boolean(r ? Result<bool>(!*r) : r);
             }};
  m["lt"] = {two_any, [](const CallArgs& c) { return boolean(lt_impl(c.args[0], c.args[1])); }};
  m["le"] = {two_any, [](const CallArgs& c) { return boolean(le_impl(c.args[0], c.args[1])); }};
  m["gt"] = {two_any, [](const CallArgs& c) {
               auto r = le_impl(c.args[0], c.args[1]);
               return boolean(r ? Result<bool>(!*r) : r);
             }};
  m["ge"] = {two_any, [](const CallArgs& c) {
               auto r = lt_impl(c.args[0], c.args[1]);
               return boolean(r ? Result<bool>(!*r) : r);
             }};
  m["print"] = {all_variadic, [](const CallArgs& c) -> Result<Value> { return Value::string(go_sprint(c.args)); }};
  m["println"] = {all_variadic, [](const CallArgs& c) -> Result<Value> { return Value::string(go_sprintln(c.args)); }};
  m["printf"] = {Signature{{string_type(), any}, true}, [](const CallArgs& c) -> Result<Value> {
                   return Value::string(go_sprintf(c.args[0].as_string(), c.args.subspan(1)));
                 }};
  m["html"] = {all_variadic, [](const CallArgs& c) -> Result<Value> {
                 return Value::string(html_escape(eval_args(c.args)));
               }};
  m["js"] = {all_variadic, [](const CallArgs& c) -> Result<Value> {
               return Value::string(js_escape(eval_args(c.args)));
             }};
  m["urlquery"] = {all_variadic, [](const CallArgs& c) -> Result<Value> {
                     return Value::string(net::url_query_escape(eval_args(c.args)));
                   }};
  return m;
}

}  // namespace

const Function* find_builtin(std::string_view name) {
  static const FuncMap builtins = make_builtins();
  auto it = builtins.find(name);
  return it == builtins.end() ? nullptr : &it->second;
}

}  // namespace vigil::templates
