// HttpServer: one epoll thread for every connection, a pool of handler
// threads for requests (see server/http.h for the contract).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <ctime>
#include <deque>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>

#include "model/metrics_writer.h"
#include "server/http.h"
#include "server/http_parser.h"
#include "server/web_config.h"

namespace vigil::server {

namespace {

constexpr uint64_t kListenTag = std::numeric_limits<uint64_t>::max() - 1;
constexpr uint64_t kWakeTag = std::numeric_limits<uint64_t>::max();
constexpr Millis kNever = std::numeric_limits<Millis>::max();
constexpr Millis kLinger = 1000;      // reading what a client still sends after our last answer
constexpr Millis kSweepEvery = 100;   // how often deadlines are checked
constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kTlsCoalesce = 16 * 1024;  // bodies up to this go out in the head's TLS record

const SteadyClock kSteady;

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Request Entity Too Large";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Status";
  }
}

// The Date header, formatted once a second.
std::string http_date() {
  static thread_local time_t cached_at = 0;
  static thread_local std::string cached;
  time_t now = ::time(nullptr);
  if (now != cached_at) {
    struct tm tm {};
    gmtime_r(&now, &tm);
    char buf[64];
    size_t n = strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached.assign(buf, n);
    cached_at = now;
  }
  return cached;
}

std::string go_errno(int err) {
  std::string s = std::strerror(err);
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

// Why connections end, for /metrics.
enum Reason : size_t {
  kClient,          // the client closed, or the exchange ended normally
  kHeaderTimeout,
  kBodyTimeout,
  kIdleTimeout,
  kWriteTimeout,
  kEvicted,         // made room for a new connection
  kRefused,         // over the limit with nothing to evict
  kBadRequest,
  kTlsFailed,
  kReasons,
};
constexpr std::string_view kReasonNames[kReasons] = {"client",   "header_timeout", "body_timeout",
                                                     "idle_timeout", "write_timeout", "evicted",
                                                     "refused",  "bad_request",    "tls_handshake"};

enum class Phase {
  kRead,      // waiting for, or reading, a request
  kHandling,  // a handler thread has the request
  kWrite,     // sending the answer
  kLinger,    // answer sent, closing: reading what the client still sends
};

struct Conn {
  uint64_t id = 0;
  int fd = -1;
  SSL* ssl = nullptr;
  std::shared_ptr<TlsContext> tls;  // keeps the SSL_CTX alive
  bool handshaking = false;
  std::string remote;
  Phase phase = Phase::kRead;
  RequestParser parser;
  bool idle = false;        // kept alive between requests, no byte of the next yet
  Millis deadline = kNever;
  Reason deadline_reason = kHeaderTimeout;
  Millis since = 0;         // when it last became idle (or was accepted)
  std::string interim;      // "100 Continue", sent before the body is read
  std::string head, body;   // the answer being written
  size_t head_off = 0, body_off = 0;
  bool close_after = false;
  bool peer_closed = false;
  bool head_request = false;
  bool http10 = false;           // of the request being answered
  size_t held = 0;               // request bytes counted against the server's budget
  Reason end_reason = kClient;   // why it is closing, once decided

  explicit Conn(RequestParser::Limits limits) : parser(limits) {}
};

struct Task {
  uint64_t conn = 0;
  Request req;
};

struct Done {
  uint64_t conn = 0;
  Response resp;
};

// A queue of requests and the threads that answer them.
class Lane {
 public:
  void push(Task t) {
    {
      std::lock_guard lock(mu_);
      tasks_.push_back(std::move(t));
    }
    cv_.notify_one();
  }
  // Blocks for the next task; nullopt once stopped.
  std::optional<Task> pop() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return stop_ || !tasks_.empty(); });
    if (stop_) return std::nullopt;
    Task t = std::move(tasks_.front());
    tasks_.pop_front();
    return t;
  }
  void stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> tasks_;
  bool stop_ = false;
};

}  // namespace

struct HttpServer::Impl {
  Impl(const Routes& r, Options o) : routes(r), opts(std::move(o)), clock(opts.clock ? *opts.clock : kSteady) {}
  ~Impl() { stop(); }

