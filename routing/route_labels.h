#pragma once

// Route labels (Alertmanager 0.34's route `labels`): a route's labels,
// merged from the root down, whose values are templates rendered for each
// aggregation group. Notifications carry them rendered (templates read them
// with routeLabels, webhooks send them as routeLabels), and the alert
// groups API shows them rendered.

#include <string_view>
#include <vector>

#include "model/error.h"
#include "model/labels.h"
#include "routing/alert.h"
#include "templates/alertmanager.h"

namespace vigil::routing {

// An alert as notification templates see it; `ends_at` 0 while it fires
// with no end known.
templates::AlertInput template_alert(const Alert& a, Millis ends_at);

// The route labels rendered for a group as upstream renders them: each value
// a text template against the group's data (its receiver, group labels and
// `alerts`; NotificationReason "unknown", there being no notification), able
// to read the other route labels through routeLabels. A label that fails to
// render is left out and its error added to `errors`.
templates::KV render_route_labels(const templates::NotificationTemplates& t, const std::vector<Label>& labels,
                                  std::string_view receiver, const Labels& group_labels,
                                  const std::vector<templates::AlertInput>& alerts, std::string_view external_url,
                                  Millis now, std::vector<Error>* errors = nullptr);

}  // namespace vigil::routing
