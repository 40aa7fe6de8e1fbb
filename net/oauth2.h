#pragma once

// http_config's `oauth2`: access tokens of the OAuth 2.0 client-credentials
// grant (RFC 6749 section 4.4), got the way prometheus/common gets them
// through golang.org/x/oauth2's clientcredentials package:
//
// - the token request is a form POST to token_url with
//   grant_type=client_credentials, `scope` (the scopes joined by spaces) and
//   endpoint_params (which may replace grant_type but no other parameter);
// - the client authenticates with HTTP Basic auth (id and secret each
//   query-escaped); when that request fails, once more with client_id and
//   client_secret in the form, and whichever worked is kept;
// - the token is cached until 10 s before its expires_in runs out (a token
//   without expires_in never expires); a failed fetch is not cached;
// - the client secret is read on every request (client_secret_file may be
//   rotated) and a new secret drops the cached token;
// - the request carries "Authorization: <token_type> <access_token>", the
//   type spelt "Bearer", "MAC" or "Basic" whatever its case, "Bearer" when
//   the server names none. A 401 from the resource is the caller's answer:
//   nothing is retried with a new token.
//
// The token endpoint is reached with oauth2's own tls_config and proxy
// settings, not those of the http_config around it.

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "config/value.h"
#include "model/clock.h"
#include "model/duration.h"
#include "model/error.h"
#include "net/secrets.h"

namespace vigil::net {

class HttpClient;

class OAuth2Tokens {
 public:
  // From an `oauth2` mapping that config::check_http_config accepted.
  // `clock` times expiry; null: the steady clock. Refuses what vigil does
  // not do: client_secret_ref and the jwt-bearer grant.
  static Result<std::unique_ptr<OAuth2Tokens>> create(const config::ConfigValue& oauth2, const Clock* clock);
  ~OAuth2Tokens();

  // The Authorization header value for one request: the cached token, or a
  // new one (one fetch at a time; others wait for it, or for `cancel`).
  // `timeout` (0: none) and `cancel` bound the token request. The secret
  // and the token are added to `secrets`; errors never contain either.
  Result<std::string> authorization(Millis timeout, const std::atomic<bool>* cancel, Redactor& secrets);

 private:
  enum class AuthStyle { kUnknown, kHeader, kParams };
  struct Token {
    std::string access_token;
    std::string type;     // as the header spells it
    bool expires = false;  // without expires_in, a token is good for ever
    Millis expiry = 0;     // on clock_
  };
  struct Fetched {
    Token token;
    AuthStyle style;  // the one the endpoint accepted
  };

  OAuth2Tokens() = default;
  bool valid(const Token& t) const;
  Result<Fetched> fetch(const std::string& secret, AuthStyle style, Millis timeout,
                        const std::atomic<bool>* cancel, Redactor& secrets) const;
  Result<Token> request_token(const std::string& secret, AuthStyle style, Millis timeout,
                              const std::atomic<bool>* cancel, Redactor& secrets) const;

  config::ConfigValue config_;
  const Clock* clock_ = nullptr;
  std::shared_ptr<HttpClient> token_client_;  // tls_config and proxies of `oauth2`

  std::mutex mu_;
  std::condition_variable fetched_;
  bool fetching_ = false;          // a token request is under way
  std::optional<std::string> secret_;  // the secret token_ and style_ belong to
  std::optional<Token> token_;
  AuthStyle style_ = AuthStyle::kUnknown;
};

}  // namespace vigil::net
