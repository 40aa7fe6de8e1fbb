#pragma once

// The HTTP client settings Prometheus' and Alertmanager's files share
// (prometheus/common's HTTPClientConfig): `http_config` with basic_auth,
// authorization, oauth2, bearer tokens, tls_config, proxies and headers.
// Their schema, upstream's checks, and the normalisation the loaders apply.

#include <string>
#include <string_view>
#include <vector>

#include "config/schema.h"
#include "config/value.h"
#include "model/error.h"

namespace vigil::config {

const ObjectSpec& http_config_spec();
const ObjectSpec& tls_config_spec();
// http_headers' entries ({values, secrets, files}).
const ObjectSpec& header_spec();

// The HTTP client settings a command line gives (for a datasource, say),
// and the http_config they stand for.
struct HttpClientSettings {
  std::string basic_auth_username;
  std::string basic_auth_password_file;
  std::string bearer_token_file;
  std::string ca_file;
  bool insecure_skip_verify = false;
};
ConfigValue http_config_of(const HttpClientSettings& s);

// Checks an http_config (prometheus/common's rules) and normalises it as
// upstream does: bearer_token(_file) becomes an authorization, whose type
// defaults to Bearer.
void check_http_config(ConfigValue& http, std::vector<Error>& errors);

// Checks a tls_config: ca, cert and key each set at most one way, cert and
// key together.
void check_tls_config(const ConfigValue& tls, std::vector<Error>& errors);

// Go's textproto.CanonicalMIMEHeaderKey ("content-type" -> "Content-Type");
// names with characters a header name cannot hold are kept as written.
std::string canonical_header(std::string_view h);

// Makes the relative file paths of an http_config absolute against `dir`.
void resolve_http_paths(ConfigValue& http, std::string_view dir);

}  // namespace vigil::config
