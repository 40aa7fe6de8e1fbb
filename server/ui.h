#pragma once

// The web UI: plain HTML, CSS and JavaScript files under server/ui/, compiled
// into the binary at build time (cmake/embed_ui.cmake) and served by
// `vigil run`. Every page is the one index.html (its script draws the page
// the path names: alerts, silences, rules, graph, status, history); the
// files it loads are under static/. All links and API calls are relative,
// so the UI works under any --web.route-prefix.

#include <span>
#include <string_view>

#include "server/http.h"

namespace vigil::server {

struct UiAsset {
  std::string_view path;  // relative to server/ui/: "index.html", "app.js"
  std::string_view body;
};

// The files of server/ui/ (generated at build time).
std::span<const UiAsset> ui_assets();

// The Content-Type a file is served with, from its extension;
// "application/octet-stream" for one not known.
std::string_view ui_content_type(std::string_view path);

// The pages of the UI ("/", "/alerts", "/silences", "/rules", "/graph",
// "/status", "/history"), each answered with index.html and a
// Content-Security-Policy that allows scripts, styles and connections to
// this server only; and "/static/<file>" for each other asset, 404 for a
// file not there. Every answer has an ETag and "Cache-Control: no-cache"
// (a browser revalidates, and an unchanged file costs a 304).
void add_ui_routes(Routes& routes, std::span<const UiAsset> assets = ui_assets());

// The page paths add_ui_routes answers with index.html.
std::span<const std::string_view> ui_pages();

}  // namespace vigil::server
