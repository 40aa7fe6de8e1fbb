#include "server/web_config.h"

#include <arpa/inet.h>
#include <crypt.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "config/schema.h"
#include "model/file.h"
#include "model/yaml.h"
#include "net/http_client.h"
#include "routing/config.h"

namespace vigil::server {

namespace {

using config::ConfigValue;
using config::FieldType;
using config::ObjectSpec;

const ObjectSpec& tls_spec() {
  using T = FieldType;
  static const ObjectSpec s{"web.TLSConfig",
                            {{"cert"}, {"key", T::kSecret}, {"client_ca"}, {"cert_file"}, {"key_file"},
                             {"client_auth_type"}, {"client_ca_file"},
                             {"cipher_suites", T::kStringList}, {"curve_preferences", T::kStringList},
                             {"min_version", T::kTlsVersion, "TLS12"}, {"max_version", T::kTlsVersion, "TLS13"},
                             {"prefer_server_cipher_suites", T::kBool, "true"},
                             {"client_allowed_sans", T::kStringList}}};
  return s;
}

const ObjectSpec& web_spec() {
  using T = FieldType;
  static const ObjectSpec http{"web.HTTPConfig", {{"http2", T::kBool, "true"}, {"headers", T::kStringMap}}};
  static const ObjectSpec rate{"web.RateLimiterConfig", {{"burst", T::kInt}, {"interval", T::kGoDuration}}};
  static const ObjectSpec s{"web.Config",
                            {{"tls_server_config", T::kObject, "", &tls_spec()},
                             {"http_server_config", T::kObject, "", &http},
                             {"rate_limit", T::kObject, "", &rate},
                             {"basic_auth_users", T::kStringMap}}};
  return s;
}

// Go's names of the cipher suites its crypto/tls offers for TLS 1.0-1.2, and
// OpenSSL's names for them. (TLS 1.3 suites are not configurable upstream.)
struct CipherName {
  std::string_view go, openssl;
};
constexpr CipherName kCiphers[] = {
    {"TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA"},
    {"TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA"},
    {"TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256"},
    {"TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384"},
    {"TLS_AES_128_GCM_SHA256", ""},
    {"TLS_AES_256_GCM_SHA384", ""},
    {"TLS_CHACHA20_POLY1305_SHA256", ""},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305"},
};

constexpr std::pair<std::string_view, std::string_view> kCurves[] = {
    {"CurveP256", "P-256"}, {"CurveP384", "P-384"}, {"CurveP521", "P-521"}, {"X25519", "X25519"}};

// Upstream lets only these headers be set, some only to known values.
struct HeaderRule {
  std::string_view name;
  std::vector<std::string_view> values;  // empty: any value
};
const std::vector<HeaderRule>& header_rules() {
  static const std::vector<HeaderRule> r{{"Strict-Transport-Security", {}},
                                         {"X-Content-Type-Options", {"nosniff"}},
                                         {"X-Frame-Options", {"deny", "sameorigin"}},
                                         {"X-XSS-Protection", {}},
                                         {"Content-Security-Policy", {}}};
  return r;
}

std::string join_dir(const std::string& dir, std::string_view p) {
  if (p.empty() || p.front() == '/') return std::string(p);
  return (std::filesystem::path(dir) / p).string();
}

std::vector<std::string> strings_of(const ConfigValue* v) {
  std::vector<std::string> out;
  if (v == nullptr || !v->is_list()) return out;
  for (const auto& i : v->items()) out.push_back(i.as_string());
  return out;
}

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  std::string out;
  while (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    // Only the reason: "error:0A00008B:SSL routines::..." -> after the last colon.
    std::string_view s(buf);
    size_t colon = s.rfind(':');
    out += colon == std::string_view::npos ? s : s.substr(colon + 1);
    e = ERR_get_error();
  }
  ERR_clear_error();
  return out.empty() ? "unknown error" : out;
}

// A file named in the configuration, read whole (certificates are small).
Result<std::string> read_named(std::string_view field, const std::string& path) {
  auto text = read_file(path, size_t{4} << 20);
  if (!text) return fail(fmt::format("failed to read {} ({}): {}", field, path, text.error().message));
  return text;
}

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
BioPtr memory_bio(std::string_view pem) { return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))); }

}  // namespace

bool WebConfig::Tls::enabled() const {
  return !cert_file.empty() || !cert.empty() || !key_file.empty() || !key.empty() || !client_ca_file.empty() ||
         !client_ca.empty() || !client_auth_type.empty();
}