  const Routes& routes;
  Options opts;
  const Clock& clock;
  std::unique_ptr<WebAccess> web;

  int listen_fd = -1, epfd = -1, wake_fd = -1;
  bool listening = true;  // false while descriptors have run out
  size_t max_conns = 0;
  std::thread net_thread;
  std::vector<std::thread> workers;
  Lane lane, priority_lane;
  std::atomic<bool> stopping{false};
  std::atomic<bool> sweep_requested{false};
  bool stopped = false;

  // Network thread only.
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns;
  uint64_t next_id = 1;
  Millis last_sweep = 0;

  std::mutex done_mu;  // guards done
  std::vector<Done> done;

  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> closed[kReasons] = {};
  std::atomic<size_t> open{0};
  std::atomic<size_t> idle{0};  // kept alive, waiting for the next request
  size_t max_buffered = 0;
  size_t buffered = 0;           // network thread only: sum of Conn::held
  std::atomic<uint64_t> over_budget{0};

  Result<void> listen(const std::string& address, int& port_out);
  void start_threads();
  void stop();
  void wake() {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd, &one, sizeof one);
  }

  // Network thread.
  void run();
  void accept_all();
  bool make_room();
  void on_event(Conn& c, uint32_t events);
  void on_readable(Conn& c);
  void after_parse(Conn& c, RequestParser::State before);
  void dispatch(Conn& c);
  void complete(Done d);
  void start_answer(Conn& c, Response resp);
  void flush(Conn& c);
  void finish_answer(Conn& c);
  void fail_request(Conn& c, int status, std::string_view why, Reason reason);
  void close(Conn& c, Reason reason);
  // Counts `held` bytes for `c` against the budget; false when over it.
  bool account(Conn& c, size_t held) {
    buffered = buffered - c.held + held;
    c.held = held;
    return buffered <= max_buffered;
  }
  void sweep(Millis now);
  // -1: would block; 0: end of stream; -2: error; otherwise bytes read.
  ssize_t read_some(Conn& c, char* buf, size_t n);
  bool handshake(Conn& c);  // false: not done yet, or failed (then closed)

  // Handler threads.
  void work(Lane& l);
};

Result<void> HttpServer::Impl::listen(const std::string& address, int& port_out) {
  auto hp = split_host_port(address);
  if (!hp) return std::unexpected(hp.error());
  const auto& [host, port] = *hp;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string port_text = std::to_string(port);
  if (int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port_text.c_str(), &hints, &res); rc != 0) {
    return fail(fmt::format("listen tcp {}: lookup {}: {}", address, host, gai_strerror(rc)));
  }
  std::string last_error = "no address";
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last_error = "socket: " + go_errno(errno);
      continue;
    }
    // SO_REUSEADDR only: a restart may bind over connections in TIME_WAIT,
    // but a second server on the same address fails, as Go's does.
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      last_error = "bind: " + go_errno(errno);
      ::close(fd);
      continue;
    }
    if (::listen(fd, SOMAXCONN) != 0) {
      last_error = "listen: " + go_errno(errno);
      ::close(fd);
      continue;
    }
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    port_out = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                        : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    listen_fd = fd;
    break;
  }
  ::freeaddrinfo(res);
  if (listen_fd < 0) return fail(fmt::format("listen tcp {}: {}", address, last_error));
  return {};
}

void HttpServer::Impl::start_threads() {
  net_thread = std::thread([this] { run(); });
  for (size_t i = 0; i < std::max<size_t>(1, opts.threads); ++i) {
    workers.emplace_back([this] {
      // Bulk API work (listings of every alert) yields the CPU to the
      // network thread and to probes: on a saturated machine a probe still
      // gets its turn quickly.
      ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 5);
      work(lane);
    });
  }
  workers.emplace_back([this] { work(priority_lane); });
}

