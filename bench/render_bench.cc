// Rendering one notification for one alert with N labels, grouped by all of
// them (group_by: ['...']), as a delivery attempt does: the template data,
// the webhook body, and the default Slack title and e-mail HTML (both show
// the group labels and `.CommonLabels.Remove .GroupLabels.Names`).
//
//   ninja -C build vigil_render_bench
//   build/bench/vigil_render_bench 65536
//
// Prints the best of three runs of each step, in seconds.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "notifiers/webhook.h"
#include "templates/alertmanager.h"
#include "templates/notification_data.h"

using namespace vigil;

namespace {

double best_of_3(const std::function<size_t()>& f, size_t* out_bytes) {
  double best = 1e300;
  for (int run = 0; run < 3; ++run) {
    auto t0 = std::chrono::steady_clock::now();
    *out_bytes = f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 65536;
  std::vector<Label> ls{{"alertname", "Big"}};
  for (int i = 0; i < n; ++i) ls.push_back({"label_" + std::to_string(i), "value_" + std::to_string(i)});
  const Labels labels(ls);
  templates::AlertInput in;
  in.labels = labels;
  in.starts_at = templates::go_time_from_unix_millis(1'700'000'000'000);
  const auto now = templates::go_time_from_unix_millis(1'700'000'060'000);
  auto tmpl = templates::NotificationTemplates::load({});
  if (!tmpl) {
    std::fprintf(stderr, "%s\n", tmpl.error().message.c_str());
    return 1;
  }
  templates::NotificationData data;
  templates::Value value;
  size_t bytes = 0;
  std::printf("%d labels\n", n + 1);
  double t = best_of_3(
      [&] {
        data = templates::make_notification_data("team", labels, {in}, "http://vigil", now);
        value = templates::notification_value(data);
        return size_t{0};
      },
      &bytes);
  std::printf("%-28s %8.3f s\n", "template data", t);
  t = best_of_3([&] { return notifiers::webhook_message(data).dump().size(); }, &bytes);
  std::printf("%-28s %8.3f s  (%zu bytes)\n", "webhook body", t, bytes);
  for (const char* name : {"slack.default.title", "email.default.html"}) {
    std::string text = std::string("{{ template \"") + name + "\" . }}";
    bool html = std::string_view(name).starts_with("email");
    t = best_of_3(
        [&] {
          auto r = html ? tmpl->execute_html(text, value) : tmpl->execute_text(text, value);
          if (!r) std::fprintf(stderr, "%s: %s\n", name, r.error().message.substr(0, 200).c_str());
          return r ? r->size() : 0;
        },
        &bytes);
    std::printf("%-28s %8.3f s  (%zu bytes)\n", name, t, bytes);
  }
  return 0;
}
