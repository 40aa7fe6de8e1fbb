#include "server/log.h"

#include <ostream>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "model/json_writer.h"
#include "model/timestamp.h"

namespace vigil::server {

std::string_view level_name(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

Logger::Logger(Format format, LogLevel min_level, std::ostream& out, const Clock& clock)
    : format_(format), min_(min_level), out_(out), clock_(clock) {}

Result<Logger::Format> Logger::parse_format(std::string_view s) {
  if (s == "logfmt") return Format::kLogfmt;
  if (s == "json") return Format::kJson;
  return fail(fmt::format("unknown log format \"{}\" (expected logfmt or json)", s));
}

Result<LogLevel> Logger::parse_level(std::string_view s) {
  if (s == "debug") return LogLevel::kDebug;
  if (s == "info") return LogLevel::kInfo;
  if (s == "warn") return LogLevel::kWarn;
  if (s == "error") return LogLevel::kError;
  return fail(fmt::format("unknown log level \"{}\" (expected debug, info, warn or error)", s));
}

namespace {

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (unsigned char c : v) {
    if (c <= ' ' || c == '=' || c == '"' || c == 0x7f) return true;
  }
  return false;
}

void append_logfmt_value(std::string& out, std::string_view v) {
  if (!needs_quotes(v)) {
    out += v;
    return;
  }
  // go-kit's logfmt quotes as JSON does.
  append_json_string(out, v);
}

}  // namespace

Logger::Fields Logger::parse_logfmt(std::string_view line) {
  Fields out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    if (i >= line.size()) break;
    size_t eq = i;
    while (eq < line.size() && line[eq] != '=' && line[eq] != ' ') ++eq;
    std::string key(line.substr(i, eq - i));
    if (eq >= line.size() || line[eq] == ' ') {  // a bare word
      out.emplace_back(std::move(key), "");
      i = eq;
      continue;
    }
    size_t j = eq + 1;
    std::string value;
    if (j < line.size() && line[j] == '"') {
      ++j;
      while (j < line.size() && line[j] != '"') {
        if (line[j] == '\\' && j + 1 < line.size()) {
          char e = line[j + 1];
          value += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
          j += 2;
          continue;
        }
        value += line[j++];
      }
      if (j < line.size()) ++j;  // closing quote
    } else {
      while (j < line.size() && line[j] != ' ') value += line[j++];
    }
    out.emplace_back(std::move(key), std::move(value));
    i = j;
  }
  return out;
}

void Logger::write(LogLevel level, const Fields& fields) {
  std::string ts = format_rfc3339(clock_.now());
  std::string line;
  if (format_ == Format::kJson) {
    nlohmann::ordered_json j;
    j["ts"] = ts;
    j["level"] = std::string(level_name(level));
    for (const auto& [k, v] : fields) {
      if (k == "level" || k == "ts") continue;
      j[k] = v;
    }
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = "ts=" + ts + " level=" + std::string(level_name(level));
    for (const auto& [k, v] : fields) {
      if (k == "level" || k == "ts") continue;
      line += ' ';
      line += k;
      line += '=';
      append_logfmt_value(line, v);
    }
  }
  std::lock_guard lock(mu_);
  out_ << line << '\n';
  out_.flush();
}

void Logger::log(LogLevel level, std::string_view msg, const Fields& fields) {
  if (level < min_) return;
  Fields all;
  all.reserve(fields.size() + 1);
  // Component first, as the other lines have it; then the message.
  for (const auto& f : fields)
    if (f.first == "component") all.push_back(f);
  all.emplace_back("msg", std::string(msg));
  for (const auto& f : fields)
    if (f.first != "component") all.push_back(f);
  write(level, all);
}

notifiers::LogFn Logger::fn() {
  return [this](LogLevel level, std::string_view line) {
    if (level < min_) return;
    write(level, parse_logfmt(line));
  };
}

}  // namespace vigil::server