void HttpServer::Impl::stop() {
  if (stopped) return;
  stopped = true;
  stopping = true;
  if (wake_fd >= 0) wake();
  if (net_thread.joinable()) net_thread.join();
  lane.stop();
  priority_lane.stop();
  for (auto& t : workers) t.join();
  workers.clear();
  for (auto& [id, c] : conns) {
    if (c->ssl) SSL_free(c->ssl);
    ::close(c->fd);
  }
  conns.clear();
  if (listen_fd >= 0) ::close(listen_fd);
  if (epfd >= 0) ::close(epfd);
  if (wake_fd >= 0) ::close(wake_fd);
  listen_fd = epfd = wake_fd = -1;
}

void HttpServer::Impl::work(Lane& l) {
  while (auto t = l.pop()) {
    Response resp;
    std::vector<std::pair<std::string, std::string>> extra;
    bool refused = false;
    if (web) {
      auto verdict = web->admit(t->req);
      extra = std::move(verdict.headers);
      if (verdict.refuse) {
        resp = std::move(*verdict.refuse);
        refused = true;
      }
    }
    if (!refused) {
      if (t->req.header("content-type").starts_with("application/x-www-form-urlencoded")) {
        parse_query(t->req.body, t->req.params);
      }
      resp = routes.handle(std::move(t->req));
    }
    for (auto& h : extra) resp.headers.push_back(std::move(h));
    {
      std::lock_guard lock(done_mu);
      done.push_back(Done{t->conn, std::move(resp)});
    }
    wake();
  }
}

void HttpServer::Impl::run() {
  epoll_event events[256];
  while (!stopping) {
    Millis now = clock.now();
    int timeout = static_cast<int>(std::clamp<Millis>(kSweepEvery - (now - last_sweep), 0, kSweepEvery));
    int n = ::epoll_wait(epfd, events, 256, timeout);
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      const uint64_t tag = events[i].data.u64;
      if (tag == kListenTag) {
        accept_all();
      } else if (tag == kWakeTag) {
        uint64_t count;
        [[maybe_unused]] ssize_t r = ::read(wake_fd, &count, sizeof count);
        std::vector<Done> ready;
        {
          std::lock_guard lock(done_mu);
          ready.swap(done);
        }
        for (auto& d : ready) complete(std::move(d));
      } else if (auto it = conns.find(tag); it != conns.end()) {
        on_event(*it->second, events[i].events);
      }
    }
    now = clock.now();
    if (sweep_requested.exchange(false) || now - last_sweep >= kSweepEvery || now < last_sweep || n == 0) sweep(now);
  }
}

namespace {
Millis victim_since(const Conn* c) { return c ? c->since : kNever; }
}  // namespace

bool HttpServer::Impl::make_room() {
  // The connection waiting longest for a request (idle first, then the
  // slowest to send one) gives way; connections being answered never do.
  Conn* victim = nullptr;
  bool victim_idle = false;
  for (auto& [id, c] : conns) {
    if (c->phase != Phase::kRead && c->phase != Phase::kLinger) continue;
    bool idle = c->phase == Phase::kLinger || c->parser.state() == RequestParser::State::kEmpty;
    const bool older = c->since < victim_since(victim) ||
                       (victim && c->since == victim->since && c->id < victim->id);  // same ms: accepted first
    if (!victim || (idle && !victim_idle) || (idle == victim_idle && older)) {
      victim = c.get();
      victim_idle = idle;
    }
  }
  if (!victim) return false;
  close(*victim, kEvicted);
  return true;
}

