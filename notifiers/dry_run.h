#pragma once

// A dry run: integrations say what they would send — method, URL, headers
// and body, secrets shown as "<secret>" — instead of sending it
// (`vigil notify test --dry-run`). Every request is answered with a success
// that satisfies each integration's reading of the answer, so multi-step
// integrations (WeChat's token, Jira's search) show their later requests too.

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "net/http_client.h"
#include "net/secrets.h"
#include "routing/config.h"

namespace vigil::notifiers {

struct DryRunRequest {
  const routing::IntegrationConfig* integration = nullptr;
  std::string method;  // "POST", ...; "SMTP" for email
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
};

class DryRun {
 public:
  // Keeps `req` as `client` would send it, secrets redacted.
  void record(const routing::IntegrationConfig* integration, const net::HttpRequest& req,
              const net::HttpClient& client, const net::Redactor& redactor);
  void record(DryRunRequest r);
  std::vector<DryRunRequest> requests() const;

  // The answer every request gets.
  static net::HttpResponse answer();

 private:
  mutable std::mutex mu_;
  std::vector<DryRunRequest> requests_;  // guarded by mu_
};

}  // namespace vigil::notifiers
