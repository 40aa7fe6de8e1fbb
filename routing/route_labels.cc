#include "routing/route_labels.h"

namespace vigil::routing {

templates::AlertInput template_alert(const Alert& a, Millis ends_at) {
  templates::AlertInput in;
  in.labels = a.labels;
  for (const auto& l : a.annotations) in.annotations.emplace(l.name, l.value);
  in.starts_at = templates::go_time_from_unix_millis(a.starts_at);
  if (ends_at != 0) in.ends_at = templates::go_time_from_unix_millis(ends_at);
  in.generator_url = a.generator_url;
  return in;
}

templates::KV render_route_labels(const templates::NotificationTemplates& t, const std::vector<Label>& labels,
                                  std::string_view receiver, const Labels& group_labels,
                                  const std::vector<templates::AlertInput>& alerts, std::string_view external_url,
                                  Millis now, std::vector<Error>* errors) {
  if (labels.empty()) return {};
  templates::NotificationData d = templates::make_notification_data(receiver, group_labels, alerts, external_url,
                                                                    templates::go_time_from_unix_millis(now));
  d.notification_reason = "unknown";
  for (const Label& l : labels) d.route_labels.insert_or_assign(l.name, l.value);
  return t.render_route_labels(d, errors);
}

}  // namespace vigil::routing