void HttpServer::Impl::accept_all() {
  // A bounded number per turn: the listener is level-triggered, so the rest
  // wait for the next turn and a flood of connections cannot starve the
  // connections already open.
  for (int turn = 0; turn < 64; ++turn) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors: stop listening until the next sweep rather
        // than spin on a listener that stays readable.
        if (opts.on_error) opts.on_error("cannot accept connections", go_errno(errno));
        epoll_event ev{};
        ev.data.u64 = kListenTag;
        ::epoll_ctl(epfd, EPOLL_CTL_MOD, listen_fd, &ev);
        listening = false;
      }
      return;
    }
    ++accepted;
    if (conns.size() >= max_conns && !make_room()) {
      ++closed[kRefused];
      ::close(fd);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto c = std::make_unique<Conn>(RequestParser::Limits{opts.max_header_bytes, opts.max_body});
    c->id = next_id++;
    c->fd = fd;
    char host[INET6_ADDRSTRLEN] = {0};
    if (ss.ss_family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(&ss);
      inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
      c->remote = fmt::format("{}:{}", host, ntohs(a->sin_port));
    } else if (ss.ss_family == AF_INET6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
      inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
      c->remote = fmt::format("[{}]:{}", host, ntohs(a->sin6_port));
    }
    const Millis now = clock.now();
    c->since = now;
    c->deadline = now + opts.read_header_timeout;
    c->deadline_reason = kHeaderTimeout;
    if (web && web->tls()) {
      c->tls = web->tls_context();
      if (!c->tls || !(c->ssl = SSL_new(c->tls->native()))) {
        ++closed[kTlsFailed];
        ::close(fd);
        continue;
      }
      SSL_set_fd(c->ssl, fd);
      SSL_set_accept_state(c->ssl);
      c->handshaking = true;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = c->id;
    if (::epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
      if (c->ssl) SSL_free(c->ssl);
      ::close(fd);
      continue;
    }
    ++open;
    Conn& ref = *c;
    conns.emplace(c->id, std::move(c));
    // Edge-triggered: a request that arrived with the connection is read now.
    on_readable(ref);
  }
}

void HttpServer::Impl::on_event(Conn& c, uint32_t events) {
  const uint64_t id = c.id;
  if (events & (EPOLLRDHUP | EPOLLHUP)) c.peer_closed = true;
  if (events & EPOLLERR) {
    close(c, kClient);
    return;
  }
  switch (c.phase) {
    case Phase::kRead:
    case Phase::kLinger:
      on_readable(c);
      break;
    case Phase::kWrite:
      flush(c);
      break;
    case Phase::kHandling:
      break;  // the answer comes from a handler; a hang-up is noted above
  }
  // Interim "100 Continue" waiting for the socket.
  if (auto it = conns.find(id); it != conns.end() && !it->second->interim.empty()) flush(*it->second);
}

bool HttpServer::Impl::handshake(Conn& c) {
  ERR_clear_error();
  int rc = SSL_do_handshake(c.ssl);
  if (rc == 1) {
    c.handshaking = false;
    if (!c.tls->peer_allowed(c.ssl)) {
      close(c, kTlsFailed);
      return false;
    }
    return true;
  }
  int err = SSL_get_error(c.ssl, rc);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return false;
  ERR_clear_error();
  close(c, kTlsFailed);
  return false;
}

ssize_t HttpServer::Impl::read_some(Conn& c, char* buf, size_t n) {
  if (!c.ssl) {
    while (true) {
      ssize_t r = ::recv(c.fd, buf, n, 0);
      if (r >= 0) return r;
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : -2;
    }
  }
  ERR_clear_error();
  int r = SSL_read(c.ssl, buf, static_cast<int>(n));
  if (r > 0) return r;
  int err = SSL_get_error(c.ssl, r);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return -1;
  if (err == SSL_ERROR_ZERO_RETURN) return 0;
  ERR_clear_error();
  return -2;
}

void HttpServer::Impl::on_readable(Conn& c) {
  if (c.handshaking && !handshake(c)) return;
  char buf[kReadChunk];
  while (c.phase == Phase::kRead || c.phase == Phase::kLinger) {
    ssize_t n = read_some(c, buf, sizeof buf);
    if (n == -1) return;
    if (n <= 0) {
      // The client is gone (or hung up with a request half sent).
      close(c, kClient);
      return;
    }
    if (c.phase == Phase::kLinger) continue;  // discarded
    const auto before = c.parser.state();
    c.parser.feed(std::string_view(buf, static_cast<size_t>(n)));
    if (!account(c, c.parser.held_bytes())) {
      ++over_budget;
      fail_request(c, 503, "server busy: too many request bytes in flight", kBadRequest);
      return;
    }
    const uint64_t id = c.id;
    after_parse(c, before);
    if (conns.find(id) == conns.end()) return;  // closed while answering an error
  }
}

