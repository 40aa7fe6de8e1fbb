// The HTTP server over real sockets on 127.0.0.1. Deadlines are driven by a
// ManualClock: a test moves it past a deadline and pokes the server, so no
// test waits for time to pass. Sockets carry a 10 s receive timeout only as
// a safety net against a hang.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <crypt.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "model/clock.h"
#include "server/http.h"
#include "server/web_config.h"
#include "tests/server/tls_certs.h"
#include "tests/temp_dir.h"

using namespace vigil;
using namespace vigil::server;

namespace {

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return fd;
}

void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    REQUIRE(n > 0);
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// Reads one whole answer (head and Content-Length body) off a socket,
// keeping what follows for the next call; "" when the server closed first.
struct Reader {
  int fd;
  std::string buf;
  // `bodyless`: the answer to a HEAD request (a length, but no body).
  std::string answer(bool bodyless = false) {
    while (true) {
      size_t end = buf.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t len = 0;
        std::string head = buf.substr(0, end);
        if (auto at = head.find("Content-Length: "); at != std::string::npos) {
          len = std::stoul(head.substr(at + 16));
        }
        if (bodyless || head.find(" 100 Continue") != std::string::npos) len = 0;
        if (buf.size() >= end + 4 + len) {
          std::string out = buf.substr(0, end + 4 + len);
          buf.erase(0, end + 4 + len);
          return out;
        }
      }
      char tmp[65536];
      ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
      if (n <= 0) return "";
      buf.append(tmp, static_cast<size_t>(n));
    }
  }
  // True when the server closes the connection (end of stream or reset).
  bool closed() {
    char tmp[4096];
    while (true) {
      ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
      buf.append(tmp, static_cast<size_t>(n));
    }
  }
};

std::string roundtrip(int port, std::string_view request) {
  int fd = connect_to(port);
  send_all(fd, request);
  Reader r{fd, {}};
  std::string out = r.answer();
  ::close(fd);
  return out;
}

// Waits (bounded) until the server holds `n` connections: their accept and
// first read happen on the server's thread.
void wait_connections(const HttpServer& s, size_t n) {
  for (int i = 0; i < 5000 && s.connections() != n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  REQUIRE(s.connections() == n);
}

Routes echo_routes() {
  Routes routes;
  routes.add("GET", "/-/healthy", [](const Request&) { return Response::text(200, "ok\n"); });
  routes.add("POST", "/echo", [](const Request& r) { return Response::text(201, r.body); });
  routes.add("POST", "/-/reload", [](const Request&) { return Response::text(200, ""); });
  return routes;
}

HttpServer::Options manual(ManualClock& clock) {
  HttpServer::Options o;
  o.clock = &clock;
  o.read_header_timeout = 5 * kSecond;
  o.read_timeout = 10 * kSecond;
  o.idle_timeout = 60 * kSecond;
  return o;
}

}  // namespace

TEST_CASE("http server: a POST with no body is answered at once") {
  Routes routes = echo_routes();
  HttpServer s(routes, {});
  REQUIRE(s.start("127.0.0.1:0"));
  std::string a = roundtrip(s.port(), "POST /-/reload HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n");
  CHECK(a.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(a.find("Content-Length: 0\r\n") != std::string::npos);
}

TEST_CASE("http server: a second server cannot take an address in use") {
  Routes routes = echo_routes();
  HttpServer a(routes, {});
  REQUIRE(a.start("127.0.0.1:0"));
  HttpServer b(routes, {});
  auto r = b.start("127.0.0.1:" + std::to_string(a.port()));
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "listen tcp 127.0.0.1:" + std::to_string(a.port()) + ": bind: address already in use");
}

