// Go templates: any text parses and executes to a result or an error, never
// a crash or a runaway, as Alertmanager notification templates (text and
// HTML escaping) or as Prometheus rule annotations.
#include <cstdint>
#include <string_view>

#include "templates/alertmanager.h"
#include "templates/notification_data.h"
#include "templates/prometheus.h"

using namespace vigil;
using namespace vigil::templates;

namespace {

struct Notification {
  NotificationTemplates templates;
  Value data;
};

const Notification& notification() {
  static const Notification* n = [] {
    auto t = NotificationTemplates::load({});
    if (!t) __builtin_trap();
    return new Notification{std::move(*t), notification_value(example_notification_data(go_time_from_unix(1700000000)))};
  }();
  return *n;
}

const AlertTemplateData& alert_data() {
  static const AlertTemplateData* d = [] {
    auto* d = new AlertTemplateData;
    d->labels = Labels{{"alertname", "Fuzz"}, {"instance", "host:9100"}, {"job", "node"}};
    d->external_labels = Labels{{"cluster", "c1"}};
    d->external_url = "http://prometheus:9090/prefix";
    d->value = 0.25;
    d->eval_time = 1'700'000'000'000;
    d->query = [](std::string_view, Millis) -> Result<QueryResult> {
      return QueryResult{{Labels{{"__name__", "up"}, {"job", "node"}}, 1}, {Labels{{"job", "db"}}, 0.5}};
    };
    return d;
  }();
  return *d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  // The first byte picks how the text is used.
  switch (data[0] % 3) {
    case 0: (void)notification().templates.execute_text(text, notification().data); break;
    case 1: (void)notification().templates.execute_html(text, notification().data); break;
    default: (void)expand_alert_template("Fuzz", text, alert_data()); break;
  }
  return 0;
}
