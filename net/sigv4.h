#pragma once

// AWS Signature Version 4 (header form), as AWS services check it: the
// canonical request (method, normalised and encoded path, sorted query,
// trimmed lower-case headers, payload hash), the string to sign over its
// hash, and the HMAC-SHA256 chain keyed by date, region and service.
// Nothing here talks to the network; callers add the returned headers to
// the request they send.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/duration.h"

namespace vigil::net::sigv4 {

struct Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // temporary credentials only; sent as X-Amz-Security-Token
};

struct Request {
  std::string method = "POST";
  std::string path = "/";  // as written in the URL (not yet percent-encoded for signing)
  std::string query;       // the raw query string, without '?'
  // Headers to sign, Host included; names in any case. X-Amz-Date (and
  // X-Amz-Security-Token with a session token) are added by sign().
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct Options {
  std::string region;
  std::string service;
  Millis now = 0;
  // Also send and sign X-Amz-Content-Sha256 (S3 wants it; query APIs do not).
  bool content_sha256_header = false;
};

struct Signed {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;  // hex
  // To add to the request as they are: X-Amz-Date, X-Amz-Security-Token
  // (with a session token), X-Amz-Content-Sha256 (when asked), Authorization.
  std::vector<std::pair<std::string, std::string>> headers;

  std::string header(std::string_view name) const;  // "" when absent
};

Signed sign(const Request& req, const Credentials& creds, const Options& opts);

// "20150830T123600Z".
std::string amz_date(Millis t);

// AWS's URI encoding: unreserved characters (A-Z a-z 0-9 - _ . ~) kept,
// everything else %XX in upper case; '/' kept when `keep_slash`.
std::string uri_encode(std::string_view s, bool keep_slash);

// The hex SHA-256 and HMAC-SHA256 the signature is built from.
std::string sha256_hex(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw bytes

}  // namespace vigil::net::sigv4