void HttpServer::Impl::after_parse(Conn& c, RequestParser::State before) {
  using S = RequestParser::State;
  const S now_state = c.parser.state();
  const Millis now = clock.now();
  if (before == S::kEmpty && now_state != S::kEmpty && c.idle) {
    c.idle = false;
    --idle;
    c.deadline = now + opts.read_header_timeout;
    c.deadline_reason = kHeaderTimeout;
  }
  if (before != S::kBody && now_state == S::kBody) {
    c.deadline = now + opts.read_timeout;
    c.deadline_reason = kBodyTimeout;
  }
  if (now_state == S::kBody && c.parser.take_expect_continue()) {
    c.interim = c.parser.http10() ? "HTTP/1.0 100 Continue\r\n\r\n" : "HTTP/1.1 100 Continue\r\n\r\n";
    flush(c);
    return;
  }
  if (now_state == S::kError) {
    fail_request(c, c.parser.error_status(), c.parser.error_message(), kBadRequest);
    return;
  }
  if (now_state == S::kDone) dispatch(c);
}

void HttpServer::Impl::dispatch(Conn& c) {
  c.phase = Phase::kHandling;
  c.deadline = kNever;
  c.close_after = !c.parser.keep_alive();
  c.http10 = c.parser.http10();
  Task t{c.id, c.parser.take()};
  account(c, t.req.body.size() + c.parser.held_bytes());  // until the answer starts
  t.req.remote_addr = c.remote;
  c.head_request = t.req.method == "HEAD";
  const bool priority = std::find(opts.priority_paths.begin(), opts.priority_paths.end(), t.req.path) !=
                        opts.priority_paths.end();
  (priority ? priority_lane : lane).push(std::move(t));
}

void HttpServer::Impl::complete(Done d) {
  auto it = conns.find(d.conn);
  if (it == conns.end()) return;  // the client left meanwhile
  start_answer(*it->second, std::move(d.resp));
}

void HttpServer::Impl::start_answer(Conn& c, Response resp) {
  account(c, c.parser.held_bytes());
  const bool http10 = c.http10;
  if (c.peer_closed) c.close_after = true;
  std::string& h = c.head;
  h.clear();
  h += fmt::format("{} {} {}\r\n", http10 ? "HTTP/1.0" : "HTTP/1.1", resp.status, reason_phrase(resp.status));
  const bool no_body = resp.status == 204 || resp.status == 304 || (resp.status >= 100 && resp.status < 200);
  if (!no_body && !resp.content_type.empty()) h += "Content-Type: " + resp.content_type + "\r\n";
  for (const auto& [k, v] : resp.headers) {
    // A handler's header never splits the answer.
    if (k.find_first_of("\r\n") != std::string::npos || v.find_first_of("\r\n") != std::string::npos) continue;
    h += k + ": " + v + "\r\n";
  }
  h += "Date: " + http_date() + "\r\n";
  if (!no_body) h += fmt::format("Content-Length: {}\r\n", resp.body.size());
  if (c.close_after) {
    h += "Connection: close\r\n";
  } else if (http10) {
    h += "Connection: keep-alive\r\n";
  }
  h += "\r\n";
  c.body = (c.head_request || no_body) ? std::string() : std::move(resp.body);
  if (c.ssl && c.body.size() <= kTlsCoalesce) {
    h += c.body;
    c.body.clear();
  }
  c.head_off = c.body_off = 0;
  c.phase = Phase::kWrite;
  c.deadline = clock.now() + opts.write_timeout;
  c.deadline_reason = kWriteTimeout;
  flush(c);
}