TEST_CASE("http server: headers that trickle past the deadline get a 408, then the connection closes") {
  ManualClock clock(1000);
  Routes routes = echo_routes();
  HttpServer s(routes, manual(clock));
  REQUIRE(s.start("127.0.0.1:0"));
  int fd = connect_to(s.port());
  send_all(fd, "GET /-/healthy HTTP/1.1\r\nHo");
  wait_connections(s, 1);
  clock.advance(4 * kSecond);
  s.poke();
  send_all(fd, "st: x\r\n");  // still in time, but more bytes do not move the deadline
  clock.advance(1 * kSecond + 1);
  s.poke();
  Reader r{fd, {}};
  CHECK(r.answer().starts_with("HTTP/1.1 408 Request Timeout\r\n"));
  CHECK(r.closed());
  ::close(fd);
  wait_connections(s, 0);
  CHECK(s.metrics().find("vigil_http_connections_closed_total{reason=\"header_timeout\"} 1") != std::string::npos);
}

TEST_CASE("http server: a connection that sends nothing is closed at the header deadline") {
  ManualClock clock(1000);
  Routes routes = echo_routes();
  HttpServer s(routes, manual(clock));
  REQUIRE(s.start("127.0.0.1:0"));
  int fd = connect_to(s.port());
  wait_connections(s, 1);
  clock.advance(5 * kSecond + 1);
  s.poke();
  Reader r{fd, {}};
  CHECK(r.closed());
  CHECK(r.buf.empty());
  ::close(fd);
  wait_connections(s, 0);
}

TEST_CASE("http server: a body that stops coming gets a 408") {
  ManualClock clock(1000);
  Routes routes = echo_routes();
  HttpServer s(routes, manual(clock));
  REQUIRE(s.start("127.0.0.1:0"));
  int fd = connect_to(s.port());
  // The interim answer shows the head was read: the body's deadline runs from here.
  send_all(fd, "POST /echo HTTP/1.1\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n");
  Reader r{fd, {}};
  REQUIRE(r.answer() == "HTTP/1.1 100 Continue\r\n\r\n");
  send_all(fd, "only a little");
  clock.advance(9 * kSecond);
  s.poke();
  clock.advance(1 * kSecond + 1);
  s.poke();
  CHECK(r.answer().starts_with("HTTP/1.1 408"));
  ::close(fd);
  wait_connections(s, 0);
  CHECK(s.metrics().find("vigil_http_connections_closed_total{reason=\"body_timeout\"} 1") != std::string::npos);
}

