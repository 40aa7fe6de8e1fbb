#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "model/file.h"
#include "templates/alertmanager.h"
#include "templates/notification_data.h"

namespace vigil::cli {

namespace {

struct RenderOptions {
  std::vector<std::string> globs;
  std::string text;
  std::string type = "text";
  std::string data_file;
  std::string alerts_file;
};

templates::GoTime now() {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  return templates::go_time_from_unix(ns / 1'000'000'000, static_cast<int32_t>(ns % 1'000'000'000));
}

Result<templates::NotificationData> load_data(const RenderOptions& o) {
  if (!o.data_file.empty()) {
    auto text = read_file(o.data_file);
    if (!text) return std::unexpected(text.error());
    return templates::notification_data_from_json(*text);
  }
  if (!o.alerts_file.empty()) {
    auto text = read_file(o.alerts_file);
    if (!text) return std::unexpected(text.error());
    return templates::notification_data_from_alerts_json(*text, now());
  }
  return templates::example_notification_data(now());
}

int render(const RenderOptions& o) {
  auto fail_with = [](const Error& e) {
    std::cerr << "vigil: error: " << e.message << "\n";
    return 1;
  };
  auto tmpl = templates::NotificationTemplates::load(o.globs);
  if (!tmpl) return fail_with(tmpl.error());
  auto data = load_data(o);
  if (!data) return fail_with(data.error());
  auto out = o.type == "html" ? tmpl->execute_html(o.text, *data) : tmpl->execute_text(o.text, *data);
  if (!out) return fail_with(out.error());
  std::cout << *out;
  return 0;
}

}  // namespace

void register_template_render(CLI::App& tmpl, int* exit_code) {
  auto* cmd = tmpl.add_subcommand(
      "render",
      "Render a template with notification data, as amtool template render does: the default\n"
      "templates and the files matching --template.glob are loaded, then --template.text is\n"
      "rendered with amtool's example data, the data of --template.data, or alerts from\n"
      "--alerts.");
  auto o = std::make_shared<RenderOptions>();
  cmd->add_option("--template.glob", o->globs, "Glob of template files to load (repeatable)")
      ->required();
  cmd->add_option("--template.text", o->text, "The template text to render")
      ->required()
      ->expected(0, 1);  // an empty text is valid and renders as nothing
  cmd->add_option("--template.type", o->type, "text (default) or html (escaped as email bodies are)")
      ->check(CLI::IsMember({"text", "html"}));
  cmd->add_option("--template.data", o->data_file,
                  "JSON file with the notification data, laid out as Alertmanager's template.Data");
  cmd->add_option("--alerts", o->alerts_file,
                  "JSON file with an array of alerts (as posted to /api/v2/alerts) to render with");
  cmd->callback([o, exit_code] { *exit_code = render(*o); });
}

}  // namespace vigil::cli
