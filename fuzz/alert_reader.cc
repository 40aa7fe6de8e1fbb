// The fast reader of POST /api/v2/alerts bodies (server/alert_reader.h)
// answers only when it is certain: whatever it reads, the general JSON
// parser reads the same way (same alerts, labels, annotations, times and
// URLs), and whatever it refuses is left to that parser. Any input: no crash.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/timestamp.h"
#include "server/alert_reader.h"

using nlohmann::json;
using namespace vigil;

namespace {

// The general path's rules (server/alertmanager_api.cc: parse_body,
// read_posted_alerts, read_alert), restated with nlohmann::json.

std::optional<Labels> string_map(const json& v) {
  std::vector<LabelView> out;
  if (v.is_null()) return Labels();
  if (!v.is_object()) return std::nullopt;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it->is_string()) return std::nullopt;
    out.emplace_back(it.key(), it->get_ref<const std::string&>());
  }
  return Labels(std::span<const LabelView>(out));
}

std::optional<std::string> optional_string(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::string();
  if (!it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::optional<Millis> optional_time(const json& obj, const char* key) {
  auto s = optional_string(obj, key);
  if (!s) return std::nullopt;
  if (s->empty()) return Millis{0};
  auto t = parse_rfc3339(*s);
  if (!t) return std::nullopt;
  return *t > 0 ? *t : 0;
}

std::optional<std::vector<routing::Alert>> general(std::string_view body, bool* number_overflow) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return std::nullopt;
  if (server::json_nesting_depth(body) > server::kMaxJsonDepth) return std::nullopt;
  json doc;
  try {
    doc = json::parse(body);
  } catch (const json::out_of_range& e) {
    // A number past a double's range (nlohmann refuses it anywhere; Go's
    // decoder skips it in a field it ignores, and the fast reader does too).
    if (e.id == 406) *number_overflow = true;
    return std::nullopt;
  } catch (const json::exception&) {
    return std::nullopt;
  }
  if (!doc.is_array()) return std::nullopt;
  std::vector<routing::Alert> out;
  for (const json& item : doc) {
    if (!item.is_object() || !item.contains("labels") || item["labels"].is_null()) return std::nullopt;
    routing::Alert a;
    auto labels = string_map(item["labels"]);
    if (!labels) return std::nullopt;
    a.labels = *labels;
    if (auto it = item.find("annotations"); it != item.end()) {
      auto ann = string_map(*it);
      if (!ann) return std::nullopt;
      a.annotations = *ann;
    }
    auto starts = optional_time(item, "startsAt");
    auto ends = optional_time(item, "endsAt");
    auto url = optional_string(item, "generatorURL");
    if (!starts || !ends || !url) return std::nullopt;
    a.starts_at = *starts;
    a.ends_at = *ends;
    a.generator_url = *url;
    out.push_back(std::move(a));
  }
  return out;
}

bool same(const routing::Alert& a, const routing::Alert& b) {
  return a.labels == b.labels && a.annotations == b.annotations && a.starts_at == b.starts_at &&
         a.ends_at == b.ends_at && a.generator_url == b.generator_url;
}

void print(const char* what, const std::vector<routing::Alert>& alerts) {
  std::fprintf(stderr, "%s: %zu alerts\n", what, alerts.size());
  for (const auto& a : alerts)
    std::fprintf(stderr, "  %s %s %lld %lld %s\n", a.labels.to_string().c_str(), a.annotations.to_string().c_str(),
                 static_cast<long long>(a.starts_at), static_cast<long long>(a.ends_at), a.generator_url.c_str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto fast = server::read_postable_alerts(body);
  if (!fast) return 0;
  bool number_overflow = false;
  auto slow = general(body, &number_overflow);
  if (!slow && number_overflow) return 0;  // the fast reader is the one that agrees with upstream here
  if (!slow) {
    print("the fast reader accepted a body the general parser refuses", *fast);
    std::abort();
  }
  bool equal = fast->size() == slow->size();
  for (size_t i = 0; equal && i < fast->size(); ++i) equal = same((*fast)[i], (*slow)[i]);
  if (!equal) {
    print("fast", *fast);
    print("general", *slow);
    std::abort();
  }
  return 0;
}