void HttpServer::Impl::flush(Conn& c) {
  if (c.handshaking) return;
  // Pieces in order: an interim answer, then the head and body of the final one.
  auto pending = [&c]() -> std::vector<std::string_view> {
    std::vector<std::string_view> out;
    if (!c.interim.empty()) out.emplace_back(c.interim);
    if (c.phase == Phase::kWrite) {
      if (c.head_off < c.head.size()) out.emplace_back(std::string_view(c.head).substr(c.head_off));
      if (c.body_off < c.body.size()) out.emplace_back(std::string_view(c.body).substr(c.body_off));
    }
    return out;
  };
  auto consume = [&c](size_t n) {
    size_t k = std::min(n, c.interim.size());
    c.interim.erase(0, k);
    n -= k;
    if (c.phase != Phase::kWrite) return;
    k = std::min(n, c.head.size() - c.head_off);
    c.head_off += k;
    n -= k;
    c.body_off += std::min(n, c.body.size() - c.body_off);
  };
  bool progressed = false;
  while (true) {
    auto parts = pending();
    if (parts.empty()) break;
    ssize_t n;
    if (!c.ssl) {
      iovec iov[3];
      for (size_t i = 0; i < parts.size(); ++i) {
        iov[i].iov_base = const_cast<char*>(parts[i].data());
        iov[i].iov_len = parts[i].size();
      }
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = parts.size();
      n = ::sendmsg(c.fd, &msg, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        close(c, kClient);
        return;
      }
    } else {
      ERR_clear_error();
      int chunk = static_cast<int>(std::min<size_t>(parts[0].size(), size_t{1} << 20));
      int r = SSL_write(c.ssl, parts[0].data(), chunk);
      if (r <= 0) {
        int err = SSL_get_error(c.ssl, r);
        if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) break;
        ERR_clear_error();
        close(c, kClient);
        return;
      }
      n = r;
    }
    consume(static_cast<size_t>(n));
    progressed = true;
  }
  if (c.phase != Phase::kWrite) return;
  if (progressed) c.deadline = clock.now() + opts.write_timeout;
  if (c.head_off >= c.head.size() && c.body_off >= c.body.size()) finish_answer(c);
}

void HttpServer::Impl::finish_answer(Conn& c) {
  std::string().swap(c.body);
  c.head.clear();
  const Millis now = clock.now();
  if (c.close_after) {
    // Half-close and read what the client still sends for a moment, so the
    // answer is not lost to a reset from unread request bytes.
    if (c.ssl) SSL_shutdown(c.ssl);
    ::shutdown(c.fd, SHUT_WR);
    c.phase = Phase::kLinger;
    c.deadline = now + kLinger;
    c.deadline_reason = kClient;
    on_readable(c);
    return;
  }
  c.phase = Phase::kRead;
  c.idle = true;
  ++idle;
  c.since = now;
  c.deadline = now + opts.idle_timeout;
  c.deadline_reason = kIdleTimeout;
  // A pipelined request may be buffered already; more may wait in the socket.
  const auto before = c.parser.state();
  c.parser.resume();
  const uint64_t id = c.id;
  after_parse(c, before);
  auto it = conns.find(id);
  if (it != conns.end() && it->second->phase == Phase::kRead) on_readable(*it->second);
}

void HttpServer::Impl::fail_request(Conn& c, int status, std::string_view why, Reason reason) {
  if (c.handshaking) {
    close(c, reason);
    return;
  }
  c.end_reason = reason;
  c.close_after = true;
  c.head_request = false;
  c.http10 = c.parser.http10();
  start_answer(c, Response::text(status, std::string(why) + "\n"));
}

void HttpServer::Impl::close(Conn& c, Reason reason) {
  ++closed[c.end_reason != kClient ? c.end_reason : reason];
  if (c.idle) --idle;
  account(c, 0);
  ::epoll_ctl(epfd, EPOLL_CTL_DEL, c.fd, nullptr);
  if (c.ssl) SSL_free(c.ssl);
  ::close(c.fd);
  --open;
  conns.erase(c.id);  // c is gone from here on
}

void HttpServer::Impl::sweep(Millis now) {
  last_sweep = now;
  if (!listening) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kListenTag;
    if (::epoll_ctl(epfd, EPOLL_CTL_MOD, listen_fd, &ev) == 0) listening = true;
  }
  std::vector<uint64_t> due;
  for (const auto& [id, c] : conns) {
    if (c->deadline <= now) due.push_back(id);
  }
  for (uint64_t id : due) {
    auto it = conns.find(id);
    if (it == conns.end()) continue;
    Conn& c = *it->second;
    // A request begun but not finished in time gets a 408; anything else
    // (idle, silent, stuck writing, lingering) is simply closed.
    if (c.phase == Phase::kRead && !c.handshaking && c.parser.state() != RequestParser::State::kEmpty) {
      fail_request(c, 408, "request timeout", c.deadline_reason);
    } else {
      close(c, c.phase == Phase::kRead && c.idle ? kIdleTimeout : c.deadline_reason);
    }
  }
}