Result<void> check_bcrypt_hash(const std::string& hash) {
  // The shape Go's crypto/bcrypt accepts: "$2" + optional minor + "$" +
  // two-digit cost + "$" + 53 characters of salt and hash.
  if (hash.size() < 59) return fail("crypto/bcrypt: hashedSecret too short to be a bcrypted password");
  if (hash[0] != '$') {
    return fail(fmt::format("crypto/bcrypt: bcrypt hashes must start with '$', but hashedSecret started with '{}'",
                            hash[0]));
  }
  if (hash[1] > '2') {
    return fail(fmt::format("crypto/bcrypt: bcrypt algorithm version '{}' requested is newer than current version '2'",
                            hash[1]));
  }
  size_t at = hash[2] == '$' ? 3 : 4;
  if (at == 4 && hash[3] != '$') return fail("crypto/bcrypt: hashedSecret too short to be a bcrypted password");
  if (!std::isdigit(static_cast<unsigned char>(hash[at])) || !std::isdigit(static_cast<unsigned char>(hash[at + 1]))) {
    return fail(fmt::format("crypto/bcrypt: invalid cost in hash {:?}", hash.substr(at, 2)));
  }
  int cost = (hash[at] - '0') * 10 + (hash[at + 1] - '0');
  if (cost < 4 || cost > 31) return fail(fmt::format("crypto/bcrypt: cost {} is outside allowed range (4,31)", cost));
  return {};
}

bool bcrypt_matches(const std::string& bcrypt_hash, const std::string& password) {
  if (!check_bcrypt_hash(bcrypt_hash)) return false;
  // "$2y$" and "$2b$" compute the same; "$2a$" too for passwords without
  // bytes past 0x7f. libxcrypt reads all three.
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  const char* out = crypt_r(password.c_str(), bcrypt_hash.c_str(), data.get());
  if (out == nullptr || out[0] == '*') return false;
  size_t n = std::strlen(out);
  if (n != bcrypt_hash.size()) return false;
  return CRYPTO_memcmp(out, bcrypt_hash.data(), n) == 0;
}

Result<WebConfig> load_web_config(const std::string& path) {
  auto text = read_file(path);
  if (!text) return std::unexpected(text.error());
  auto err = [](const std::string& msg, int line = 0, int col = 0) { return fail(msg, line, col); };
  auto doc = parse_yaml(*text);
  if (!doc) return err(doc.error().message, doc.error().line, doc.error().column);
  std::vector<Error> errors;
  config::SchemaDecoder dec(*doc, errors);
  ConfigValue v = doc->root() ? dec.object(*doc->root(), web_spec()) : config::SchemaDecoder::defaults(web_spec());
  if (!errors.empty()) return err(errors.front().message, errors.front().line, errors.front().column);

  WebConfig c;
  const std::string dir = std::filesystem::path(path).parent_path().string();
  if (const ConfigValue* t = v.find("tls_server_config"); t && t->is_map()) {
    c.tls.cert = t->str("cert");
    c.tls.key = t->str("key");
    c.tls.client_ca = t->str("client_ca");
    c.tls.cert_file = join_dir(dir, t->str("cert_file"));
    c.tls.key_file = join_dir(dir, t->str("key_file"));
    c.tls.client_ca_file = join_dir(dir, t->str("client_ca_file"));
    c.tls.client_auth_type = t->str("client_auth_type");
    c.tls.client_allowed_sans = strings_of(t->find("client_allowed_sans"));
    c.tls.min_version = t->str("min_version");
    c.tls.max_version = t->str("max_version");
    c.tls.prefer_server_cipher_suites = t->flag("prefer_server_cipher_suites");
    if (const ConfigValue* cs = t->find("cipher_suites"); cs && cs->is_list()) {
      for (const auto& item : cs->items()) {
        auto known = std::find_if(std::begin(kCiphers), std::end(kCiphers),
                                  [&](const CipherName& n) { return n.go == item.as_string(); });
        if (known == std::end(kCiphers)) return err("unknown cipher: " + item.as_string(), item.line, item.column);
        c.tls.cipher_suites.push_back(item.as_string());
      }
    }
    if (const ConfigValue* cp = t->find("curve_preferences"); cp && cp->is_list()) {
      for (const auto& item : cp->items()) {
        auto known = std::find_if(std::begin(kCurves), std::end(kCurves),
                                  [&](const auto& n) { return n.first == item.as_string(); });
        if (known == std::end(kCurves)) return err("unknown curve: " + item.as_string(), item.line, item.column);
        c.tls.curve_preferences.push_back(item.as_string());
      }
    }
  }
  if (const ConfigValue* h = v.find("http_server_config"); h && h->is_map()) {
    c.http2 = h->flag("http2");
    if (const ConfigValue* hs = h->find("headers"); hs && hs->is_map()) {
      for (const auto& [name, value] : hs->entries()) {
        auto rule = std::find_if(header_rules().begin(), header_rules().end(),
                                 [&name = name](const HeaderRule& r) { return r.name == name; });
        if (rule == header_rules().end()) {
          return err(fmt::format("HTTP header \"{}\" can not be configured", name), value.line, value.column);
        }
        if (!rule->values.empty() &&
            std::find(rule->values.begin(), rule->values.end(), value.as_string()) == rule->values.end()) {
          std::string allowed;
          for (auto a : rule->values) allowed += (allowed.empty() ? "\"" : " \"") + std::string(a) + "\"";
          return err(fmt::format("invalid value for {}. Expected one of: [{}], but got: \"{}\"", name, allowed,
                                 value.as_string()),
                     value.line, value.column);
        }
        c.headers.emplace_back(name, value.as_string());
      }
    }
  }
  if (const ConfigValue* r = v.find("rate_limit"); r && r->is_map()) {
    c.rate_interval = r->num("interval");
    c.rate_burst = r->num("burst");
  }
  if (const ConfigValue* u = v.find("basic_auth_users"); u && u->is_map()) {
    for (const auto& [name, hash] : u->entries()) {
      if (auto ok = check_bcrypt_hash(hash.as_string()); !ok) {
        return err(fmt::format("basic_auth_users: {}: {}", name, ok.error().message), hash.line, hash.column);
      }
      c.users[name] = hash.as_string();
    }
  }
  return c;
}

