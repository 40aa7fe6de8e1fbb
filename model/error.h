#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

// An error a user can act on: the message says what was wrong and, where it
// applies, what was expected. Positions are 1-based; 0 means unknown.
struct Error {
  std::string message;
  int line = 0;
  int column = 0;
};

template <typename T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(std::string message, int line = 0, int column = 0) {
  return std::unexpected<Error>(Error{std::move(message), line, column});
}

// "path:line:col: message", or "path: message" without a position.
std::string format_error(std::string_view path, const Error& e);
// Every error of one file, each formatted as above, joined with "; ".
std::string join_errors(std::string_view path, const std::vector<Error>& errors);

}  // namespace vigil
