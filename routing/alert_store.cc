#include "routing/alert_store.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace vigil::routing {

void AlertStore::set_resolve_timeout(Millis t) {
  std::lock_guard lock(mu_);
  resolve_timeout_ = t;
}

std::shared_ptr<const Alert> AlertStore::put(Alert a, Millis now) {
  std::lock_guard lock(mu_);
  a.updated_at = now;
  if (a.starts_at == 0) a.starts_at = a.ends_at != 0 ? a.ends_at : now;
  if (a.ends_at == 0) {
    a.timeout = true;
    a.ends_at = now + resolve_timeout_;
  }
  auto& slot = alerts_[a.fingerprint()];
  if (slot && overlaps(*slot, a)) a = merge_alerts(*slot, a, now);
  slot = std::make_shared<const Alert>(std::move(a));
  ++version_;
  return slot;
}

std::shared_ptr<const Alert> AlertStore::get(uint64_t fp) const {
  std::lock_guard lock(mu_);
  auto it = alerts_.find(fp);
  return it == alerts_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const Alert>> AlertStore::list() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<const Alert>> out;
  out.reserve(alerts_.size());
  for (const auto& [fp, a] : alerts_) out.push_back(a);
  return out;
}

size_t AlertStore::size() const {
  std::lock_guard lock(mu_);
  return alerts_.size();
}

std::vector<std::shared_ptr<const Alert>> AlertStore::gc(Millis now) {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<const Alert>> out;
  for (auto it = alerts_.begin(); it != alerts_.end();) {
    if (it->second->resolved_at(now)) {
      out.push_back(std::move(it->second));
      it = alerts_.erase(it);
    } else {
      ++it;
    }
  }
  if (!out.empty()) ++version_;
  return out;
}

uint64_t AlertStore::version() const {
  std::lock_guard lock(mu_);
  return version_;
}

std::string AlertStore::snapshot() const {
  nlohmann::json out = {{"version", 1}, {"alerts", nlohmann::json::array()}};
  auto& list = out["alerts"];
  std::lock_guard lock(mu_);
  for (const auto& [fp, a] : alerts_) {
    nlohmann::json labels = nlohmann::json::object(), annotations = nlohmann::json::object();
    for (const auto& l : a->labels) labels[std::string(l.name)] = l.value;
    for (const auto& l : a->annotations) annotations[l.name] = l.value;
    list.push_back({{"labels", std::move(labels)},
                    {"annotations", std::move(annotations)},
                    {"starts_at", a->starts_at},
                    {"ends_at", a->ends_at},
                    {"updated_at", a->updated_at},
                    {"timeout", a->timeout},
                    {"generator_url", a->generator_url}});
  }
  return out.dump();
}

Result<std::vector<std::shared_ptr<const Alert>>> AlertStore::restore(std::string_view text) {
  std::unordered_map<uint64_t, std::shared_ptr<const Alert>> loaded;
  try {
    nlohmann::json in = nlohmann::json::parse(text);
    if (in.at("version").get<int>() != 1) return fail("unknown alert snapshot version");
    for (const auto& j : in.at("alerts")) {
      Alert a;
      std::vector<Label> labels;
      for (const auto& [k, v] : j.at("labels").items()) labels.push_back(Label{k, v.get<std::string>()});
      a.labels = Labels(labels);
      for (const auto& [k, v] : j.at("annotations").items()) a.annotations.push_back(Label{k, v.get<std::string>()});
      std::sort(a.annotations.begin(), a.annotations.end(),
                [](const Label& x, const Label& y) { return x.name < y.name; });
      a.starts_at = j.at("starts_at").get<Millis>();
      a.ends_at = j.at("ends_at").get<Millis>();
      a.updated_at = j.at("updated_at").get<Millis>();
      a.timeout = j.at("timeout").get<bool>();
      a.generator_url = j.at("generator_url").get<std::string>();
      if (auto ok = validate_alert(a); !ok) return fail("invalid alert in snapshot: " + ok.error().message);
      uint64_t fp = a.fingerprint();
      loaded[fp] = std::make_shared<const Alert>(std::move(a));
    }
  } catch (const nlohmann::json::exception& e) {
    return fail(fmt::format("invalid alert snapshot: {}", e.what()));
  }
  std::vector<std::shared_ptr<const Alert>> out;
  out.reserve(loaded.size());
  for (const auto& [fp, a] : loaded) out.push_back(a);
  std::lock_guard lock(mu_);
  alerts_ = std::move(loaded);
  ++version_;
  return out;
}

}  // namespace vigil::routing