Result<void> validate_web_config(const std::string& path) {
  auto c = load_web_config(path);
  if (!c) return std::unexpected(c.error());
  if (!c->tls.enabled()) return {};
  auto ctx = TlsContext::create(c->tls);
  if (!ctx) return std::unexpected(ctx.error());
  return {};
}

// ---------------------------------------------------------------------------

TlsContext::~TlsContext() {
  if (ctx_) SSL_CTX_free(ctx_);
}

namespace {

int tls_version(std::string_view v) {
  if (v == "TLS10") return TLS1_VERSION;
  if (v == "TLS11") return TLS1_1_VERSION;
  if (v == "TLS12") return TLS1_2_VERSION;
  return TLS1_3_VERSION;
}

// Accepts whatever certificate the client shows: the policies that ask for
// one without verifying it.
int accept_any_certificate(int, X509_STORE_CTX*) { return 1; }

// HTTP/1.1 is the one protocol served: a client offering h2 and http/1.1
// gets http/1.1; one offering only h2 gets no ALPN answer.
int select_http11(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
                  void*) {
  static const unsigned char kProto[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* sel = nullptr;
  if (SSL_select_next_proto(&sel, outlen, kProto, sizeof kProto, in, inlen) == OPENSSL_NPN_NEGOTIATED) {
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

Result<void> load_ca(SSL_CTX* ctx, std::string_view pem) {
  BioPtr bio = memory_bio(pem);
  STACK_OF(X509_INFO)* infos = PEM_X509_INFO_read_bio(bio.get(), nullptr, nullptr, nullptr);
  if (infos == nullptr) return fail("client CA: " + openssl_error());
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
  int added = 0;
  for (int i = 0; i < sk_X509_INFO_num(infos); ++i) {
    X509_INFO* info = sk_X509_INFO_value(infos, i);
    if (info->x509 == nullptr) continue;
    X509_STORE_add_cert(store, info->x509);
    sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(info->x509)));
    ++added;
  }
  sk_X509_INFO_pop_free(infos, X509_INFO_free);
  SSL_CTX_set_client_CA_list(ctx, names);
  ERR_clear_error();
  (void)added;  // like Go's AppendCertsFromPEM, a CA text with no certificate is no error
  return {};
}

}  // namespace

Result<std::shared_ptr<TlsContext>> TlsContext::create(const WebConfig::Tls& tls) {
  if (tls.cert_file.empty() && tls.cert.empty()) return fail("missing one of cert or cert_file");
  if (tls.key_file.empty() && tls.key.empty()) return fail("missing one of key or key_file");
  std::string cert = tls.cert, key = tls.key;
  if (!tls.cert_file.empty()) {
    auto t = read_named("cert_file", tls.cert_file);
    if (!t) return std::unexpected(t.error());
    cert = std::move(*t);
  }
  if (!tls.key_file.empty()) {
    auto t = read_named("key_file", tls.key_file);
    if (!t) return std::unexpected(t.error());
    key = std::move(*t);
  }
  std::shared_ptr<TlsContext> out(new TlsContext());
  out->ctx_ = SSL_CTX_new(TLS_server_method());
  if (out->ctx_ == nullptr) return fail("TLS: " + openssl_error());
  SSL_CTX* ctx = out->ctx_;

  // The certificate chain and its key.
  {
    BioPtr bio = memory_bio(cert);
    X509* leaf = PEM_read_bio_X509_AUX(bio.get(), nullptr, nullptr, nullptr);
    if (leaf == nullptr) {
      ERR_clear_error();
      return fail("failed to load X509KeyPair: tls: failed to find any PEM data in certificate input");
    }
    int ok = SSL_CTX_use_certificate(ctx, leaf);
    X509_free(leaf);
    if (ok != 1) return fail("failed to load X509KeyPair: " + openssl_error());
    while (X509* extra = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
        X509_free(extra);
        return fail("failed to load X509KeyPair: " + openssl_error());
      }
    }
    ERR_clear_error();  // the end of the PEM text
  }
  {
    BioPtr bio = memory_bio(key);
    EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
    if (pkey == nullptr) {
      ERR_clear_error();
      return fail("failed to load X509KeyPair: tls: failed to find any PEM data in key input");
    }
    int ok = SSL_CTX_use_PrivateKey(ctx, pkey);
    EVP_PKEY_free(pkey);
    if (ok != 1 || SSL_CTX_check_private_key(ctx) != 1) {
      ERR_clear_error();
      return fail("failed to load X509KeyPair: tls: private key does not match public key");
    }
  }

