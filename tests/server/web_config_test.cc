#include <doctest/doctest.h>

#include "server/web_config.h"
#include "tests/server/tls_certs.h"
#include "tests/temp_dir.h"

using namespace vigil;
using namespace vigil::server;

namespace {

// A bcrypt hash of "U*U" (a published test vector of the algorithm).
const std::string kHash = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";

Error load_error(const std::string& yaml) {
  testing::TempDir dir;
  auto r = load_web_config(dir.write("web.yml", yaml));
  REQUIRE_FALSE(r);
  return r.error();
}

}  // namespace

TEST_CASE("web config: bcrypt hashes are checked as upstream checks them, and compared") {
  CHECK(bcrypt_matches(kHash, "U*U"));
  CHECK_FALSE(bcrypt_matches(kHash, "U*V"));
  CHECK(bcrypt_matches("$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK", "U*U*"));
  CHECK(check_bcrypt_hash(kHash));
  CHECK(check_bcrypt_hash("plaintext").error().message ==
        "crypto/bcrypt: hashedSecret too short to be a bcrypted password");
  CHECK(check_bcrypt_hash("x2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW").error().message ==
        "crypto/bcrypt: bcrypt hashes must start with '$', but hashedSecret started with 'x'");
  CHECK(check_bcrypt_hash("$3a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW").error().message ==
        "crypto/bcrypt: bcrypt algorithm version '3' requested is newer than current version '2'");
  CHECK(check_bcrypt_hash("$2a$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW").error().message ==
        "crypto/bcrypt: cost 3 is outside allowed range (4,31)");
  CHECK_FALSE(bcrypt_matches("not a hash", ""));
}

TEST_CASE("web config: every field read, relative files against the file's folder") {
  testing::TempDir dir;
  auto r = load_web_config(dir.write("web.yml", R"(tls_server_config:
  cert_file: certs/server.crt
  key_file: /abs/server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
  client_allowed_sans: [a.example, 10.0.0.1]
  min_version: TLS13
  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
  curve_preferences: [X25519, CurveP256]
  prefer_server_cipher_suites: false
http_server_config:
  http2: false
  headers:
    Strict-Transport-Security: max-age=31536000
    X-Content-Type-Options: nosniff
basic_auth_users:
  alice: )" + kHash + R"(
rate_limit:
  interval: 500ms
  burst: 10
)"));
  REQUIRE(r);
  CHECK(r->tls.enabled());
  CHECK(r->tls.cert_file == (dir.path() / "certs/server.crt").string());
  CHECK(r->tls.key_file == "/abs/server.key");
  CHECK(r->tls.client_ca_file == (dir.path() / "ca.crt").string());
  CHECK(r->tls.client_allowed_sans == std::vector<std::string>{"a.example", "10.0.0.1"});
  CHECK(r->tls.min_version == "TLS13");
  CHECK(r->tls.max_version == "TLS13");
  CHECK_FALSE(r->tls.prefer_server_cipher_suites);
  CHECK_FALSE(r->http2);
  CHECK(r->headers.size() == 2);
  CHECK(r->users.at("alice") == kHash);
  CHECK(r->rate_interval == 500);
  CHECK(r->rate_burst == 10);
}

TEST_CASE("web config: an empty file is valid and turns nothing on") {
  testing::TempDir dir;
  auto r = load_web_config(dir.write("web.yml", ""));
  REQUIRE(r);
  CHECK_FALSE(r->tls.enabled());
  CHECK(r->users.empty());
  CHECK(validate_web_config(dir.path() / "web.yml" ).has_value());
}

TEST_CASE("web config: mistakes are named with their line and column") {
  Error e = load_error("tls_server_config:\n  cert_file: a\n  certfile: b\n");
  CHECK(e.message == "field certfile not found in type web.TLSConfig");
  CHECK(e.line == 3);
  CHECK(e.column == 3);
  CHECK(load_error("http_server_config:\n  headers:\n    X-Powered-By: vigil\n").message ==
        "HTTP header \"X-Powered-By\" can not be configured");
  CHECK(load_error("http_server_config:\n  headers:\n    X-Frame-Options: allow\n").message ==
        "invalid value for X-Frame-Options. Expected one of: [\"deny\" \"sameorigin\"], but got: \"allow\"");
  e = load_error("basic_auth_users:\n  alice: hunter2\n");
  CHECK(e.message == "basic_auth_users: alice: crypto/bcrypt: hashedSecret too short to be a bcrypted password");
  CHECK(e.line == 2);
  CHECK(load_error("tls_server_config:\n  cipher_suites: [TLS_MADE_UP]\n").message == "unknown cipher: TLS_MADE_UP");
  CHECK(load_error("tls_server_config:\n  curve_preferences: [CurveP999]\n").message == "unknown curve: CurveP999");
  CHECK(load_error("tls_server_config:\n  min_version: TLS14\n").message.find("unknown TLS version: TLS14") !=
        std::string::npos);
  CHECK(load_error("rate_limit:\n  interval: often\n").line == 2);
}

TEST_CASE("web config: TLS settings are checked against the files they name") {
  testing::TempDir dir;
  testing::TestCa ca;
  testing::Pem server = ca.issue("vigil", "IP:127.0.0.1");
  testing::Pem other = ca.issue("other", "IP:127.0.0.1");
  dir.write("server.crt", server.cert);
  dir.write("server.key", server.key);
  dir.write("other.key", other.key);
  auto check = [&](const std::string& yaml) {
    auto r = validate_web_config(dir.write("web.yml", yaml));
    return r ? std::string("ok") : r.error().message;
  };
  CHECK(check("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n") == "ok");
  CHECK(check("tls_server_config:\n  cert: |\n" + [&] {
          std::string indented;
          for (size_t i = 0, j; i < server.cert.size(); i = j + 1) {
            j = server.cert.find('\n', i);
            indented += "    " + server.cert.substr(i, j - i) + "\n";
          }
          return indented;
        }() + "  key_file: server.key\n") == "ok");
  CHECK(check("tls_server_config:\n  key_file: server.key\n") == "missing one of cert or cert_file");
  CHECK(check("tls_server_config:\n  cert_file: server.crt\n") == "missing one of key or key_file");
  CHECK(check("tls_server_config:\n  cert_file: missing.crt\n  key_file: server.key\n") ==
        "failed to read cert_file (" + (dir.path() / "missing.crt").string() + "): open " +
            (dir.path() / "missing.crt").string() + ": no such file or directory");
  CHECK(check("tls_server_config:\n  cert_file: server.crt\n  key_file: other.key\n") ==
        "failed to load X509KeyPair: tls: private key does not match public key");
  CHECK(check("tls_server_config:\n  cert_file: server.key\n  key_file: server.key\n") ==
        "failed to load X509KeyPair: tls: failed to find any PEM data in certificate input");
  CHECK(check("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_ca_file: server.crt\n") ==
        "client CA's have been configured without a Client Auth Policy");
  CHECK(check("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: Sometimes\n") ==
        "invalid ClientAuth: Sometimes");
}
