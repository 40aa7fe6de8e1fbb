#include "notifiers/dry_run.h"

namespace vigil::notifiers {

void DryRun::record(const routing::IntegrationConfig* integration, const net::HttpRequest& req,
                    const net::HttpClient& client, const net::Redactor& redactor) {
  DryRunRequest r;
  r.integration = integration;
  r.method = req.method;
  r.url = redactor.redact(req.url);
  auto lines = client.describe_headers(req);
  if (lines) {
    for (const std::string& l : *lines) r.headers.push_back(redactor.redact(l));
  } else {
    r.headers.push_back("(headers: " + redactor.redact(lines.error().message) + ")");
  }
  r.body = redactor.redact(req.body);
  record(std::move(r));
}

void DryRun::record(DryRunRequest r) {
  std::lock_guard lock(mu_);
  requests_.push_back(std::move(r));
}

std::vector<DryRunRequest> DryRun::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

net::HttpResponse DryRun::answer() {
  net::HttpResponse resp;
  resp.status = 200;
  resp.content_type = "application/json";
  // Each field is what one integration looks for in a successful answer:
  // Slack and Telegram "ok", Rocket.Chat "success", WeChat "errcode" and the
  // token, Jira an empty search and the created issue's key.
  resp.body = R"({"ok":true,"result":{"message_id":1},"success":true,"errcode":0,"errmsg":"ok",)"
              R"("access_token":"dry-run-token","expires_in":7200,"total":0,"issues":[],"id":"10000","key":"DRY-1"})";
  return resp;
}

}  // namespace vigil::notifiers
