#include "routing/alert.h"

#include <algorithm>

namespace vigil::routing {

Alert merge_alerts(const Alert& a, const Alert& o, Millis now) {
  if (o.updated_at < a.updated_at) return merge_alerts(o, a, now);
  Alert res = o;
  if (a.starts_at < o.starts_at) res.starts_at = a.starts_at;
  if (o.resolved_at(now)) {
    if (a.resolved_at(now) && a.ends_at > o.ends_at) res.ends_at = a.ends_at;
  } else if (a.ends_at > o.ends_at && !a.timeout) {
    res.ends_at = a.ends_at;
  }
  return res;
}

bool overlaps(const Alert& old, const Alert& a) {
  return (a.ends_at > old.starts_at && a.ends_at < old.ends_at) ||
         (a.starts_at > old.starts_at && a.starts_at < old.ends_at);
}

}  // namespace vigil::routing

#include <fmt/format.h>

#include "model/names.h"

namespace vigil::routing {

Result<void> validate_alert(const Alert& a) {
  if (a.starts_at == 0) return fail("start time missing");
  if (a.ends_at != 0 && a.ends_at < a.starts_at) return fail("start time must be before end time");
  if (a.labels.empty()) return fail("at least one label pair required");
  for (const LabelView l : a.labels) {
    if (l.name.empty() || !is_valid_utf8(l.name))
      return fail(fmt::format("invalid label set: invalid name {}", go_quote(l.name)));
    if (!is_valid_utf8(l.value))
      return fail(fmt::format("invalid label set: invalid value {}", go_quote(l.value)));
  }
  for (const auto& l : a.annotations) {
    if (l.name.empty() || !is_valid_utf8(l.name))
      return fail(fmt::format("invalid annotations: invalid name {}", go_quote(l.name)));
    if (!is_valid_utf8(l.value))
      return fail(fmt::format("invalid annotations: invalid value {}", go_quote(l.value)));
  }
  return {};
}

Result<void> check_alert_limits(const Alert& a, const AlertLimits& limits) {
  if (limits.max_labels > 0 && a.labels.size() > limits.max_labels) {
    return fail(fmt::format("alert has {} labels (limit: {}, --alerts.max-labels)", a.labels.size(),
                            limits.max_labels));
  }
  size_t size = a.generator_url.size();
  for (const LabelView l : a.labels) {
    if (limits.max_label_name_length > 0 && l.name.size() > limits.max_label_name_length) {
      return fail(fmt::format("alert has a label name of {} bytes (limit: {}, --alerts.max-label-name-length)",
                              l.name.size(), limits.max_label_name_length));
    }
    if (limits.max_label_value_length > 0 && l.value.size() > limits.max_label_value_length) {
      return fail(fmt::format("label {} has a value of {} bytes (limit: {}, --alerts.max-label-value-length)",
                              go_quote(l.name), l.value.size(), limits.max_label_value_length));
    }
    size += l.name.size() + l.value.size();
  }
  for (const LabelView l : a.annotations) size += l.name.size() + l.value.size();
  if (limits.max_size_bytes > 0 && size > limits.max_size_bytes) {
    return fail(fmt::format("alert has {} bytes of labels, annotations and generatorURL (limit: {}, "
                            "--alerts.max-size-bytes)",
                            size, limits.max_size_bytes));
  }
  return {};
}

bool labels_before(const Labels& a, const Labels& b) {
  if (a.size() != b.size()) return a.size() < b.size();
  auto ia = a.begin(), ib = b.begin();
  for (; ia != a.end(); ++ia, ++ib) {
    // Walking both sorted sets: a name only `a` has sorts first and means a is
    // missing a name b has later, and vice versa (Go compares the union).
    if (ia->name != ib->name) return ia->name > ib->name;
    if (ia->value != ib->value) return ia->value < ib->value;
  }
  return false;
}

namespace {

// alert_before with the job and instance looked up once per alert.
struct SortKey {
  std::string_view job, instance;
  bool has_job, has_instance;
  const FlushedAlert* alert;
};

bool key_before(const SortKey& a, const SortKey& b) {
  if (a.has_job || b.has_job) {
    if (!a.has_job) return false;
    if (!b.has_job) return true;
    if (a.job != b.job) return a.job < b.job;
  }
  if (a.has_instance || b.has_instance) {
    if (!a.has_instance) return false;
    if (!b.has_instance) return true;
    if (a.instance != b.instance) return a.instance < b.instance;
  }
  return labels_before((*a.alert)->labels, (*b.alert)->labels);
}

}  // namespace

void sort_for_notification(std::vector<FlushedAlert>& alerts) {
  std::vector<SortKey> keys;
  keys.reserve(alerts.size());
  for (const FlushedAlert& a : alerts) {
    const Labels& l = a->labels;
    keys.push_back({l.get("job"), l.get("instance"), l.has("job"), l.has("instance"), &a});
  }
  std::sort(keys.begin(), keys.end(), key_before);
  std::vector<FlushedAlert> sorted;
  sorted.reserve(alerts.size());
  for (const SortKey& k : keys) sorted.push_back(*k.alert);
  alerts = std::move(sorted);
}

bool alert_before(const Alert& a, const Alert& b) {
  for (std::string_view key : {"job", "instance"}) {
    const bool ha = a.labels.has(key), hb = b.labels.has(key);
    if (!ha && !hb) continue;
    if (!ha) return false;
    if (!hb) return true;
    if (a.labels.get(key) != b.labels.get(key)) return a.labels.get(key) < b.labels.get(key);
  }
  return labels_before(a.labels, b.labels);
}

}  // namespace vigil::routing
