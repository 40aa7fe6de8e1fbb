#pragma once

// The HTTP layer every API of the daemon is written against. Handlers are
// plain functions from a Request to a Response, registered on a Routes table
// by method and path pattern ("/api/v2/silence/{id}"); tests call
// Routes::handle directly, without a socket. HttpServer serves a Routes
// table on a listening address.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/clock.h"
#include "model/error.h"

namespace vigil::server {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query string
  // Query-string parameters and, for form posts, the form fields; a name may
  // repeat ("filter=a&filter=b").
  std::multimap<std::string, std::string, std::less<>> params;
  std::map<std::string, std::string, std::less<>> path_params;  // {id} -> value
  std::map<std::string, std::string, std::less<>> headers;      // names lower-cased
  std::string body;
  std::string remote_addr;

  // The first value of a parameter, if given.
  std::optional<std::string> param(std::string_view name) const;
  std::vector<std::string> params_named(std::string_view name) const;
  std::string header(std::string_view lower_name) const;  // "" when absent
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static Response json(int status, std::string body);
  static Response text(int status, std::string body);
};

using Handler = std::function<Response(const Request&)>;

class Routes {
 public:
  // Registers a handler. Pattern segments in braces match one path segment
  // and are passed as path_params; a trailing "{name...}" matches the rest.
  void add(std::string method, std::string pattern, Handler handler);
  // Dispatches: 404 when no pattern matches the path, 405 when the path
  // matches only under other methods. HEAD is served by GET handlers.
  Response handle(Request req) const;

  // Serves every route under a path prefix (--web.route-prefix, "/vigil"):
  // "/vigil/api/v2/status" reaches "/api/v2/status", a path outside the
  // prefix is a 404, and the prefix itself redirects to "<prefix>/". The
  // prefix is normalised (normalize_route_prefix); "" or "/" serves at the root.
  void set_prefix(std::string_view prefix) { prefix_ = normalize_route_prefix(prefix); }
  const std::string& prefix() const { return prefix_; }
  // "/vigil" from "vigil/", "/vigil", "/vigil//"; "" from "" and "/".
  static std::string normalize_route_prefix(std::string_view prefix);

  // Called after every request (for metrics and logs): pattern ("" when
  // unmatched), the request, the response, the time the handler took.
  using Observer = std::function<void(std::string_view pattern, const Request&, const Response&, double seconds)>;
  void set_observer(Observer o) { observer_ = std::move(o); }

 private:
  struct Entry {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
  };
  static bool match(const Entry& e, const std::vector<std::string_view>& segs,
                    std::map<std::string, std::string, std::less<>>& out);
  std::vector<Entry> entries_;
  Observer observer_;
  std::string prefix_;
};

// Whether a browser sent this request from a page of another site: an
// Origin (or Sec-Fetch-Site) header that does not match the Host. Such
// requests can be forged by any page a user visits; endpoints that change
// state without a JSON body refuse them.
bool cross_site(const Request& req);

// Decodes %XX and, when plus_is_space, '+' (query strings and forms).
std::string url_decode(std::string_view s, bool plus_is_space);
// Parses "a=1&b=2" into params (appending).
void parse_query(std::string_view query, std::multimap<std::string, std::string, std::less<>>& out);

// Serves a Routes table over HTTP/1.1 (and TLS, with a web configuration).
//
// One network thread multiplexes every connection (epoll): it reads and
// parses requests and writes answers without blocking, so a slow or silent
// client costs a socket, not a thread. Whole requests go to a fixed pool of
// handler threads; requests for `priority_paths` (health and readiness) have
// a thread of their own, so they are answered while every other handler is
// busy. Every phase of a connection has a deadline: the request head (and
// the TLS handshake) within read_header_timeout of its first byte, the body
// within read_timeout, an answer that makes no progress for write_timeout
// is dropped, and a kept-alive connection idle for idle_timeout is closed.
// At most max_connections are open: past that, the connection idle the
// longest (or slowest to send its request) makes room; when every
// connection is busy being answered, new ones are closed at once. Request
// bytes held across all connections are bounded too (max_buffered_bytes),
// so many large bodies at once cannot exhaust memory.
class HttpServer {
 public:
  struct Options {
    size_t threads = 4;
    size_t max_body = size_t{32} << 20;
    size_t max_header_bytes = size_t{1} << 20;
    Millis read_header_timeout = 5 * kSecond;
    Millis read_timeout = 10 * kSecond;
    Millis write_timeout = 30 * kSecond;
    Millis idle_timeout = 5 * kMinute;
    size_t max_connections = 1024;
    // Request bytes held at once across connections (being read or waiting
    // for a handler); a request that would go past it is answered 503. 0:
    // the larger of 256 MiB and 4 x max_body.
    size_t max_buffered_bytes = 0;
    std::vector<std::string> priority_paths;
    // --web.config.file: TLS, basic auth, headers, rate limit (server/web_config.h).
    std::string web_config_file;
    // What deadlines are read from (default: the monotonic clock).
    const Clock* clock = nullptr;
    // Problems worth a log line: a web configuration that became invalid,
    // descriptors running out.
    std::function<void(const std::string& msg, const std::string& err)> on_error;
  };
  HttpServer(const Routes& routes, Options opts);
  ~HttpServer();

  // Binds "host:port" (":port" means all interfaces; port 0 picks a free
  // one) and starts serving. Errors are worded as Go's ("listen tcp
  // 127.0.0.1:9093: bind: address already in use"); the address is never
  // shared with another process (no SO_REUSEPORT).
  Result<void> start(const std::string& listen_address);
  int port() const { return port_; }
  bool tls() const;
  // Stops accepting, closes every connection and waits for handlers that
  // are running. Idempotent.
  void stop();
  // Wakes the network thread to check deadlines now (tests that move a
  // ManualClock call it; real time needs no help).
  void poke();
  // Connections open now, and those of them kept alive waiting for a request.
  size_t connections() const;
  size_t idle_connections() const;
  // Connection counts in the Prometheus text format.
  std::string metrics() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

// Splits "host:port" / ":port" / "[v6]:port".
Result<std::pair<std::string, int>> split_host_port(std::string_view address);

}  // namespace vigil::server
