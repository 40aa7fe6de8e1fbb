#include "storage/file_sd.h"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/relabel.h"
#include "model/file.h"
#include "model/yaml.h"

namespace vigil::storage {

using config::AlertmanagerTargetConfig;
using config::FileSdConfig;
using config::PrometheusConfig;
using config::RelabelConfig;
using config::ScrapeConfig;
using config::StaticTargetGroup;

Result<std::vector<TargetGroup>> parse_target_groups_json(std::string_view text, const Label& meta) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return fail("invalid JSON: expected a list of {\"targets\": [...], \"labels\": {...}}");
  if (!j.is_array()) return fail("expected a JSON list of target groups");
  std::vector<TargetGroup> out;
  for (const auto& g : j) {
    if (!g.is_object()) return fail("expected each target group to be an object");
    TargetGroup tg;
    std::vector<Label> ls{meta};
    for (const auto& [k, v] : g.items()) {
      if (v.is_null() && (k == "targets" || k == "labels")) continue;
      if (k == "targets") {
        if (!v.is_array()) return fail("\"targets\" must be a list of strings");
        for (const auto& t : v) {
          if (!t.is_string()) return fail("\"targets\" must be a list of strings");
          tg.targets.push_back(t.get<std::string>());
        }
      } else if (k == "labels") {
        if (!v.is_object()) return fail("\"labels\" must map names to strings");
        for (const auto& [name, value] : v.items()) {
          if (!value.is_string()) return fail(fmt::format("label \"{}\" must be a string", name));
          ls.push_back({name, value.get<std::string>()});
        }
      } else {
        return fail(fmt::format("unknown field \"{}\" in a target group", k));
      }
    }
    tg.labels = Labels(ls);
    out.push_back(std::move(tg));
  }
  return out;
}

namespace {

Result<std::vector<TargetGroup>> parse_yaml_groups(const std::string& text, const std::string& path) {
  using Kind = YamlNode::Kind;
  auto doc = parse_yaml(text);
  if (!doc) return std::unexpected(doc.error());
  std::vector<TargetGroup> out;
  const YamlNode* root = doc->root();
  if (root == nullptr || root->kind == Kind::Null) return out;
  auto at = [](const YamlNode& n, std::string msg) { return fail(std::move(msg), n.line, n.column); };
  if (root->kind != Kind::Sequence) return at(*root, "expected a list of target groups");
  for (const YamlNode* g : doc->children(*root)) {
    if (g->kind != Kind::Mapping) return at(*g, "expected each target group to be a mapping");
    TargetGroup tg;
    std::vector<Label> ls{{"__meta_filepath", path}};
    auto c = doc->children(*g);
    for (size_t i = 0; i + 1 < c.size(); i += 2) {
      std::string_view key = doc->value(*c[i]);
      const YamlNode& v = *c[i + 1];
      if (key == "targets") {
        if (v.kind == Kind::Null) continue;
        if (v.kind != Kind::Sequence) return at(v, "\"targets\" must be a list of strings");
        for (const YamlNode* t : doc->children(v)) {
          if (t->kind != Kind::Scalar) return at(*t, "\"targets\" must be a list of strings");
          tg.targets.emplace_back(doc->value(*t));
        }
      } else if (key == "labels") {
        if (v.kind == Kind::Null) continue;
        if (v.kind != Kind::Mapping) return at(v, "\"labels\" must map names to strings");
        auto lc = doc->children(v);
        for (size_t k = 0; k + 1 < lc.size(); k += 2) {
          if (lc[k + 1]->kind != Kind::Scalar && lc[k + 1]->kind != Kind::Null)
            return at(*lc[k + 1], "label values must be strings");
          ls.push_back({std::string(doc->value(*lc[k])), std::string(doc->value(*lc[k + 1]))});
        }
      } else {
        return at(*c[i], fmt::format("field {} not found in type targetgroup.plain", key));
      }
    }
    tg.labels = Labels(ls);
    out.push_back(std::move(tg));
  }
  return out;
}

}  // namespace

Result<std::vector<TargetGroup>> read_target_file(const std::string& path) {
  auto text = read_file(path, size_t{64} << 20);
  if (!text) return std::unexpected(text.error());
  std::string lower = path;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.ends_with(".json")) return parse_target_groups_json(*text, {"__meta_filepath", path});
  return parse_yaml_groups(*text, path);
}


FileDiscovery::FileDiscovery(std::vector<FileSdConfig> configs, Millis poll) : poll_(poll) {
  for (FileSdConfig& c : configs) states_.push_back(State{std::move(c), 0, 0, {}});
}

