#pragma once

// Email over SMTP through libcurl: `smarthost` (host:port), `from`, `to`
// (one or more addresses, comma separated), `hello` (the EHLO name),
// authentication with `auth_username` and `auth_password`/`_file` (PLAIN or
// LOGIN, whichever the server offers) or `auth_secret`/`_file` (CRAM-MD5),
// `auth_identity` (PLAIN's authorization identity), `require_tls`
// (STARTTLS or fail), implicit TLS on port 465 or with `force_implicit_tls`,
// `tls_config`, custom `headers` (templates; Subject, To and From default
// as upstream), and a multipart/alternative body with the `text` part (when
// set) and the `html` part (when set), both quoted-printable. Non-ASCII
// header values are RFC 2047 encoded. With `threading.enabled`, every
// mail of one alert group carries the same References and In-Reply-To (a
// made-up thread root named after the group key's hash and, with
// `thread_by_date: daily`, the local date), so mail clients thread them;
// daily, a new thread starts each day.
//
// As upstream, a server that does not offer AUTH is used without
// authentication, and every SMTP failure may be retried; template and
// address errors are not.

#include <memory>
#include <string>
#include <vector>

#include "notifiers/integration.h"

namespace vigil::notifiers {

// The addresses of an RFC 5322 address list ("A <a@x>, b@y"); an error says
// what could not be read.
Result<std::vector<std::string>> parse_address_list(std::string_view list);
// RFC 2047 "Q" encoding of a header value, only when it is not plain ASCII.
std::string encode_header_value(std::string_view value);
// Quoted-printable with CRLF line ends (RFC 2045).
std::string quoted_printable(std::string_view body);
// The References and In-Reply-To header lines of a threaded mail for the
// group `group_key` sent at `now`; `by_date` adds the day to the thread.
std::string thread_headers(std::string_view group_key, bool by_date, Millis now);

class Email final : public Integration {
 public:
  static Result<std::unique_ptr<Integration>> create(const config::ConfigValue& settings,
                                                     const IntegrationOptions& opts);
  AttemptResult send(const Message& m) override;

  // The whole message (headers and body) as it is sent; exposed for tests.
  Result<std::string> compose(const Message& m, std::string_view boundary) const;

 private:
  config::ConfigValue settings_;
  std::string host_, port_;
  std::string hostname_;
};

}  // namespace vigil::notifiers
