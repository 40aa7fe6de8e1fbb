#pragma once

// Certificates made on the spot for TLS tests (nothing secret is committed):
// a CA, and leaf certificates it signs with the names a test needs.

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

namespace vigil::testing {

struct Pem {
  std::string cert, key;
};

class TestCa {
 public:
  TestCa() {
    key_ = EVP_EC_gen("P-256");
    cert_ = make(key_, "vigil test CA", "", nullptr, nullptr, true);
  }
  ~TestCa() {
    X509_free(cert_);
    EVP_PKEY_free(key_);
  }
  TestCa(const TestCa&) = delete;
  TestCa& operator=(const TestCa&) = delete;

  std::string cert_pem() const { return pem(cert_); }

  // A leaf signed by this CA; `sans` as in the subjectAltName extension
  // ("IP:127.0.0.1,DNS:localhost").
  Pem issue(const std::string& cn, const std::string& sans) const {
    EVP_PKEY* k = EVP_EC_gen("P-256");
    X509* c = make(k, cn, sans, cert_, key_, false);
    Pem out{pem(c), key_pem(k)};
    X509_free(c);
    EVP_PKEY_free(k);
    return out;
  }

 private:
  static X509* make(EVP_PKEY* key, const std::string& cn, const std::string& sans, X509* issuer,
                    EVP_PKEY* issuer_key, bool ca) {
    X509* x = X509_new();
    X509_set_version(x, 2);
    static long serial = 1;
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                               0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, nullptr, nullptr, 0);
    auto add = [&](int nid, const std::string& value) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
      X509_add_ext(x, ext, -1);
      X509_EXTENSION_free(ext);
    };
    add(NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
    if (ca) add(NID_key_usage, "critical,keyCertSign,cRLSign");
    if (!sans.empty()) add(NID_subject_alt_name, sans);
    X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256());
    return x;
  }
  static std::string pem(X509* x) {
    BIO* b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    return drain(b);
  }
  static std::string key_pem(EVP_PKEY* k) {
    BIO* b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, k, nullptr, nullptr, 0, nullptr, nullptr);
    return drain(b);
  }
  static std::string drain(BIO* b) {
    char* data = nullptr;
    long n = BIO_get_mem_data(b, &data);
    std::string out(data, static_cast<size_t>(n));
    BIO_free(b);
    return out;
  }

  EVP_PKEY* key_ = nullptr;
  X509* cert_ = nullptr;
};

}  // namespace vigil::testing