TEST_CASE("http server: a kept-alive connection serves requests in order, then closes when idle") {
  ManualClock clock(1000);
  Routes routes = echo_routes();
  HttpServer s(routes, manual(clock));
  REQUIRE(s.start("127.0.0.1:0"));
  int fd = connect_to(s.port());
  // Two requests in one write: answered in order on the same connection.
  send_all(fd,
           "POST /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\none"
           "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n");
  Reader r{fd, {}};
  std::string first = r.answer(), second = r.answer();
  CHECK(first.starts_with("HTTP/1.1 201 Created\r\n"));
  CHECK(first.ends_with("\r\n\r\none"));
  CHECK(second.ends_with("\r\n\r\ntwo"));
  send_all(fd, "HEAD /-/healthy HTTP/1.1\r\n\r\n");
  std::string head = r.answer(true);
  CHECK(head.find("Content-Length: 3\r\n") != std::string::npos);
  CHECK(head.ends_with("\r\n\r\n"));  // no body after a HEAD
  // The idle deadline runs from when the answer was sent, on the server's thread.
  for (int i = 0; i < 5000 && s.idle_connections() != 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  REQUIRE(s.idle_connections() == 1);
  clock.advance(60 * kSecond + 1);
  s.poke();
  CHECK(r.closed());
  CHECK(r.buf.empty());
  ::close(fd);
}

TEST_CASE("http server: Expect 100-continue gets the interim answer before the body is sent") {
  Routes routes = echo_routes();
  HttpServer s(routes, {});
  REQUIRE(s.start("127.0.0.1:0"));
  int fd = connect_to(s.port());
  send_all(fd, "POST /echo HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  Reader r{fd, {}};
  CHECK(r.answer() == "HTTP/1.1 100 Continue\r\n\r\n");
  send_all(fd, "hello");
  CHECK(r.answer().ends_with("hello"));
  ::close(fd);
}

TEST_CASE("http server: an unreadable request is answered 400 and the connection closed") {
  Routes routes = echo_routes();
  HttpServer s(routes, {});
  REQUIRE(s.start("127.0.0.1:0"));
  int fd = connect_to(s.port());
  send_all(fd, "POST /echo HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n");
  Reader r{fd, {}};
  std::string a = r.answer();
  CHECK(a.starts_with("HTTP/1.1 400 Bad Request\r\n"));
  CHECK(a.find("Connection: close\r\n") != std::string::npos);
  CHECK(r.closed());
  ::close(fd);
}

TEST_CASE("http server: probes are answered while every handler thread is busy") {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> blocked{0};
  Routes routes = echo_routes();
  routes.add("GET", "/slow", [&](const Request&) {
    ++blocked;
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return release; });
    return Response::text(200, "slow\n");
  });
  HttpServer::Options o;
  o.threads = 2;
  o.priority_paths = {"/-/healthy"};
  HttpServer s(routes, o);
  REQUIRE(s.start("127.0.0.1:0"));
  int a = connect_to(s.port()), b = connect_to(s.port());
  send_all(a, "GET /slow HTTP/1.1\r\n\r\n");
  send_all(b, "GET /slow HTTP/1.1\r\n\r\n");
  for (int i = 0; i < 5000 && blocked < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  REQUIRE(blocked == 2);
  CHECK(roundtrip(s.port(), "GET /-/healthy HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200"));
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  Reader ra{a, {}}, rb{b, {}};
  CHECK(ra.answer().ends_with("slow\n"));
  CHECK(rb.answer().ends_with("slow\n"));
  ::close(a);
  ::close(b);
}

TEST_CASE("http server: at the connection limit, the longest idle connection makes room") {
  Routes routes = echo_routes();
  HttpServer::Options o;
  o.max_connections = 2;
  HttpServer s(routes, o);
  REQUIRE(s.start("127.0.0.1:0"));
  int first = connect_to(s.port());
  wait_connections(s, 1);
  int second = connect_to(s.port());
  wait_connections(s, 2);
  // A third connection is served; the first (idle longest) was closed for it.
  CHECK(roundtrip(s.port(), "GET /-/healthy HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200"));
  Reader r{first, {}};
  CHECK(r.closed());
  // The second is still open and still serves.
  send_all(second, "GET /-/healthy HTTP/1.1\r\n\r\n");
  Reader r2{second, {}};
  CHECK(r2.answer().starts_with("HTTP/1.1 200"));
  ::close(first);
  ::close(second);
  CHECK(s.metrics().find("vigil_http_connections_closed_total{reason=\"evicted\"} 1") != std::string::npos);
}

TEST_CASE("http server: at the limit with every connection being answered, a new one is closed at once") {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> blocked{0};
  Routes routes = echo_routes();
  routes.add("GET", "/slow", [&](const Request&) {
    ++blocked;
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return release; });
    return Response::text(200, "slow\n");
  });
  HttpServer::Options o;
  o.max_connections = 1;
  HttpServer s(routes, o);
  REQUIRE(s.start("127.0.0.1:0"));
  int busy = connect_to(s.port());
  send_all(busy, "GET /slow HTTP/1.1\r\n\r\n");
  for (int i = 0; i < 5000 && blocked < 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  REQUIRE(blocked == 1);
  int late = connect_to(s.port());
  Reader r{late, {}};
  CHECK(r.closed());
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  Reader rb{busy, {}};
  CHECK(rb.answer().ends_with("slow\n"));
  ::close(busy);
  ::close(late);
}

// ---------------------------------------------------------------------------
// TLS and basic auth from a web configuration.

namespace {

std::string bcrypt_hash(const std::string& password) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  REQUIRE(crypt_gensalt_rn("$2y$", 4, nullptr, 0, salt, sizeof salt) != nullptr);
  crypt_data data{};
  const char* h = crypt_r(password.c_str(), salt, &data);
  REQUIRE(h != nullptr);
  return h;
}

