#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "model/error.h"
#include "templates/parser.h"
#include "templates/value.h"

namespace vigil::templates {

// What a caller hands to one execution and its functions read (the query
// function and evaluation time of an alert, for example). Functions
// dynamic_cast to the environment they expect.
class ExecEnv {
 public:
  virtual ~ExecEnv() = default;
};

struct Function {
  Signature sig;
  Callable fn;
};
using FuncMap = std::map<std::string, Function, std::less<>>;

// Go's Option("missingkey=..."): what a missing map key evaluates to.
enum class MissingKey {
  kDefault,  // an invalid value, printed "<no value>"
  kZero,     // the zero value of the map's element type ("" for map[string]string)
  kError,    // execution stops: map has no entry for key "x"
};

// Bounds on one execution, so that no template can run away with the
// process: nesting of templates, control structures and parentheses (each
// level costs native stack: parsing and executing also stop when less than
// model/stack.h's margin is left, whatever the build), evaluation steps
// (time) and the bytes of the output and of any string a function returns
// (memory). Go has only the first, at 100000 template calls.
struct Limits {
  int max_depth = 2000;
  uint64_t max_steps = 20'000'000;
  size_t max_output = 16u << 20;
};

// How values are written out: plain (text/template) or escaped for the HTML
// context they land in (html/template), see escape.h.
enum class Escaping { kText, kHTML };

// A set of named templates that share functions, like a Go *template.Template
// and its associated templates. Parse once, execute many times; executing
// never mutates the set, so one set may serve several threads.
class TemplateSet {
 public:
  explicit TemplateSet(FuncMap funcs = {}, MissingKey missing = MissingKey::kDefault);

  // Parses text under the top-level name `name` and adds the templates it
  // defines; a template parsed later replaces one of the same name (an empty
  // one does not). Errors are Go's, "template: NAME:LINE: ...".
  Result<void> parse(std::string_view name, std::string_view text);

  // Executes the named template with `data` as dot and $. Errors are Go's,
  // "template: NAME:LINE:COL: executing \"NAME\" at <...>: ...".
  Result<std::string> execute(std::string_view name, const Value& data,
                              const ExecEnv* env = nullptr) const;

  // Parses `text` as the anonymous template "" on top of this set, without
  // changing it, and executes it: Alertmanager's ExecuteTextString.
  Result<std::string> execute_text(std::string_view text, const Value& data,
                                   const ExecEnv* env = nullptr) const;

  bool defined(std::string_view name) const;
  bool has_function(std::string_view name) const;

  void set_missing_key(MissingKey m) { missing_ = m; }
  void set_limits(Limits l) { limits_ = l; }
  void set_escaping(Escaping e) { escaping_ = e; }
  // Adds or replaces functions (already parsed templates keep working).
  void add_functions(const FuncMap& funcs);

  const TreeSet& trees() const { return trees_; }
  MissingKey missing_key() const { return missing_; }
  const Limits& limits() const { return limits_; }
  Escaping escaping() const { return escaping_; }
  const Function* find_function(std::string_view name) const;

 private:
  std::shared_ptr<FuncMap> funcs_;
  TreeSet trees_;
  MissingKey missing_;
  Limits limits_;
  Escaping escaping_ = Escaping::kText;
};

// The Go built-in functions (and, or, not, len, index, slice, eq, ne, lt, le,
// gt, ge, print, printf, println, html, js, urlquery, call), by name.
const Function* find_builtin(std::string_view name);

// The zero value of a type: "" for strings, 0, false, nil slices and maps,
// an invalid value for interface{}.
Value zero_value(const Type* t);

}  // namespace vigil::templates
