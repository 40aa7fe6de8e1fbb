#include "routing/alert_journal.h"

#include <unordered_map>

namespace vigil::routing {

namespace {

// How many alerts go into one snapshot write.
constexpr size_t kSnapshotChunk = 4096;

}  // namespace

void encode_alert(std::string& out, const Alert& a) {
  PayloadWriter w(out);
  w.put(static_cast<int64_t>(a.starts_at));
  w.put(static_cast<int64_t>(a.ends_at));
  w.put(static_cast<int64_t>(a.updated_at));
  w.put(static_cast<uint8_t>(a.timeout ? 1 : 0));
  w.put(static_cast<uint32_t>(a.labels.size()));
  for (const auto& l : a.labels) {
    w.put_string(l.name);
    w.put_string(l.value);
  }
  w.put(static_cast<uint32_t>(a.annotations.size()));
  for (const auto& l : a.annotations) {
    w.put_string(l.name);
    w.put_string(l.value);
  }
  w.put_string(a.generator_url);
}

std::optional<Alert> decode_alert(std::string_view payload) {
  PayloadReader r(payload);
  Alert a;
  uint8_t timeout = 0;
  uint32_t n = 0;
  if (!r.get(a.starts_at) || !r.get(a.ends_at) || !r.get(a.updated_at) || !r.get(timeout) || !r.get(n))
    return std::nullopt;
  std::vector<Label> labels;
  for (uint32_t i = 0; i < n; ++i) {
    Label l;
    if (!r.get_string(l.name) || !r.get_string(l.value)) return std::nullopt;
    labels.push_back(std::move(l));
  }
  if (!r.get(n)) return std::nullopt;
  std::vector<Label> annotations;
  for (uint32_t i = 0; i < n; ++i) {
    Label l;
    if (!r.get_string(l.name) || !r.get_string(l.value)) return std::nullopt;
    annotations.push_back(std::move(l));
  }
  if (!r.get_string(a.generator_url) || !r.done()) return std::nullopt;
  a.labels = Labels(std::move(labels));
  a.annotations = Labels(std::move(annotations));
  a.timeout = timeout != 0;
  if (!validate_alert(a)) return std::nullopt;
  return a;
}

AlertJournal::AlertJournal(std::string dir)
    : log_(RecordLog::Options{std::move(dir), "alerts", "VGALRT02", "VGALRT01"}) {}

AlertJournal::Loaded AlertJournal::load(Millis now) {
  Loaded out;
  std::unordered_map<uint64_t, size_t> index;  // fingerprint -> position in out.alerts
  auto loaded = log_.load(
      [&](std::string_view payload) {
        auto a = decode_alert(payload);
        if (!a) return false;
        auto [it, fresh] = index.try_emplace(a->fingerprint(), out.alerts.size());
        if (fresh) {
          out.alerts.push_back(std::move(*a));
        } else if (a->updated_at >= out.alerts[it->second].updated_at) {
          out.alerts[it->second] = std::move(*a);
        }
        return true;
      },
      now);
  out.damage = std::move(loaded.damage);
  out.needs_fold = loaded.needs_fold;
  return out;
}

Result<void> AlertJournal::append(std::span<const std::shared_ptr<const Alert>> alerts) {
  if (alerts.empty()) return {};
  RecordBatch batch;
  for (const auto& a : alerts) {
    encode_alert(batch.begin(), *a);
    batch.end();
  }
  return log_.append(batch.bytes());
}

bool AlertJournal::wants_compaction() const { return log_.wants_fold(); }

size_t AlertJournal::log_bytes() const { return log_.log_bytes(); }

uint64_t AlertJournal::syncs() const { return log_.syncs(); }

Result<void> AlertJournal::compact(const std::function<std::vector<std::shared_ptr<const Alert>>()>& list) {
  return log_.fold([&list]() -> RecordLog::Producer {
    auto alerts = std::make_shared<std::vector<std::shared_ptr<const Alert>>>(list());
    return [alerts, i = size_t{0}](RecordBatch& batch) mutable {
      for (size_t end = std::min(alerts->size(), i + kSnapshotChunk); i < end; ++i) {
        encode_alert(batch.begin(), *(*alerts)[i]);
        batch.end();
      }
      return i < alerts->size();
    };
  });
}

}  // namespace vigil::routing