std::string basic(const std::string& user, const std::string& password) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string in = user + ":" + password, out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += k[(n >> s) & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    out += std::string{k[(n >> 18) & 63], k[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += std::string{k[(n >> 18) & 63], k[(n >> 12) & 63], k[(n >> 6) & 63], '='};
  }
  return "Authorization: Basic " + out + "\r\n";
}

// A blocking TLS client: the answer to one request, or "" when the
// handshake or the connection failed.
std::string tls_roundtrip(int port, const std::string& ca_pem, std::string_view request,
                          const testing::Pem* client = nullptr) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  BIO* bio = BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size()));
  X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  X509_STORE_add_cert(store, ca);
  X509_free(ca);
  BIO_free(bio);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (client) {
    BIO* cb = BIO_new_mem_buf(client->cert.data(), static_cast<int>(client->cert.size()));
    X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
    BIO_free(cb);
    BIO* kb = BIO_new_mem_buf(client->key.data(), static_cast<int>(client->key.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
    BIO_free(kb);
    SSL_CTX_use_certificate(ctx, cert);
    SSL_CTX_use_PrivateKey(ctx, key);
    X509_free(cert);
    EVP_PKEY_free(key);
  }
  int fd = connect_to(port);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  SSL_set1_host(ssl, "127.0.0.1");
  std::string out;
  if (SSL_connect(ssl) == 1 && SSL_write(ssl, request.data(), static_cast<int>(request.size())) > 0) {
    char buf[16384];
    int n;
    // TLS 1.3 reports a refused client certificate on the first read.
    while ((n = SSL_read(ssl, buf, sizeof buf)) > 0) {
      out.append(buf, static_cast<size_t>(n));
      if (out.find("\r\n\r\n") != std::string::npos) {
        size_t at = out.find("Content-Length: ");
        size_t len = at == std::string::npos ? 0 : std::stoul(out.substr(at + 16));
        if (out.size() >= out.find("\r\n\r\n") + 4 + len) break;
      }
    }
  }
  ERR_clear_error();
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ::close(fd);
  return out;
}

}  // namespace

