// The one file that includes cpp-httplib (it is heavy to compile).
#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <thread>

#include "server/http.h"

namespace vigil::server {

struct HttpServer::Impl {
  const Routes& routes;
  Options opts;
  httplib::Server svr;
  std::thread thread;
  explicit Impl(const Routes& r, Options o) : routes(r), opts(o) {}
};

HttpServer::HttpServer(const Routes& routes, Options opts) : impl_(std::make_unique<Impl>(routes, opts)) {}

HttpServer::~HttpServer() { stop(); }

Result<void> HttpServer::start(const std::string& listen_address) {
  auto hp = split_host_port(listen_address);
  if (!hp) return std::unexpected(hp.error());
  Impl& im = *impl_;
  size_t threads = im.opts.threads;
  im.svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  im.svr.set_payload_max_length(im.opts.max_body);
  im.svr.set_read_timeout(im.opts.read_timeout_seconds, 0);
  im.svr.set_keep_alive_max_count(1000);
  auto handler = [this](const httplib::Request& hreq, httplib::Response& hres) {
    Request req;
    req.method = hreq.method;
    req.path = hreq.path;
    // Parameters from the raw target, so that a form body is parsed once
    // whatever this httplib version does with it.
    if (auto q = hreq.target.find('?'); q != std::string::npos) {
      parse_query(std::string_view(hreq.target).substr(q + 1), req.params);
    }
    for (const auto& [k, v] : hreq.headers) {
      std::string name = k;
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      req.headers.emplace(std::move(name), v);
    }
    if (req.header("content-type").starts_with("application/x-www-form-urlencoded")) {
      parse_query(hreq.body, req.params);
    }
    // The body is taken, not copied (alert batches run to megabytes): httplib
    // owns a mutable request and reads nothing of it after the handler, as no
    // logger is set on it.
    req.body = std::move(const_cast<httplib::Request&>(hreq).body);
    req.remote_addr = hreq.remote_addr;
    Response resp = impl_->routes.handle(std::move(req));
    hres.status = resp.status;
    for (auto& [k, v] : resp.headers) hres.set_header(k, v);
    if (resp.body.size() < (size_t{1} << 16)) {
      hres.set_content(resp.body, resp.content_type);
    } else {
      // This httplib copies a body it is given; a large one (every alert) is
      // handed over and sent from where it is instead.
      auto body = std::make_shared<std::string>(std::move(resp.body));
      hres.set_content_provider(body->size(), resp.content_type,
                                [body](size_t offset, size_t length, httplib::DataSink& sink) {
                                  return sink.write(body->data() + offset, std::min(length, body->size() - offset));
                                });
    }
  };
  const char* any = R"(/.*)";
  im.svr.Get(any, handler);
  im.svr.Post(any, handler);
  im.svr.Put(any, handler);
  im.svr.Delete(any, handler);
  im.svr.Patch(any, handler);
  im.svr.Options(any, handler);
  auto [host, port] = *hp;
  if (port == 0) {
    port = im.svr.bind_to_any_port(host);
    if (port < 0) return fail("cannot listen on " + listen_address);
  } else if (!im.svr.bind_to_port(host, port)) {
    return fail("cannot listen on " + listen_address + " (address in use, or not allowed)");
  }
  port_ = port;
  im.thread = std::thread([&im] { im.svr.listen_after_bind(); });
  return {};
}

void HttpServer::stop() {
  if (!impl_) return;
  if (impl_->thread.joinable()) {
    impl_->svr.stop();
    impl_->thread.join();
  }
}

}  // namespace vigil::server
