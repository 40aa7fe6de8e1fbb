#pragma once

// file_sd_configs as Prometheus follows them, for scrape jobs and for
// Alertmanager discovery alike: the files the globs match are read (JSON
// when named *.json, else YAML: a list of {targets, labels}), re-read when
// they change (checked every `poll`) and at every refresh_interval; a file
// that cannot be read keeps its previous targets and reports why.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/prometheus_config.h"
#include "model/duration.h"
#include "model/labels.h"

namespace vigil::storage {

struct TargetGroup {
  std::vector<std::string> targets;
  Labels labels;  // __meta_filepath included for file groups
  bool operator==(const TargetGroup&) const = default;
};

class FileDiscovery {
 public:
  FileDiscovery(std::vector<config::FileSdConfig> configs, Millis poll);

  // Re-reads the files that are due (all when `force`) or changed; true
  // when any group changed.
  bool refresh(Millis now, bool force);
  // When refresh() next has something to do; nullopt without configs.
  std::optional<Millis> next_due() const;
  // Every group of every file, in a stable order.
  std::vector<const TargetGroup*> groups() const;

  struct FileError {
    std::string path;
    std::string message;  // "PATH:LINE:COL: why" or "PATH: why"
  };
  std::vector<FileError> errors() const;  // files whose last read failed
  uint64_t read_errors() const { return read_errors_; }  // failed reads so far

 private:
  struct File {
    int64_t mtime_ns = -1;
    int64_t size = -1;
    std::vector<TargetGroup> groups;
    std::string error;
  };
  struct State {
    config::FileSdConfig cfg;
    Millis next_refresh = 0;
    Millis next_poll = 0;
    std::map<std::string, File> files;
  };
  std::vector<State> states_;
  Millis poll_;
  uint64_t read_errors_ = 0;
};

// The alert endpoints of one `alerting.alertmanagers` entry, as Prometheus
// derives them: for every address of its static_configs and of the
// discovered `groups`, the group's labels plus __address__, __scheme__ and
// __alerts_path__ (path_prefix joined with /api/v2/alerts) go through its
// relabel_configs; what is left becomes __scheme__://__address____alerts_path__.
// Duplicates are dropped; the order is stable.
std::vector<std::string> alertmanager_urls(const config::AlertmanagerTargetConfig& cfg,
                                           const std::vector<const TargetGroup*>& groups);

// A JSON list of {"targets": [...], "labels": {...}} (file_sd files,
// http_sd answers); every group also gets `meta` (__meta_filepath,
// __meta_url).
Result<std::vector<TargetGroup>> parse_target_groups_json(std::string_view text, const Label& meta);

// Reads one target file (exposed for tests).
Result<std::vector<TargetGroup>> read_target_file(const std::string& path);

}  // namespace vigil::storage
