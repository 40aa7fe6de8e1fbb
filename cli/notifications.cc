// vigil notifications: the notification history of a running vigil
// (/api/v1/notifications), as amtool prints alerts.
#include <algorithm>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "net/http_client.h"
#include "net/url.h"

namespace vigil::cli {

namespace {

struct NotificationsArgs {
  std::string url = "http://127.0.0.1:9093";
  std::string receiver, integration, status, outcome, since, until;
  std::vector<std::string> filters;
  int limit = 100;
  std::string output = "text";
};

int fail_with(const std::string& message) {
  std::cerr << "vigil: error: " << message << "\n";
  return 1;
}

std::string request_url(const NotificationsArgs& a) {
  std::string base = a.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string url = base + "/api/v1/notifications?limit=" + std::to_string(a.limit);
  auto param = [&](std::string_view name, const std::string& value) {
    if (!value.empty()) url += fmt::format("&{}={}", name, net::url_query_escape(value));
  };
  param("receiver", a.receiver);
  param("integration", a.integration);
  param("status", a.status);
  param("outcome", a.outcome);
  param("since", a.since);
  param("until", a.until);
  for (const std::string& f : a.filters) param("filter", f);
  return url;
}

// One alert's labels, as amtool shows a label set.
std::string labels_text(const nlohmann::json& labels) {
  std::string out;
  for (const auto& [k, v] : labels.items()) {
    if (!out.empty()) out += " ";
    out += fmt::format("{}={:?}", k, v.is_string() ? v.get<std::string>() : v.dump());
  }
  return out;
}

void print_table(const nlohmann::json& entries, std::ostream& out) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"Time", "Receiver", "Integration", "Status", "Outcome", "Attempts", "Duration", "Alerts", "Error"});
  for (const auto& e : entries) {
    const auto& alerts = e.value("alerts", nlohmann::json::array());
    std::string shown = alerts.empty() ? "" : labels_text(alerts.front().value("labels", nlohmann::json::object()));
    if (alerts.size() > 1) shown += fmt::format(" (+{} more)", alerts.size() - 1);
    rows.push_back({e.value("time", ""), e.value("receiver", ""),
                    fmt::format("{}[{}]", e.value("integration", ""), e.value("integrationIndex", 0)),
                    e.value("status", ""), e.value("outcome", ""), std::to_string(e.value("attempts", 0)),
                    fmt::format("{:.3f}s", e.value("durationSeconds", 0.0)), shown, e.value("error", "")});
  }
  std::vector<size_t> width(rows.front().size(), 0);
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  }
}

int run(const NotificationsArgs& a) {
  if (a.output != "text" && a.output != "json")
    return fail_with(fmt::format("--output: expected text or json, got {:?}", a.output));
  if (a.limit < 0) return fail_with("--limit: must not be negative");
  auto client = net::HttpClient::create(nullptr);
  if (!client) return fail_with(client.error().message);
  net::HttpRequest req;
  req.method = "GET";
  req.url = request_url(a);
  req.timeout = 30 * kSecond;
  req.max_body = size_t{1} << 30;
  req.redact_body = false;
  auto resp = (*client)->send(req);
  if (!resp) return fail_with(fmt::format("cannot reach {}: {}", a.url, resp.error().message));
  nlohmann::json body = nlohmann::json::parse(resp->body, nullptr, false);
  if (resp->status != 200) {
    std::string why = body.is_object() && body.contains("error") ? body["error"].get<std::string>() : resp->body;
    return fail_with(fmt::format("{} answered {}: {}", a.url, resp->status, why));
  }
  if (body.is_discarded() || !body.contains("data"))
    return fail_with(fmt::format("{} did not answer with the notification history (is it vigil?)", a.url));
  const auto& data = body["data"];
  if (a.output == "json") {
    std::cout << data.dump(2) << "\n";
    return 0;
  }
  print_table(data.value("entries", nlohmann::json::array()), std::cout);
  const size_t shown = data.value("entries", nlohmann::json::array()).size();
  const size_t total = data.value("total", size_t{0});
  if (total > shown) std::cerr << fmt::format("{} of {} matching notifications shown (--limit)\n", shown, total);
  return 0;
}

}  // namespace

void register_notifications(CLI::App& app, int* exit_code) {
  auto a = std::make_shared<NotificationsArgs>();
  auto* cmd = app.add_subcommand(
      "notifications", "Show the notification history of a running vigil: what was sent, to whom, when, how it went.");
  cmd->add_option("--url", a->url, "vigil's URL")->capture_default_str();
  cmd->add_option("--receiver", a->receiver, "Only this receiver's notifications");
  cmd->add_option("--integration", a->integration, "Only this integration's: webhook, or webhook[1]");
  cmd->add_option("--filter", a->filters,
                  "A matcher one of the notification's alerts must match, as amtool's (repeatable: all must match)")
      ->allow_extra_args(false);
  cmd->add_option("matchers", a->filters, "More matchers, as --filter");
  cmd->add_option("--status", a->status, "firing or resolved");
  cmd->add_option("--outcome", a->outcome, "success or failure");
  cmd->add_option("--since", a->since, "Only from this time on (RFC 3339 or unix seconds)");
  cmd->add_option("--until", a->until, "Only up to this time (RFC 3339 or unix seconds)");
  cmd->add_option("--limit", a->limit, "Most notifications shown, newest first")->capture_default_str();
  cmd->add_option("-o,--output", a->output, "text or json")->capture_default_str();
  cmd->callback([a, exit_code] { *exit_code = run(*a); });
}

}  // namespace vigil::cli
