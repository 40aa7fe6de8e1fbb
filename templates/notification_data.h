#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "model/error.h"
#include "model/labels.h"
#include "templates/go_time.h"
#include "templates/value.h"

namespace vigil::templates {

// A label or annotation set as Alertmanager's templates see it (template.KV).
using KV = std::map<std::string, std::string, std::less<>>;

KV to_kv(const Labels& labels);

// One alert of a notification (Alertmanager's template.Alert).
struct NotificationAlert {
  std::string status;  // "firing" or "resolved"
  KV labels;
  KV annotations;
  GoTime starts_at;
  GoTime ends_at;  // Go's zero time while unknown
  std::string generator_url;
  std::string fingerprint;  // 16 hex digits of the label set's fingerprint
};

// The data of one notification (Alertmanager's template.Data). GroupKey and
// TruncatedAlerts are vigil's additions for webhook payloads; templates can
// read them too, though Alertmanager's templates cannot.
struct NotificationData {
  std::string receiver;
  std::string status;  // "firing" when any alert fires, else "resolved"
  std::vector<NotificationAlert> alerts;
  // Why this notification is sent ("first notification", "new alerts
  // added", ...; routing::notify_reason_string), as Alertmanager 0.33 says.
  std::string notification_reason;
  KV group_labels;
  KV common_labels;
  KV common_annotations;
  // The labels of the route the group belongs to (Alertmanager 0.34's route
  // `labels`). Their values are templates, read through the routeLabels
  // function, unless already rendered: a notification carries them rendered
  // for its group, as upstream's notify path does.
  KV route_labels;
  bool route_labels_rendered = false;
  std::string external_url;
  std::string group_key;
  int truncated_alerts = 0;
};

// An alert as the rule engine or the API hands it to a notification.
struct AlertInput {
  Labels labels;
  KV annotations;
  GoTime starts_at;
  GoTime ends_at;
  std::string generator_url;
};

// Assembles notification data as Alertmanager's Template.Data does: an alert
// is resolved when its end is not after `now`; the group is firing when any
// alert fires; common labels and annotations are those all alerts share.
// The receiver name has regexp metacharacters escaped, as upstream does.
NotificationData make_notification_data(std::string_view receiver, const Labels& group_labels,
                                        const std::vector<AlertInput>& alerts,
                                        std::string_view external_url, const GoTime& now);

// The example data amtool 0.33 renders with when none is given: two alerts
// whose times are relative to `now`, the first firing and the second
// resolved, in a group whose status reads "alertstatus".
NotificationData example_notification_data(const GoTime& now);

// Reads data laid out as Alertmanager's template.Data JSON (the layout of
// amtool's --template.data and of webhook payloads). Keys match
// case-insensitively, as Go's encoding/json matches them.
Result<NotificationData> notification_data_from_json(std::string_view json);

// Reads a JSON array of alerts as posted to /api/v2/alerts
// ([{"labels":{...},"annotations":{...},"startsAt":...,"endsAt":...,
// "generatorURL":...}]) and assembles notification data from them.
Result<NotificationData> notification_data_from_alerts_json(std::string_view json,
                                                            const GoTime& now);

// The data as a template value: template.Data with template.Alerts,
// template.Alert and template.KV and their methods (Firing, Resolved,
// SortedPairs, Names, Values, Remove, ...).
Value notification_value(const NotificationData& data);

// The RouteLabels of template data made by notification_value() (a
// template.KV value) and whether they are rendered already; labels is null
// when `data` is not such data.
struct RouteLabelsOf {
  const Value* labels = nullptr;
  bool rendered = false;
};
RouteLabelsOf route_labels_of(const Value& data);

}  // namespace vigil::templates
