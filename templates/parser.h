#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "model/error.h"
#include "templates/ast.h"

namespace vigil::templates {

using TreeSet = std::map<std::string, std::shared_ptr<Tree>, std::less<>>;

// Nesting of parentheses and control structures is bounded, so that a
// hostile template cannot exhaust the stack of the parser or the executor.
inline constexpr int kMaxParseDepth = 1000;

// Parses `text` as Go's text/template parser does: the top level becomes the
// tree `name`, each {{define}} and {{block}} a tree of its own, all added to
// *trees (an empty top level, or one only of white space, does not replace a
// tree of that name). Functions must exist (`has_function`), variables must
// be declared before use. On error nothing is added; the message is Go's,
// "template: NAME:LINE: ...", and line is set.
Result<void> parse_template(std::string_view name, std::string_view text,
                            const std::function<bool(std::string_view)>& has_function,
                            TreeSet* trees);

}  // namespace vigil::templates
