#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "model/error.h"

namespace re2 {
class RE2;
}

namespace vigil::templates {

// Go's regexp package on RE2 (the same syntax), for the template functions
// match and reReplaceAll. Compiled patterns are cached.

// regexp.Compile; the error reads as Go's, e.g.
// "error parsing regexp: missing closing ): `(`".
Result<std::shared_ptr<const re2::RE2>> go_regexp_compile(std::string_view pattern);

// regexp.MatchString: true when the pattern matches anywhere in s.
Result<bool> go_regexp_match(std::string_view pattern, std::string_view s);

// Regexp.ReplaceAllString: every non-overlapping match replaced by `repl`
// with Go's expansion ($1, ${1}, $name, ${name}, $$; an unknown or malformed
// reference expands to nothing).
std::string go_regexp_replace_all(const re2::RE2& re, std::string_view src, std::string_view repl);

}  // namespace vigil::templates
