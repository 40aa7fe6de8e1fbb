#include "server/ui.h"

#include <array>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace vigil::server {

namespace {

constexpr std::array<std::string_view, 8> kPages = {"/", "/alerts", "/silences", "/rules", "/graph",
                                                    "/query", "/status", "/history"};

constexpr std::string_view kPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

// FNV-1a: an ETag only has to change when the file does.
std::string etag_of(std::string_view body) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : body) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return fmt::format("\"{:016x}\"", h);
}

struct Served {
  std::string body;
  std::string content_type;
  std::string etag;
  bool page = false;
};

Response serve(const Served& f, const Request& req) {
  Response r;
  r.headers.emplace_back("ETag", f.etag);
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (f.page) {
    r.headers.emplace_back("Content-Security-Policy", std::string(kPolicy));
    r.headers.emplace_back("Referrer-Policy", "same-origin");
  }
  r.content_type = f.content_type;
  std::string inm = req.header("if-none-match");
  if (!inm.empty() && (inm == f.etag || inm == "W/" + f.etag)) {
    r.status = 304;
    return r;
  }
  r.status = 200;
  r.body = f.body;
  return r;
}

}  // namespace

std::string_view ui_content_type(std::string_view path) {
  struct Ext {
    std::string_view ext, type;
  };
  static constexpr Ext kTypes[] = {
      {".html", "text/html; charset=utf-8"},      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},        {".svg", "image/svg+xml"},
      {".json", "application/json"},              {".png", "image/png"},
      {".ico", "image/x-icon"},                   {".txt", "text/plain; charset=utf-8"},
  };
  for (const auto& t : kTypes)
    if (path.ends_with(t.ext)) return t.type;
  return "application/octet-stream";
}

std::span<const std::string_view> ui_pages() { return kPages; }

void add_ui_routes(Routes& routes, std::span<const UiAsset> assets) {
  auto files = std::make_shared<std::vector<std::pair<std::string, Served>>>();
  std::shared_ptr<const Served> index;
  for (const auto& a : assets) {
    Served s{std::string(a.body), std::string(ui_content_type(a.path)), etag_of(a.body), a.path == "index.html"};
    if (s.page) index = std::make_shared<const Served>(s);
    files->emplace_back(std::string(a.path), std::move(s));
  }
  if (index) {
    for (auto page : kPages)
      routes.add("GET", std::string(page), [index](const Request& req) { return serve(*index, req); });
  }
  routes.add("GET", "/static/{file...}", [files](const Request& req) {
    const std::string& name = req.path_params.at("file");
    for (const auto& [path, f] : *files)
      if (path == name && !f.page) return serve(f, req);
    return Response::text(404, "404 page not found\n");
  });
}

}  // namespace vigil::server
