#include "model/state_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "model/file.h"
#include "model/metrics_writer.h"
#include "model/timestamp.h"

namespace vigil {

Result<std::string> set_aside(const std::string& path, Millis now, bool keep) {
  // 2026-11-21T13:45:01Z -> 20261121T134501Z: no characters that need quoting.
  std::string stamp;
  for (char c : format_rfc3339(now - now % kSecond))
    if (c != '-' && c != ':') stamp += c;
  const std::string base = fmt::format("{}.damaged-{}", path, stamp);
  for (int i = 0; i < 1000; ++i) {
    const std::string aside = i == 0 ? base : fmt::format("{}.{}", base, i);
    if (::link(path.c_str(), aside.c_str()) == 0) {
      if (!keep && ::unlink(path.c_str()) != 0) return fail(os_error("remove", path));
      return aside;
    }
    if (errno != EEXIST) {
      // No hard links here (some file systems): a rename still moves it.
      if (keep || ::access(aside.c_str(), F_OK) == 0) return fail(os_error("link", path));
      if (::rename(path.c_str(), aside.c_str()) != 0) return fail(os_error("rename", path));
      return aside;
    }
  }
  return fail(fmt::format("set aside {}: too many damaged copies already", path));
}

std::optional<StateDamage> restore_state_file(const std::string& path, Millis now,
                                              const std::function<Result<void>(std::string_view)>& restore,
                                              std::string_view consequence) {
  if (::access(path.c_str(), F_OK) != 0) return std::nullopt;
  auto text = read_file(path);
  auto r = text ? restore(*text) : Result<void>(std::unexpected(text.error()));
  if (r) return std::nullopt;
  StateDamage d{path, 0, text ? text->size() : 0,
                fmt::format("{}: not read ({}): {}", path, r.error().message, consequence), ""};
  if (auto aside = set_aside(path, now)) {
    d.moved_to = *aside;
  } else {
    d.what += fmt::format(" (it stays where it is: {})", aside.error().message);
  }
  return d;
}

void write_damage_metrics(MetricsWriter& w, const std::vector<StateDamage>& damage) {
  std::map<std::string, std::pair<uint64_t, uint64_t>> lost;
  for (const StateDamage& d : damage) {
    auto& [n, bytes] = lost[std::filesystem::path(d.file).filename().string()];
    ++n;
    bytes += d.bytes();
  }
  w.family("vigil_state_damaged_total", "counter",
           "Damaged stretches of state files found at start (each skipped, or the file set aside).");
  for (const auto& [file, v] : lost) w.sample("vigil_state_damaged_total", {{"file", file}}, static_cast<double>(v.first));
  w.family("vigil_state_damaged_bytes_total", "counter", "Bytes of state files that could not be read at start.");
  for (const auto& [file, v] : lost)
    w.sample("vigil_state_damaged_bytes_total", {{"file", file}}, static_cast<double>(v.second));
}

}  // namespace vigil
