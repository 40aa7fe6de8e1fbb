#pragma once

// The HTTP client every HTTP integration sends with: libcurl configured from
// an Alertmanager `http_config` (prometheus/common's HTTPClientConfig):
// basic_auth, authorization (bearer or another type, credentials inline or
// in a file), http_headers, tls_config (CA, client certificate and key,
// server_name, insecure_skip_verify, min/max version), proxy_url, no_proxy,
// proxy_from_environment, proxy_connect_header, follow_redirects and
// oauth2's client-credentials tokens (net/oauth2.h).
//
// A client is safe to use from many threads at once; it keeps a few curl
// handles so that connections to a receiver are reused.

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/value.h"
#include "model/clock.h"
#include "model/duration.h"
#include "model/error.h"
#include "net/secrets.h"

typedef void CURL;

namespace vigil::net {

class OAuth2Tokens;

struct HttpRequest {
  std::string method = "POST";
  std::string url;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // besides http_config's
  std::string body;
  Millis timeout = 0;  // for the whole exchange; 0: none
  // The most response body kept. Beyond it the rest is read and dropped (the
  // response says `truncated`), or, with abort_over_max_body, the exchange
  // stops there and send() fails (scrapes: no point reading what is refused).
  size_t max_body = 64 * 1024;
  bool abort_over_max_body = false;
  // Receivers may echo credentials, so bodies lose them by default. Scraped
  // metrics are data: a label value that happens to equal a password must
  // stay as it is.
  bool redact_body = true;
  // Once set (the delivery stopping), the exchange ends within about a
  // second, waiting for an answer included, and send() fails with "request
  // canceled". Null: never.
  const std::atomic<bool>* cancel = nullptr;
};

struct HttpResponse {
  long status = 0;
  std::string content_type;
  std::string retry_after;  // the Retry-After header, as sent
  std::string body;         // at most the request's max_body bytes are kept
  bool truncated = false;   // the body was longer than max_body
  Millis elapsed = 0;
  static constexpr size_t kMaxBody = 64 * 1024;  // the default max_body
};

class HttpClient {
 public:
  // Builds a client from an http_config mapping; null or absent means
  // defaults (no auth, system CAs, redirects followed). Credential files are
  // read when a request is made, not here. `clock` times oauth2 token
  // expiry (null: the steady clock).
  static Result<std::shared_ptr<HttpClient>> create(const config::ConfigValue* http_config,
                                                    const Clock* clock = nullptr);
  ~HttpClient();

  // One exchange. A transport failure (refused, reset, timed out, TLS) is an
  // error; any HTTP status is a response. Error messages never contain the
  // URL nor a credential.
  Result<HttpResponse> send(const HttpRequest& req) const;

  // The headers send() would add to `req` besides libcurl's own (Host,
  // User-Agent, Content-Length), credentials shown as "<secret>": what a dry
  // run shows.
  Result<std::vector<std::string>> describe_headers(const HttpRequest& req) const;

  // The secrets this client's configuration holds, for redacting messages.
  const Redactor& redactor() const { return redactor_; }

 private:
  HttpClient() = default;
  CURL* acquire() const;
  void release(CURL* h) const;
  struct AuthHeaders {
    std::vector<std::string> lines;  // "Name: value"
    Redactor secrets;                // the credentials among them
  };
  // http_config's headers for `req`: its authorization (an oauth2 token is
  // fetched when needed, unless `showing`, where it is shown as "<secret>")
  // and http_headers.
  Result<AuthHeaders> auth_headers(const HttpRequest& req, bool showing = false) const;
  // Content-Type, the request's own headers, then http_config's (auth,
  // http_headers) unless the request sets one of the same name; an oauth2
  // token, though, replaces the request's Authorization, as upstream's
  // oauth2 transport does.
  std::vector<std::string> header_lines(const HttpRequest& req, const AuthHeaders& config_headers) const;

  config::ConfigValue config_;  // the http_config, or an empty map
  std::unique_ptr<OAuth2Tokens> oauth2_;  // with `oauth2`: its tokens
  Redactor redactor_;
  mutable std::mutex mu_;
  mutable std::vector<CURL*> idle_;
};

// Applies a tls_config mapping to a curl handle (shared with SMTP).
// `server_name`, when set, must be handled by the caller (it changes the
// name TLS verifies and sends as SNI).
Result<void> apply_tls_config(CURL* h, const config::ConfigValue* tls);

// Makes transfers on `h` end (CURLE_ABORTED_BY_CALLBACK) once *cancel is
// set: libcurl asks at least once a second, also while it waits for the
// peer. Null: transfers run to their end. (HTTP and SMTP share it.)
void abort_when(CURL* h, const std::atomic<bool>* cancel);

// Initialises libcurl once per process.
void ensure_curl_initialised();

std::string base64_encode(std::string_view in);
// Standard base64 with padding, as Go's StdEncoding reads it; nullopt for
// anything else.
std::optional<std::string> base64_decode(std::string_view in);

}  // namespace vigil::net
