#pragma once

// The HTTP layer every API of the daemon is written against. Handlers are
// plain functions from a Request to a Response, registered on a Routes table
// by method and path pattern ("/api/v2/silence/{id}"); tests call
// Routes::handle directly, without a socket. HttpServer (the only file that
// includes cpp-httplib) serves a Routes table on a listening address.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
};

// Decodes %XX and, when plus_is_space, '+' (query strings and forms).
std::string url_decode(std::string_view s, bool plus_is_space);
// Parses "a=1&b=2" into params (appending).
void parse_query(std::string_view query, std::multimap<std::string, std::string, std::less<>>& out);

class HttpServer {
 public:
  struct Options {
    size_t threads = 4;
    size_t max_body = 32 * 1024 * 1024;
    int read_timeout_seconds = 30;
  };
  HttpServer(const Routes& routes, Options opts);
  ~HttpServer();

  // Binds "host:port" (":port" means all interfaces; port 0 picks a free
  // one) and starts serving on a thread of its own.
  Result<void> start(const std::string& listen_address);
  int port() const { return port_; }
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

// Splits "host:port" / ":port" / "[v6]:port".
Result<std::pair<std::string, int>> split_host_port(std::string_view address);

}  // namespace vigil::server
