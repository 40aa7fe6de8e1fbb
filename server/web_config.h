#pragma once

// The web configuration file Prometheus and Alertmanager read with
// --web.config.file (the exporter-toolkit format): TLS for the listener,
// basic-auth users with bcrypt-hashed passwords, extra security headers and
// a request rate limit.
//
//   tls_server_config:   cert/cert_file, key/key_file, client_auth_type,
//                        client_ca/client_ca_file, client_allowed_sans,
//                        min_version, max_version, cipher_suites,
//                        curve_preferences, prefer_server_cipher_suites
//   http_server_config:  http2 (accepted; vigil serves HTTP/1.1), headers
//   basic_auth_users:    name: bcrypt hash
//   rate_limit:          interval, burst
//
// Unknown fields are errors, as upstream's strict YAML reading makes them,
// each with its line and column. Relative file names are read from the
// configuration file's folder. WebAccess applies a file to a running server
// and follows it as it changes, as upstream re-reads it per request and per
// TLS handshake: certificates can be rotated and users changed with no
// restart. Whether the listener speaks TLS at all is fixed at start.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/clock.h"
#include "model/error.h"
#include "server/http.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX, kept out of this header

namespace vigil::server {

struct WebConfig {
  struct Tls {
    std::string cert, key, client_ca;                  // inline PEM
    std::string cert_file, key_file, client_ca_file;   // resolved against the file's folder
    std::string client_auth_type;                      // "" means NoClientCert
    std::vector<std::string> client_allowed_sans;
    std::string min_version = "TLS12", max_version = "TLS13";
    std::vector<std::string> cipher_suites;            // Go's names
    std::vector<std::string> curve_preferences;        // Go's names
    bool prefer_server_cipher_suites = true;
    // Upstream's rule: any TLS field set turns TLS on.
    bool enabled() const;
  } tls;
  bool http2 = true;
  std::vector<std::pair<std::string, std::string>> headers;
  std::map<std::string, std::string, std::less<>> users;  // name -> bcrypt hash
  Millis rate_interval = 0;  // 0: no rate limit
  int64_t rate_burst = 0;
};

// Reads and checks a web configuration: its fields, the allowed headers and
// their values, and that every password is a bcrypt hash. Errors carry the
// line and column where they apply.
Result<WebConfig> load_web_config(const std::string& path);

// As `promtool check web-config` checks: load_web_config, and with TLS the
// certificate, key and client CAs are read and must fit together.
Result<void> validate_web_config(const std::string& path);

// Whether `password` is the one `bcrypt_hash` was made from ("$2a$", "$2b$"
// or "$2y$" hashes); runs the hash's full cost.
bool bcrypt_matches(const std::string& bcrypt_hash, const std::string& password);
// Upstream's check of a stored hash: prefix, version, cost in 4..31, length.
Result<void> check_bcrypt_hash(const std::string& hash);

// An OpenSSL server context built from a configuration's TLS section.
class TlsContext {
 public:
  static Result<std::shared_ptr<TlsContext>> create(const WebConfig::Tls& tls);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  ssl_ctx_st* native() const { return ctx_; }
  // client_allowed_sans: whether a verified peer may stay (true when the
  // list is empty). `ssl` is the connection's SSL*.
  bool peer_allowed(void* ssl) const;

 private:
  TlsContext() = default;
  ssl_ctx_st* ctx_ = nullptr;
  std::vector<std::string> allowed_sans_;
};

// A web configuration applied to a server, re-read when the file (or a
// certificate, key or CA file it names) changes, checked at most once a
// second. While the file on disk is invalid, requests are answered 500 and
// TLS handshakes fail, as upstream does: an invalid file never opens the
// server up. Thread-safe.
class WebAccess {
 public:
  // Loads `path` (which must be valid) for a server.
  static Result<std::unique_ptr<WebAccess>> open(std::string path, const Clock& clock,
                                                 std::function<void(const std::string&)> on_error);
  bool tls() const { return tls_; }
  // The context for a new TLS connection; null while the file is invalid.
  std::shared_ptr<TlsContext> tls_context();

  struct Verdict {
    std::optional<Response> refuse;  // 401, 429 or 500
    std::vector<std::pair<std::string, std::string>> headers;  // to add to the answer
  };
  // Basic auth, rate limit and headers for one request (runs bcrypt on a
  // cache miss, so call it off the network thread).
  Verdict admit(const Request& req);

 private:
  struct Loaded;
  WebAccess(std::string path, const Clock& clock, std::function<void(const std::string&)> on_error)
      : path_(std::move(path)), clock_(clock), on_error_(std::move(on_error)) {}
  std::shared_ptr<const Loaded> current();
  Result<std::shared_ptr<const Loaded>> load() const;
  std::string fingerprint(const WebConfig* cfg) const;

  const std::string path_;
  const Clock& clock_;
  const std::function<void(const std::string&)> on_error_;
  bool tls_ = false;

  std::mutex mu_;  // guards the fields below
  std::shared_ptr<const Loaded> loaded_;  // null while the file is invalid
  std::string files_seen_;                // fingerprint of the files last read
  Millis checked_at_ = 0;
  double tokens_ = 0;  // rate limit bucket
  Millis tokens_at_ = 0;
  std::map<std::string, bool> auth_cache_;  // digest of (user, hash, password) -> verdict

  std::mutex bcrypt_mu_;  // one bcrypt at a time: it is CPU-bound by design
};

}  // namespace vigil::server
