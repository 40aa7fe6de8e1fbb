#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "model/error.h"
#include "templates/notification_data.h"
#include "templates/template.h"

namespace vigil::templates {

// Alertmanager's template functions: toUpper toLower title trimSpace join
// match safeHtml safeUrl urlUnescape reReplaceAll stringSlice date tz since
// humanizeDuration; and those of later releases: now toJson list append dict
// base64encode base64decode, and 0.34's toDate mustToDate routeLabels.
FuncMap alertmanager_functions();

// vigil's default notification templates (__subject, __text_alert_list,
// slack.default.*, email.default.html, ...), as template source.
std::string_view default_notification_templates();

// The templates notifications render with, as Alertmanager keeps them: the
// defaults, then every file the configured globs match (in order, each
// glob's files sorted), later definitions replacing earlier ones. Missing map
// keys render as the zero value, as in Alertmanager.
class NotificationTemplates {
 public:
  // `with_defaults` false leaves out vigil's default templates.
  static Result<NotificationTemplates> load(const std::vector<std::string>& globs,
                                            bool with_defaults = true);

  // Parses one more template source (a file's content under its base name).
  Result<void> add(std::string_view name, std::string_view text);

  // Renders `text` (e.g. `{{ template "slack.default.title" . }}`) with the
  // notification data: Alertmanager's ExecuteTextString. Empty text renders
  // as empty.
  Result<std::string> execute_text(std::string_view text, const NotificationData& data) const;
  // The same with html/template escaping (email bodies).
  Result<std::string> execute_html(std::string_view text, const NotificationData& data) const;

  // The same with data already converted by notification_value(), to render
  // many fields of one notification without converting it each time.
  Result<std::string> execute_text(std::string_view text, const Value& data) const;
  Result<std::string> execute_html(std::string_view text, const Value& data) const;

  // Renders a group's route labels (data.route_labels, templates) as
  // Alertmanager 0.34 renders them for a group: each a text template against
  // `data`, reading other route labels through routeLabels. A label that
  // fails is left out, and its error added to `errors`.
  KV render_route_labels(const NotificationData& data, std::vector<Error>* errors = nullptr) const;

  const TemplateSet& text_set() const { return text_; }

 private:
  NotificationTemplates();
  TemplateSet text_;
  TemplateSet html_;
};

}  // namespace vigil::templates
