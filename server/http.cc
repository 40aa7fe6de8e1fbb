#include "server/http.h"

#include <chrono>
#include <charconv>

#include <fmt/format.h>

namespace vigil::server {

std::optional<std::string> Request::param(std::string_view name) const {
  auto it = params.find(name);
  if (it == params.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> Request::params_named(std::string_view name) const {
  std::vector<std::string> out;
  auto [b, e] = params.equal_range(name);
  for (auto it = b; it != e; ++it) out.push_back(it->second);
  return out;
}

std::string Request::header(std::string_view lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

Response Response::json(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response Response::text(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    if (i >= path.size()) break;
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

void Routes::add(std::string method, std::string pattern, Handler handler) {
  Entry e;
  e.method = std::move(method);
  for (auto s : split_path(pattern)) e.segments.emplace_back(s);
  e.pattern = std::move(pattern);
  e.handler = std::move(handler);
  entries_.push_back(std::move(e));
}

bool Routes::match(const Entry& e, const std::vector<std::string_view>& segs,
                   std::map<std::string, std::string, std::less<>>& out) {
  out.clear();
  size_t i = 0;
  for (; i < e.segments.size(); ++i) {
    const std::string& p = e.segments[i];
    bool param = p.size() >= 2 && p.front() == '{' && p.back() == '}';
    if (param && p.size() > 5 && p.compare(p.size() - 4, 4, "...}") == 0) {
      std::string rest;
      for (size_t j = i; j < segs.size(); ++j) {
        if (!rest.empty()) rest += '/';
        rest += segs[j];
      }
      out[p.substr(1, p.size() - 5)] = rest;
      return true;
    }
    if (i >= segs.size()) return false;
    if (param) {
      out[p.substr(1, p.size() - 2)] = std::string(segs[i]);
    } else if (p != segs[i]) {
      return false;
    }
  }
  return i == segs.size();
}

std::string Routes::normalize_route_prefix(std::string_view prefix) {
  std::string out;
  for (auto seg : split_path(prefix)) {
    out += '/';
    out += seg;
  }
  return out;
}

Response Routes::handle(Request req) const {
  auto start = std::chrono::steady_clock::now();
  if (!prefix_.empty()) {
    std::string_view path = req.path;
    if (path == prefix_) {
      // Relative links of the web UI resolve against "<prefix>/".
      Response r = Response::text(302, "");
      r.headers.emplace_back("Location", prefix_ + "/");
      return r;
    }
    if (!path.starts_with(prefix_) || path[prefix_.size()] != '/') return Response::text(404, "404 page not found\n");
    req.path = std::string(path.substr(prefix_.size()));
  }
  auto segs = split_path(req.path);
  std::map<std::string, std::string, std::less<>> params;
  const Entry* found = nullptr;
  bool other_method = false;
  std::string method = req.method == "HEAD" ? "GET" : req.method;
  for (const auto& e : entries_) {
    if (!match(e, segs, params)) continue;
    if (e.method != method) {
      other_method = true;
      continue;
    }
    found = &e;
    break;
  }
  Response resp;
  if (found) {
    req.path_params = std::move(params);
    try {
      resp = found->handler(req);
    } catch (const std::exception&) {
      resp = Response::json(500, std::string(R"({"error":"internal error"})"));
    }
  } else if (other_method) {
    resp = Response::text(405, "method not allowed\n");
  } else {
    resp = Response::text(404, "404 page not found\n");
  }
  if (observer_) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    observer_(found ? std::string_view(found->pattern) : std::string_view(), req, resp, secs);
  }
  return resp;
}

bool cross_site(const Request& req) {
  std::string site = req.header("sec-fetch-site");
  if (site == "cross-site" || site == "same-site") return true;
  std::string origin = req.header("origin");
  if (origin.empty()) return false;
  if (origin == "null") return true;  // sandboxed frames, file: pages
  size_t scheme = origin.find("://");
  std::string_view host_port = scheme == std::string::npos ? std::string_view(origin)
                                                           : std::string_view(origin).substr(scheme + 3);
  std::string host = req.header("host");
  if (host_port == host) return false;
  // An Origin carries no default port; a Host may.
  auto strip_default = [](std::string_view hp, std::string_view port) {
    return hp.ends_with(port) ? hp.substr(0, hp.size() - port.size()) : hp;
  };
  return strip_default(host_port, ":80") != strip_default(host, ":80") &&
         strip_default(host_port, ":443") != strip_default(host, ":443");
}

std::string url_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int h = hex_value(s[i + 1]), l = hex_value(s[i + 2]);
      if (h >= 0 && l >= 0) {
        out += static_cast<char>(h * 16 + l);
        i += 2;
        continue;
      }
    }
    out += (plus_is_space && c == '+') ? ' ' : c;
  }
  return out;
}

void parse_query(std::string_view query, std::multimap<std::string, std::string, std::less<>>& out) {
  size_t i = 0;
  while (i <= query.size()) {
    size_t j = query.find('&', i);
    if (j == std::string_view::npos) j = query.size();
    std::string_view kv = query.substr(i, j - i);
    if (!kv.empty()) {
      size_t eq = kv.find('=');
      std::string k = url_decode(kv.substr(0, eq), true);
      std::string v = eq == std::string_view::npos ? std::string() : url_decode(kv.substr(eq + 1), true);
      out.emplace(std::move(k), std::move(v));
    }
    i = j + 1;
  }
}

Result<std::pair<std::string, int>> split_host_port(std::string_view address) {
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) {
    return fail(fmt::format("listen address \"{}\" has no port (expected host:port)", address));
  }
  std::string host(address.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::string_view port_s = address.substr(colon + 1);
  int port = -1;
  auto [p, ec] = std::from_chars(port_s.data(), port_s.data() + port_s.size(), port);
  if (ec != std::errc() || p != port_s.data() + port_s.size() || port < 0 || port > 65535) {
    return fail(fmt::format("listen address \"{}\": the port must be a number from 0 to 65535", address));
  }
  if (host.empty()) host = "0.0.0.0";
  return std::make_pair(host, port);
}

}  // namespace vigil::server