  SSL_CTX_set_min_proto_version(ctx, tls_version(tls.min_version));
  SSL_CTX_set_max_proto_version(ctx, tls_version(tls.max_version));
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  if (tls.prefer_server_cipher_suites) SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  std::string ciphers;
  for (const auto& name : tls.cipher_suites) {
    for (const auto& c : kCiphers) {
      if (c.go != name || c.openssl.empty()) continue;
      if (!ciphers.empty()) ciphers += ':';
      ciphers += c.openssl;
    }
  }
  if (!ciphers.empty() && SSL_CTX_set_cipher_list(ctx, ciphers.c_str()) != 1) {
    return fail("cipher_suites: " + openssl_error());
  }
  std::string groups;
  for (const auto& name : tls.curve_preferences) {
    for (const auto& [go, ossl] : kCurves) {
      if (go != name) continue;
      if (!groups.empty()) groups += ':';
      groups += ossl;
    }
  }
  if (!groups.empty() && SSL_CTX_set1_groups_list(ctx, groups.c_str()) != 1) {
    return fail("curve_preferences: " + openssl_error());
  }
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_alpn_select_cb(ctx, select_http11, nullptr);
  static const unsigned char kSessionContext[] = "vigil";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);

  const std::string& policy = tls.client_auth_type;
  int mode = SSL_VERIFY_NONE;
  bool verify = true;
  if (policy.empty() || policy == "NoClientCert") {
    mode = SSL_VERIFY_NONE;
  } else if (policy == "RequestClientCert") {
    mode = SSL_VERIFY_PEER;
    verify = false;
  } else if (policy == "RequireAnyClientCert" || policy == "RequireClientCert") {
    mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    verify = false;
  } else if (policy == "VerifyClientCertIfGiven") {
    mode = SSL_VERIFY_PEER;
  } else if (policy == "RequireAndVerifyClientCert") {
    mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  } else {
    return fail("invalid ClientAuth: " + policy);
  }
  std::string ca = tls.client_ca;
  if (!tls.client_ca_file.empty()) {
    auto t = read_file(tls.client_ca_file, size_t{4} << 20);
    if (!t) return std::unexpected(t.error());
    ca = std::move(*t);
  }
  if (!ca.empty()) {
    if (mode == SSL_VERIFY_NONE) return fail("client CA's have been configured without a Client Auth Policy");
    if (auto r = load_ca(ctx, ca); !r) return std::unexpected(r.error());
  }
  SSL_CTX_set_verify(ctx, mode, verify ? nullptr : accept_any_certificate);
  out->allowed_sans_ = tls.client_allowed_sans;
  return out;
}