HttpServer::HttpServer(const Routes& routes, Options opts) : impl_(std::make_unique<Impl>(routes, std::move(opts))) {}

HttpServer::~HttpServer() { stop(); }

bool HttpServer::tls() const { return impl_->web && impl_->web->tls(); }

Result<void> HttpServer::start(const std::string& listen_address) {
  Impl& im = *impl_;
  // Writing to a socket the peer closed must be an error, not a signal.
  std::signal(SIGPIPE, SIG_IGN);
  if (!im.opts.web_config_file.empty()) {
    auto on_error = im.opts.on_error;
    auto w = WebAccess::open(im.opts.web_config_file, im.clock, [on_error](const std::string& err) {
      if (on_error) on_error("web configuration invalid: refusing requests until it is fixed", err);
    });
    if (!w) return fail("--web.config.file: " + w.error().message);
    im.web = std::move(*w);
  }
  // Use every descriptor the system allows (as Go programs do), and never
  // more connections than there are descriptors to spare.
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
    ::getrlimit(RLIMIT_NOFILE, &rl);
  }
  const size_t spare = rl.rlim_cur > 128 ? static_cast<size_t>(rl.rlim_cur) - 96 : 32;
  im.max_conns = std::max<size_t>(1, std::min(im.opts.max_connections, spare));
  im.max_buffered = im.opts.max_buffered_bytes ? im.opts.max_buffered_bytes
                                                : std::max<size_t>(size_t{256} << 20, 4 * im.opts.max_body);

  if (auto r = im.listen(listen_address, port_); !r) return r;
  im.epfd = ::epoll_create1(EPOLL_CLOEXEC);
  im.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (im.epfd < 0 || im.wake_fd < 0) return fail("cannot start the HTTP server: " + go_errno(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenTag;
  ::epoll_ctl(im.epfd, EPOLL_CTL_ADD, im.listen_fd, &ev);
  ev.data.u64 = kWakeTag;
  ::epoll_ctl(im.epfd, EPOLL_CTL_ADD, im.wake_fd, &ev);
  im.last_sweep = im.clock.now();
  im.start_threads();
  return {};
}

void HttpServer::stop() {
  if (impl_) impl_->stop();
}

void HttpServer::poke() {
  if (impl_ && impl_->wake_fd >= 0) {
    impl_->sweep_requested = true;
    impl_->wake();
  }
}

size_t HttpServer::connections() const { return impl_->open.load(); }
size_t HttpServer::idle_connections() const { return impl_->idle.load(); }

std::string HttpServer::metrics() const {
  const Impl& im = *impl_;
  std::string out;
  MetricsWriter w(out);
  w.single("vigil_http_connections", "gauge", "Open HTTP connections.", static_cast<double>(im.open.load()));
  w.single("vigil_http_connections_idle", "gauge", "Kept-alive HTTP connections waiting for a request.",
           static_cast<double>(im.idle.load()));
  w.single("vigil_http_connections_limit", "gauge", "Most HTTP connections open at once.",
           static_cast<double>(im.max_conns));
  w.single("vigil_http_connections_accepted_total", "counter", "HTTP connections accepted.",
           static_cast<double>(im.accepted.load()));
  w.family("vigil_http_connections_closed_total", "counter", "HTTP connections closed, by why.");
  for (size_t r = 0; r < kReasons; ++r) {
    w.sample("vigil_http_connections_closed_total", {{"reason", kReasonNames[r]}},
             static_cast<double>(im.closed[r].load()));
  }
  w.single("vigil_http_requests_over_budget_total", "counter",
           "Requests answered 503 because request bytes held across connections would pass the limit.",
           static_cast<double>(im.over_budget.load()));
  return out;
}

}  // namespace vigil::server