TEST_CASE("http server: TLS and basic auth from a web configuration") {
  testing::TempDir dir;
  testing::TestCa ca;
  testing::Pem server = ca.issue("vigil", "IP:127.0.0.1,DNS:localhost");
  dir.write("server.crt", server.cert);
  dir.write("server.key", server.key);
  const std::string hash = bcrypt_hash("s3cret");
  std::string cfg = dir.write("web.yml",
                              "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                              "http_server_config:\n  headers:\n    X-Frame-Options: deny\n"
                              "basic_auth_users:\n  alice: " + hash + "\n");
  ManualClock clock(1000);
  Routes routes = echo_routes();
  HttpServer::Options o = manual(clock);
  o.web_config_file = cfg;
  HttpServer s(routes, o);
  REQUIRE(s.start("127.0.0.1:0"));
  CHECK(s.tls());

  std::string denied = tls_roundtrip(s.port(), ca.cert_pem(), "GET /-/healthy HTTP/1.1\r\n\r\n");
  CHECK(denied.starts_with("HTTP/1.1 401 Unauthorized\r\n"));
  CHECK(denied.find("WWW-Authenticate: Basic\r\n") != std::string::npos);
  CHECK(tls_roundtrip(s.port(), ca.cert_pem(), "GET /-/healthy HTTP/1.1\r\n" + basic("alice", "wrong") + "\r\n")
            .starts_with("HTTP/1.1 401"));
  CHECK(tls_roundtrip(s.port(), ca.cert_pem(), "GET /-/healthy HTTP/1.1\r\n" + basic("mallory", "s3cret") + "\r\n")
            .starts_with("HTTP/1.1 401"));
  std::string ok = tls_roundtrip(s.port(), ca.cert_pem(), "GET /-/healthy HTTP/1.1\r\n" + basic("alice", "s3cret") + "\r\n");
  CHECK(ok.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(ok.find("X-Frame-Options: deny\r\n") != std::string::npos);
  // Plain HTTP to a TLS listener gets nothing.
  CHECK(roundtrip(s.port(), "GET /-/healthy HTTP/1.1\r\n\r\n").empty());

  // The file is followed: a changed password takes effect after the next
  // check (at most a second later) without a restart...
  dir.write("web.yml", "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                       "basic_auth_users:\n  alice: " + bcrypt_hash("n3w") + "\n");
  clock.advance(2 * kSecond);
  CHECK(tls_roundtrip(s.port(), ca.cert_pem(), "GET /-/healthy HTTP/1.1\r\n" + basic("alice", "n3w") + "\r\n")
            .starts_with("HTTP/1.1 200"));
  CHECK(tls_roundtrip(s.port(), ca.cert_pem(), "GET /-/healthy HTTP/1.1\r\n" + basic("alice", "s3cret") + "\r\n")
            .starts_with("HTTP/1.1 401"));
  // ...and a file made invalid opens nothing: handshakes fail until it is fixed.
  dir.write("web.yml", "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                       "basic_auth_users:\n  alice: not-a-bcrypt-hash\n");
  clock.advance(2 * kSecond);
  CHECK(tls_roundtrip(s.port(), ca.cert_pem(), "GET /-/healthy HTTP/1.1\r\n" + basic("alice", "n3w") + "\r\n")
            .empty());
}

TEST_CASE("http server: client certificates as the web configuration requires them") {
  testing::TempDir dir;
  testing::TestCa ca;
  testing::Pem server = ca.issue("vigil", "IP:127.0.0.1");
  testing::Pem client = ca.issue("prometheus", "DNS:prometheus.example");
  testing::Pem stranger = ca.issue("other", "DNS:other.example");
  dir.write("server.crt", server.cert);
  dir.write("server.key", server.key);
  dir.write("ca.crt", ca.cert_pem());
  std::string cfg = dir.write("web.yml",
                              "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                              "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n"
                              "  client_allowed_sans: [prometheus.example]\n");
  Routes routes = echo_routes();
  HttpServer::Options o;
  o.web_config_file = cfg;
  HttpServer s(routes, o);
  REQUIRE(s.start("127.0.0.1:0"));
  const std::string req = "GET /-/healthy HTTP/1.1\r\n\r\n";
  CHECK(tls_roundtrip(s.port(), ca.cert_pem(), req, &client).starts_with("HTTP/1.1 200"));
  CHECK(tls_roundtrip(s.port(), ca.cert_pem(), req).empty());             // no certificate
  CHECK(tls_roundtrip(s.port(), ca.cert_pem(), req, &stranger).empty());  // a name not allowed
}

TEST_CASE("http server: the web configuration's rate limit answers 429 past its burst") {
  testing::TempDir dir;
  std::string cfg = dir.write("web.yml", "rate_limit:\n  interval: 1s\n  burst: 2\n");
  ManualClock clock(1000);
  Routes routes = echo_routes();
  HttpServer::Options o = manual(clock);
  o.web_config_file = cfg;
  HttpServer s(routes, o);
  REQUIRE(s.start("127.0.0.1:0"));
  const std::string req = "GET /-/healthy HTTP/1.1\r\n\r\n";
  CHECK(roundtrip(s.port(), req).starts_with("HTTP/1.1 200"));
  CHECK(roundtrip(s.port(), req).starts_with("HTTP/1.1 200"));
  CHECK(roundtrip(s.port(), req).starts_with("HTTP/1.1 429 Too Many Requests"));
  clock.advance(1 * kSecond);
  CHECK(roundtrip(s.port(), req).starts_with("HTTP/1.1 200"));
}

TEST_CASE("http server: request bytes held across connections are bounded, and released") {
  Routes routes = echo_routes();
  HttpServer::Options o;
  o.max_buffered_bytes = 300;
  HttpServer s(routes, o);
  REQUIRE(s.start("127.0.0.1:0"));
  std::string big(500, 'x');
  std::string a = roundtrip(s.port(), "POST /echo HTTP/1.1\r\nContent-Length: 500\r\n\r\n" + big);
  CHECK(a.starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
  wait_connections(s, 0);
  // What the refused request held is given back: a small one fits again.
  CHECK(roundtrip(s.port(), "POST /echo HTTP/1.1\r\nContent-Length: 5\r\n\r\nsmall").ends_with("small"));
  CHECK(s.metrics().find("vigil_http_requests_over_budget_total 1") != std::string::npos);
}