std::optional<Millis> FileDiscovery::next_due() const {
  std::optional<Millis> best;
  for (const State& s : states_) {
    Millis t = std::min(s.next_refresh, s.next_poll);
    if (!best || t < *best) best = t;
  }
  return best;
}

bool FileDiscovery::refresh(Millis now, bool force) {
  bool changed = false;
  for (State& fs : states_) {
    const bool due = force || now >= fs.next_refresh;
    if (!due && now < fs.next_poll) continue;
    fs.next_poll = now + poll_;
    if (due) fs.next_refresh = now + std::max<Millis>(fs.cfg.refresh_interval, kSecond);
    std::set<std::string> paths;
    for (const std::string& pattern : fs.cfg.files) {
      glob_t g{};
      if (::glob(pattern.c_str(), 0, nullptr, &g) == 0)
        for (size_t i = 0; i < g.gl_pathc; ++i) paths.insert(g.gl_pathv[i]);
      globfree(&g);
    }
    for (auto it = fs.files.begin(); it != fs.files.end();) {
      if (paths.contains(it->first)) {
        ++it;
      } else {
        it = fs.files.erase(it);
        changed = true;
      }
    }
    for (const std::string& path : paths) {
      struct stat st {};
      int64_t mtime = -1, size = -1;
      if (::stat(path.c_str(), &st) == 0) {
        mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
        size = static_cast<int64_t>(st.st_size);
      }
      auto [it, inserted] = fs.files.try_emplace(path);
      File& f = it->second;
      if (!due && !inserted && f.mtime_ns == mtime && f.size == size) continue;
      f.mtime_ns = mtime;
      f.size = size;
      auto groups = read_target_file(path);
      if (!groups) {
        const Error& e = groups.error();
        f.error = e.line > 0 ? fmt::format("{}:{}:{}: {}", path, e.line, e.column, e.message)
                             : fmt::format("{}: {}", path, e.message);
        ++read_errors_;
        continue;  // the previous targets stay
      }
      f.error.clear();
      if (inserted || f.groups != *groups) {
        f.groups = std::move(*groups);
        changed = true;
      }
    }
  }
  return changed;
}

std::vector<const TargetGroup*> FileDiscovery::groups() const {
  std::vector<const TargetGroup*> out;
  for (const State& fs : states_)
    for (const auto& [path, f] : fs.files)
      for (const TargetGroup& g : f.groups) out.push_back(&g);
  return out;
}

std::vector<FileDiscovery::FileError> FileDiscovery::errors() const {
  std::vector<FileError> out;
  for (const State& fs : states_)
    for (const auto& [path, f] : fs.files)
      if (!f.error.empty()) out.push_back({path, f.error});
  return out;
}

std::vector<std::string> alertmanager_urls(const AlertmanagerTargetConfig& cfg,
                                           const std::vector<const TargetGroup*>& groups) {
  std::vector<TargetGroup> statics;
  for (const StaticTargetGroup& sg : cfg.static_configs) statics.push_back({sg.targets, sg.labels});
  std::vector<const TargetGroup*> all;
  for (const TargetGroup& g : statics) all.push_back(&g);
  all.insert(all.end(), groups.begin(), groups.end());

  // path.Join("/", prefix, "/api/v2/alerts"): one leading slash, no doubled
  // or trailing ones.
  std::string alerts_path;
  for (std::string_view part : {std::string_view(cfg.path_prefix), std::string_view("api/v2/alerts")}) {
    size_t i = 0;
    while (i < part.size()) {
      size_t j = part.find('/', i);
      if (j == std::string_view::npos) j = part.size();
      if (j > i) alerts_path += "/" + std::string(part.substr(i, j - i));
      i = j + 1;
    }
  }

  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const TargetGroup* g : all) {
    for (const std::string& address : g->targets) {
      LabelsBuilder b(g->labels);
      b.set("__address__", address);
      if (!g->labels.has("__scheme__")) b.set("__scheme__", cfg.scheme);
      if (!g->labels.has("__alerts_path__")) b.set("__alerts_path__", alerts_path);
      auto ls = config::relabel(b.build(), cfg.relabel_configs);
      if (!ls || ls->get("__address__").empty()) continue;
      std::string url = fmt::format("{}://{}{}", ls->get("__scheme__"), ls->get("__address__"), ls->get("__alerts_path__"));
      if (seen.insert(url).second) out.push_back(std::move(url));
    }
  }
  return out;
}

}  // namespace vigil::storage
