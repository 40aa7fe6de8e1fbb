#include "templates/template.h"

#include "templates/executor.h"

namespace vigil::templates {

TemplateSet::TemplateSet(FuncMap funcs, MissingKey missing)
    : funcs_(std::make_shared<FuncMap>(std::move(funcs))), missing_(missing) {}

bool TemplateSet::has_function(std::string_view name) const {
  return funcs_->contains(name) || find_builtin(name) != nullptr;
}

const Function* TemplateSet::find_function(std::string_view name) const {
  auto it = funcs_->find(name);
  if (it != funcs_->end()) return &it->second;
  return find_builtin(name);
}

void TemplateSet::add_functions(const FuncMap& funcs) {
  auto merged = std::make_shared<FuncMap>(*funcs_);
  for (const auto& [name, f] : funcs) (*merged)[name] = f;
  funcs_ = std::move(merged);
}

Result<void> TemplateSet::parse(std::string_view name, std::string_view text) {
  return parse_template(name, text, [this](std::string_view n) { return has_function(n); }, &trees_);
}

bool TemplateSet::defined(std::string_view name) const {
  auto it = trees_.find(name);
  return it != trees_.end() && it->second->root != nullptr;
}

Result<std::string> TemplateSet::execute(std::string_view name, const Value& data,
                                         const ExecEnv* env) const {
  return run_template(*this, nullptr, name, data, env);
}

Result<std::string> TemplateSet::execute_text(std::string_view text, const Value& data,
                                              const ExecEnv* env) const {
  TreeSet overlay;
  auto parsed = parse_template("", text, [this](std::string_view n) { return has_function(n); },
                               &overlay);
  if (!parsed) return std::unexpected(parsed.error());
  return run_template(*this, &overlay, "", data, env);
}

Value zero_value(const Type* t) {
  switch (t->kind) {
    case Kind::kBool: return Value::boolean(false);
    case Kind::kInt: return Value::integer(0, t);
    case Kind::kUint: return Value::uinteger(0, t);
    case Kind::kFloat: return Value::floating(0, t);
    case Kind::kString: return Value::string("", t);
    case Kind::kSlice:
    case Kind::kMap:
    case Kind::kPointer:
    case Kind::kFunc: return Value::nil_of(t);
    case Kind::kStruct: {
      std::vector<Value> fields(t->fields.size());
      return Value::structure(std::move(fields), t);
    }
    case Kind::kInterface:
    case Kind::kInvalid: return Value();
  }
  return Value();
}

}  // namespace vigil::templates
