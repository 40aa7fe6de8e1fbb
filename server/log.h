#pragma once

// Structured logs for the daemon: logfmt lines by default, JSON objects with
// --log.format=json. Every line has ts, level and msg; components add their
// own fields. Lines that arrive already in logfmt (from delivery) are
// re-encoded in the chosen format, so the two never mix.

#include <iosfwd>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/clock.h"
#include "model/error.h"
#include "notifiers/delivery.h"

namespace vigil::server {

using notifiers::LogLevel;

class Logger {
 public:
  enum class Format { kLogfmt, kJson };
  using Fields = std::vector<std::pair<std::string, std::string>>;

  Logger(Format format, LogLevel min_level, std::ostream& out, const Clock& clock);

  static Result<Format> parse_format(std::string_view s);     // "logfmt" | "json"
  static Result<LogLevel> parse_level(std::string_view s);    // debug | info | warn | error

  void log(LogLevel level, std::string_view msg, const Fields& fields = {});
  void debug(std::string_view msg, const Fields& f = {}) { log(LogLevel::kDebug, msg, f); }
  void info(std::string_view msg, const Fields& f = {}) { log(LogLevel::kInfo, msg, f); }
  void warn(std::string_view msg, const Fields& f = {}) { log(LogLevel::kWarn, msg, f); }
  void error(std::string_view msg, const Fields& f = {}) { log(LogLevel::kError, msg, f); }

  // A LogFn for components that write logfmt lines ("level=... k=v ...").
  notifiers::LogFn fn();

  // Splits a logfmt line into its fields (quoted values unquoted).
  static Fields parse_logfmt(std::string_view line);

 private:
  void write(LogLevel level, const Fields& fields);
  Format format_;
  LogLevel min_;
  std::ostream& out_;
  const Clock& clock_;
  std::mutex mu_;
};

std::string_view level_name(LogLevel l);

}  // namespace vigil::server