bool TlsContext::peer_allowed(void* ssl_ptr) const {
  if (allowed_sans_.empty()) return true;
  SSL* ssl = static_cast<SSL*>(ssl_ptr);
  X509* peer = SSL_get1_peer_certificate(ssl);
  if (peer == nullptr) return false;
  std::vector<std::string> sans;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(peer, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    auto text = [](const ASN1_STRING* s) {
      return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                         static_cast<size_t>(ASN1_STRING_length(s)));
    };
    if (n->type == GEN_DNS || n->type == GEN_EMAIL || n->type == GEN_URI) {
      sans.push_back(text(n->d.ia5));
    } else if (n->type == GEN_IPADD) {
      char buf[INET6_ADDRSTRLEN] = {0};
      int len = ASN1_STRING_length(n->d.ip);
      const unsigned char* p = ASN1_STRING_get0_data(n->d.ip);
      if (len == 4) inet_ntop(AF_INET, p, buf, sizeof buf);
      if (len == 16) inet_ntop(AF_INET6, p, buf, sizeof buf);
      if (buf[0]) sans.emplace_back(buf);
    }
  }
  GENERAL_NAMES_free(names);
  X509_free(peer);
  for (const auto& s : sans) {
    if (std::find(allowed_sans_.begin(), allowed_sans_.end(), s) != allowed_sans_.end()) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------

struct WebAccess::Loaded {
  WebConfig config;
  std::shared_ptr<TlsContext> tls;  // when the listener speaks TLS
  std::string unknown_user_hash;    // compared against for unknown users
};

Result<std::unique_ptr<WebAccess>> WebAccess::open(std::string path, const Clock& clock,
                                                   std::function<void(const std::string&)> on_error) {
  std::unique_ptr<WebAccess> w(new WebAccess(std::move(path), clock, std::move(on_error)));
  auto cfg = load_web_config(w->path_);
  if (!cfg) return fail(format_error(w->path_, cfg.error()));
  w->tls_ = cfg->tls.enabled();
  auto loaded = w->load();
  if (!loaded) return std::unexpected(loaded.error());
  w->loaded_ = *loaded;
  w->files_seen_ = w->fingerprint(&(*loaded)->config);
  w->checked_at_ = clock.now();
  w->tokens_ = static_cast<double>((*loaded)->config.rate_burst);
  w->tokens_at_ = clock.now();
  return w;
}

Result<std::shared_ptr<const WebAccess::Loaded>> WebAccess::load() const {
  auto cfg = load_web_config(path_);
  if (!cfg) return fail(format_error(path_, cfg.error()));
  auto out = std::make_shared<Loaded>();
  if (tls_) {
    if (!cfg->tls.enabled()) return fail(path_ + ": TLS config is not present (TLS was on at start; restart to turn it off)");
    auto ctx = TlsContext::create(cfg->tls);
    if (!ctx) return fail(path_ + ": " + ctx.error().message);
    out->tls = *ctx;
  } else if (cfg->tls.enabled()) {
    return fail(path_ + ": TLS was off at start; restart vigil to serve TLS");
  }
  if (!cfg->users.empty()) {
    // A hash of a random password at the cost users have: an unknown user
    // costs as much time as a known one, so timing does not tell names.
    unsigned char raw[16];
    RAND_bytes(raw, sizeof raw);
    const std::string& model = cfg->users.begin()->second;
    std::string setting = model.substr(0, model.find('$', 4) + 1);
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    int cost = std::atoi(setting.c_str() + setting.find('$', 1) + 1);
    if (crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), reinterpret_cast<const char*>(raw), sizeof raw,
                         salt, sizeof salt) != nullptr) {
      auto data = std::make_unique<crypt_data>();
      std::memset(data.get(), 0, sizeof(crypt_data));
      if (const char* h = crypt_r("vigil-unknown-user", salt, data.get()); h && h[0] == '$') out->unknown_user_hash = h;
    }
  }
  out->config = std::move(*cfg);
  return std::shared_ptr<const Loaded>(std::move(out));
}

