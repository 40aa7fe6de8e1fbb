#include "model/error.h"

#include <fmt/format.h>

namespace vigil {

std::string format_error(std::string_view path, const Error& e) {
  if (e.line == 0) return fmt::format("{}: {}", path, e.message);
  return fmt::format("{}:{}:{}: {}", path, e.line, e.column, e.message);
}

std::string join_errors(std::string_view path, const std::vector<Error>& errors) {
  std::string out;
  for (const Error& e : errors) {
    if (!out.empty()) out += "; ";
    out += format_error(path, e);
  }
  return out;
}

}  // namespace vigil
