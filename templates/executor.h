#pragma once

#include <string>
#include <string_view>

#include "model/error.h"
#include "templates/template.h"

namespace vigil::templates {

// Runs template `name` of `set` (looked up first in `overlay` when given)
// with `data` as dot, the way Go's text/template executes: see template.h for
// the contract. Internal to templates/.
Result<std::string> run_template(const TemplateSet& set, const TreeSet* overlay,
                                 std::string_view name, const Value& data, const ExecEnv* env);

}  // namespace vigil::templates
