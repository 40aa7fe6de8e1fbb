#pragma once

// The coloured difference `promtool test rules --diff` prints between the
// alerts a test expected and the ones it got: both sides as JSON-like trees
// (objects with sorted keys, arrays, strings), printed as indented JSON in
// which changed values read `"old" => "new"` in yellow, what only the
// expectation holds is red and what only the result holds is green (ANSI
// colours, as promtool's console output).

#include <map>
#include <string>
#include <variant>
#include <vector>

namespace vigil::rules {

struct DiffValue {
  using Object = std::map<std::string, DiffValue>;
  using Array = std::vector<DiffValue>;
  std::variant<std::string, Object, Array> v;
};

struct DiffResult {
  bool equal = true;
  std::string text;  // the whole tree with differences marked, lines joined by '\n'
};

DiffResult json_diff(const DiffValue& expected, const DiffValue& got);

}  // namespace vigil::rules
