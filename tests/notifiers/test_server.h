#pragma once

// Local receivers for integration tests: an HTTP server on 127.0.0.1 that
// records every request, a listener that hangs up, and the configuration and
// alerts the notifier tests share.

#include <doctest/doctest.h>

#include <httplib.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "notifiers/delivery.h"
#include "tests/notifiers/harness.h"

namespace vigil::notifiers::testing {

using nlohmann::json;

struct Captured {
  std::string method, path, body;
  std::multimap<std::string, std::string> headers;
  std::multimap<std::string, std::string> params;  // the query string, decoded
  Millis clock_at = 0;  // the test clock when the request arrived

  std::string header(const std::string& name) const {
    for (const auto& [k, v] : headers)
      if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
    return "";
  }
  json body_json() const { return json::parse(body); }
  std::string param(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? "" : it->second;
  }
};

// An HTTP server on a free port of 127.0.0.1 that records every request and
// answers through `handler` (200 "ok" when none is given).
class TestServer {
 public:
  using Handler = std::function<void(const Captured&, httplib::Response&)>;

  explicit TestServer(Handler handler = nullptr, const Clock* clock = nullptr)
      : handler_(std::move(handler)), clock_(clock) {
    auto handle = [this](const httplib::Request& req, httplib::Response& res) {
      Captured c{req.method, req.path, req.body, {}, {}, clock_ ? clock_->now() : 0};
      for (const auto& [k, v] : req.headers) c.headers.emplace(k, v);
      for (const auto& [k, v] : req.params) c.params.emplace(k, v);
      size_t index;
      {
        std::lock_guard lock(mu_);
        requests_.push_back(c);
        index = requests_.size();
      }
      (void)index;
      if (handler_) handler_(c, res);
      else res.set_content("ok", "text/plain");
    };
    server_.Post(".*", handle);
    server_.Put(".*", handle);
    server_.Get(".*", handle);
    server_.Delete(".*", handle);
    server_.Patch(".*", handle);
    port_ = server_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the listener runs is lost and the destructor's join
    // would wait forever: do not hand the server out before it listens.
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~TestServer() {
    server_.stop();
    thread_.join();
  }
  std::string url(std::string_view path = "/hook") const { return fmt::format("http://127.0.0.1:{}{}", port_, path); }
  std::vector<Captured> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  size_t count() const {
    std::lock_guard lock(mu_);
    return requests_.size();
  }

 private:
  Handler handler_;
  const Clock* clock_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<Captured> requests_;
};

// A bare TCP listener on a free port of 127.0.0.1, for servers cpp-httplib
// cannot play (one that hangs up, a proxy, a body over its form limit):
// each accepted connection is handed to `serve`, on the listener's thread,
// which answers and closes it.
class RawListener {
 public:
  explicit RawListener(std::function<void(int fd)> serve) : serve_(std::move(serve)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    REQUIRE(::listen(fd_, 16) == 0);
    thread_ = std::thread([this] {
      while (true) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        serve_(c);
      }
    });
  }
  ~RawListener() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }

 private:
  std::function<void(int fd)> serve_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

// Reads one HTTP request from `fd`: its head, and with `with_body` the
// Content-Length bytes after it.
inline std::string read_http_request(int fd, bool with_body) {
  std::string in;
  char buf[65536];
  size_t want = std::string::npos;
  while (want == std::string::npos || in.size() < want) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
    size_t end = in.find("\r\n\r\n");
    if (want == std::string::npos && end != std::string::npos) {
      size_t cl = in.find("Content-Length: ");
      want = end + 4 + (with_body && cl < end ? std::stoul(in.substr(cl + 16)) : 0);
    }
  }
  return in;
}

// A listener that accepts connections and closes them at once, without a word.
class HangUpServer {
 public:
  std::string url() const { return fmt::format("http://127.0.0.1:{}/hook", listener_.port()); }
  int accepted() const { return accepted_; }

 private:
  std::atomic<int> accepted_{0};
  RawListener listener_{[this](int c) {
    ++accepted_;
    ::close(c);
  }};
};

inline std::string receiver_config(std::string_view integrations, std::string_view global = "") {
  return fmt::format("global:\n  resolve_timeout: 5m\n{}route:\n  receiver: r\nreceivers:\n- name: r\n{}", global,
                     integrations);
}

inline DeliveryOptions options(LogCapture& logs, size_t workers = 2) {
  DeliveryOptions o;
  o.workers = workers;
  o.external_url = "http://vigil.example:9093";
  o.seed = 7;
  o.log = logs.fn();
  return o;
}

inline std::vector<std::shared_ptr<const routing::Alert>> two_alerts(bool second_resolved = false) {
  return {make_alert({{"alertname", "DiskFull"}, {"instance", "a:9100"}, {"severity", "critical"}},
                     {{"summary", "Disk on a is full"}}, kT0 - kMinute),
          make_alert({{"alertname", "DiskFull"}, {"instance", "b:9100"}, {"severity", "critical"}},
                     {{"summary", "Disk on b is full"}}, kT0 - 2 * kMinute, second_resolved ? kT0 - 1000 : 0)};
}

inline std::string temp_file(std::string_view content) {
  char path[] = "/tmp/vigil-notify-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
  ::close(fd);
  return path;
}


}  // namespace vigil::notifiers::testing