std::string WebAccess::fingerprint(const WebConfig* cfg) const {
  std::string out;
  auto add = [&out](const std::string& p) {
    if (p.empty()) return;
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) {
      out += p + ":missing;";
      return;
    }
    out += fmt::format("{}:{}:{}:{}.{};", p, st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  };
  add(path_);
  if (cfg) {
    add(cfg->tls.cert_file);
    add(cfg->tls.key_file);
    add(cfg->tls.client_ca_file);
  }
  return out;
}

std::shared_ptr<const WebAccess::Loaded> WebAccess::current() {
  std::lock_guard lock(mu_);
  const Millis now = clock_.now();
  if (now - checked_at_ < kSecond && now >= checked_at_) return loaded_;
  checked_at_ = now;
  std::string seen = fingerprint(loaded_ ? &loaded_->config : nullptr);
  if (seen == files_seen_) return loaded_;
  auto fresh = load();
  if (fresh) {
    loaded_ = *fresh;
    auth_cache_.clear();
  } else {
    loaded_ = nullptr;
    if (on_error_) on_error_(fresh.error().message);
  }
  files_seen_ = fingerprint(loaded_ ? &loaded_->config : nullptr);
  return loaded_;
}

std::shared_ptr<TlsContext> WebAccess::tls_context() {
  auto l = current();
  return l ? l->tls : nullptr;
}

namespace {

Response plain_error(int status, std::string_view text) {
  Response r = Response::text(status, std::string(text) + "\n");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return r;
}

// RFC 7617 credentials from an Authorization header, as Go's
// Request.BasicAuth reads them.
std::optional<std::pair<std::string, std::string>> basic_credentials(std::string_view header) {
  if (header.size() < 6) return std::nullopt;
  std::string scheme(header.substr(0, 6));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "basic ") return std::nullopt;
  auto decoded = net::base64_decode(header.substr(6));
  if (!decoded) return std::nullopt;
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::pair{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

std::string auth_cache_key(std::string_view user, std::string_view hash, std::string_view password) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* c = EVP_MD_CTX_new();
  EVP_DigestInit_ex(c, EVP_sha256(), nullptr);
  for (std::string_view part : {user, hash, password}) {
    uint64_t n = part.size();
    EVP_DigestUpdate(c, &n, sizeof n);
    EVP_DigestUpdate(c, part.data(), part.size());
  }
  EVP_DigestFinal_ex(c, md, &len);
  EVP_MD_CTX_free(c);
  return std::string(reinterpret_cast<const char*>(md), len);
}

}  // namespace

WebAccess::Verdict WebAccess::admit(const Request& req) {
  Verdict v;
  auto l = current();
  if (!l) {
    v.refuse = plain_error(500, "Internal Server Error");
    return v;
  }
  const WebConfig& c = l->config;
  if (c.rate_interval > 0) {
    std::lock_guard lock(mu_);
    const Millis now = clock_.now();
    const double burst = static_cast<double>(c.rate_burst);
    tokens_ = std::min(burst, tokens_ + static_cast<double>(std::max<Millis>(0, now - tokens_at_)) /
                                            static_cast<double>(c.rate_interval));
    tokens_at_ = now;
    if (tokens_ < 1) {
      v.refuse = plain_error(429, "Too Many Requests");
      return v;
    }
    tokens_ -= 1;
  }
  v.headers = c.headers;
  if (c.users.empty()) return v;

  if (auto cred = basic_credentials(req.header("authorization"))) {
    const auto& [user, password] = *cred;
    auto it = c.users.find(user);
    const bool known = it != c.users.end();
    const std::string& hash = known ? it->second : l->unknown_user_hash;
    const std::string key = auth_cache_key(user, hash, password);
    std::optional<bool> verdict;
    {
      std::lock_guard lock(mu_);
      if (auto hit = auth_cache_.find(key); hit != auth_cache_.end()) verdict = hit->second;
    }
    if (!verdict) {
      bool ok;
      {
        std::lock_guard lock(bcrypt_mu_);
        ok = bcrypt_matches(hash, password);
      }
      verdict = known && ok;
      std::lock_guard lock(mu_);
      if (auth_cache_.size() >= 1024) auth_cache_.clear();
      auth_cache_[key] = *verdict;
    }
    if (*verdict) return v;
  }
  v.refuse = plain_error(401, "Unauthorized");
  v.refuse->headers.emplace_back("WWW-Authenticate", "Basic");
  return v;
}

}  // namespace vigil::server
