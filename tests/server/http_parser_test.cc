#include <doctest/doctest.h>

#include <string>
#include <utility>

#include "server/http_parser.h"

using namespace vigil::server;
using State = RequestParser::State;

namespace {

RequestParser parser(size_t max_header = 1 << 20, size_t max_body = 1 << 20) {
  return RequestParser(RequestParser::Limits{max_header, max_body});
}

// Feeds one byte at a time: every boundary a socket could cut at.
void trickle(RequestParser& p, std::string_view data) {
  for (char c : data) p.feed(std::string_view(&c, 1));
}

int error_of(std::string_view request, size_t max_header = 1 << 20, size_t max_body = 1 << 20) {
  auto p = parser(max_header, max_body);
  p.feed(request);
  return p.state() == State::kError ? p.error_status() : 0;
}

}  // namespace

TEST_CASE("http parser: a GET with a query, decoded path and combined repeated headers") {
  auto p = parser();
  p.feed("GET /api/v1/label/a%20b/values?match%5B%5D=up&x=1+2 HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nx-a: 2\r\n\r\n");
  REQUIRE(p.state() == State::kDone);
  CHECK(p.keep_alive());
  Request r = p.take();
  CHECK(r.method == "GET");
  CHECK(r.path == "/api/v1/label/a b/values");
  CHECK(r.param("match[]").value() == "up");
  CHECK(r.param("x").value() == "1 2");
  CHECK(r.header("x-a") == "1, 2");
  CHECK(r.header("host") == "h");
  CHECK(p.state() == State::kEmpty);
}

TEST_CASE("http parser: a body split at every byte, then a pipelined request") {
  auto p = parser();
  std::string two =
      "POST /api/v2/alerts HTTP/1.1\r\nContent-Length: 11\r\nContent-Type: application/json\r\n\r\n[{\"a\":\"b\"}]"
      "GET /-/healthy HTTP/1.1\r\n\r\n";
  trickle(p, two);
  REQUIRE(p.state() == State::kDone);
  Request first = p.take();
  CHECK(first.body == "[{\"a\":\"b\"}]");
  p.resume();
  REQUIRE(p.state() == State::kDone);
  CHECK(p.take().path == "/-/healthy");
}

TEST_CASE("http parser: a POST with neither length nor chunks has an empty body at once") {
  // What `curl -X POST http://host/-/reload` sends: nothing to wait for.
  auto p = parser();
  p.feed("POST /-/reload HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n");
  REQUIRE(p.state() == State::kDone);
  CHECK(p.take().body.empty());
}

TEST_CASE("http parser: chunked bodies with extensions and trailers, byte by byte") {
  auto p = parser();
  trickle(p,
          "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
          "5;name=value\r\nhello\r\n"
          "6\r\n world\r\n"
          "0\r\nX-Trailer: t\r\n\r\n");
  REQUIRE(p.state() == State::kDone);
  CHECK(p.take().body == "hello world");
}

TEST_CASE("http parser: line ends may be bare LFs; stray empty lines between requests are skipped") {
  auto p = parser();
  p.feed("\r\n\r\nGET /a HTTP/1.1\nHost: h\n\n");
  REQUIRE(p.state() == State::kDone);
  CHECK(p.take().path == "/a");
}

TEST_CASE("http parser: Expect 100-continue is reported once, and only with a body to come") {
  auto p = parser();
  p.feed("POST /x HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  REQUIRE(p.state() == State::kBody);
  CHECK(p.take_expect_continue());
  CHECK_FALSE(p.take_expect_continue());
  p.feed("abc");
  REQUIRE(p.state() == State::kDone);
  CHECK(p.take().body == "abc");
  CHECK(error_of("POST /x HTTP/1.1\r\nContent-Length: 3\r\nExpect: something-else\r\n\r\n") == 417);
}

TEST_CASE("http parser: connection persistence follows the version and the Connection header") {
  auto p = parser();
  p.feed("GET / HTTP/1.0\r\n\r\n");
  CHECK_FALSE(p.keep_alive());
  CHECK(p.http10());
  p.take();
  p.feed("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  CHECK(p.keep_alive());
  p.take();
  p.feed("GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
  CHECK_FALSE(p.keep_alive());
}

TEST_CASE("http parser: requests two readers could split differently are refused") {
  // Request smuggling: a body length two ways, or two different lengths.
  CHECK(error_of("POST /x HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n") == 400);
  CHECK(error_of("POST /x HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd") == 400);
  CHECK(error_of("POST /x HTTP/1.1\r\nContent-Length: +3\r\n\r\nabc") == 400);
  CHECK(error_of("POST /x HTTP/1.1\r\nContent-Length: 3 4\r\n\r\nabc") == 400);
  CHECK(error_of("POST /x HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n") == 501);
  CHECK(error_of("GET /x HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n") == 400);
  CHECK(error_of("GET /x HTTP/1.1\r\nX A: 1\r\n\r\n") == 400);
  CHECK(error_of("GET /x HTTP/1.1\r\nX-A: a\rb\r\n\r\n") == 400);
  CHECK(error_of("GET /x HTTP/1.1\r\nX-A: a\x01" "b\r\n\r\n") == 400);
  CHECK(error_of("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n") == 400);
  CHECK(error_of("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX") == 400);
  // Identical repeated lengths are one length.
  CHECK(error_of("POST /x HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc") == 0);
}

TEST_CASE("http parser: malformed request lines, versions and escapes") {
  CHECK(error_of("GET\r\n\r\n") == 400);
  CHECK(error_of("GET /x\r\n\r\n") == 400);
  CHECK(error_of("GET /x HTTP/1.1 extra\r\n\r\n") == 400);
  CHECK(error_of("G(T /x HTTP/1.1\r\n\r\n") == 400);
  CHECK(error_of("GET /x HTTP/2.0\r\n\r\n") == 505);
  CHECK(error_of("GET /x FTP/1.1\r\n\r\n") == 400);
  CHECK(error_of("GET /a%zz HTTP/1.1\r\n\r\n") == 400);
  CHECK(error_of("GET /a%00b HTTP/1.1\r\n\r\n") == 400);
  CHECK(error_of("GET /a%4 HTTP/1.1\r\n\r\n") == 400);
}

TEST_CASE("http parser: sizes are bounded before anything is buffered for them") {
  // Headers past the limit, whether or not they ever end.
  CHECK(error_of("GET / HTTP/1.1\r\nX: " + std::string(200, 'a') + "\r\n\r\n", 100) == 431);
  CHECK(error_of("GET / HTTP/1.1\r\nX: " + std::string(200, 'a'), 100) == 431);
  // A declared length over the limit is refused before any body arrives.
  CHECK(error_of("POST /x HTTP/1.1\r\nContent-Length: 1001\r\n\r\n", 1 << 20, 1000) == 413);
  CHECK(error_of("POST /x HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n") == 400);
  // Chunks adding up past it.
  CHECK(error_of("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n" + std::string(1000, 'a') +
                     "\r\n1\r\n",
                 1 << 20, 1000) == 413);
  // An endless chunk-size line.
  CHECK(error_of("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(5000, '0')) == 400);
  // A declared 1000-byte body with 3 bytes so far: still waiting, nothing refused.
  auto p = parser();
  p.feed("POST /x HTTP/1.1\r\nContent-Length: 1000\r\n\r\nabc");
  CHECK(p.state() == State::kBody);
}

// Found by fuzzing (fuzz/http_request.cc): trickled in, a head of exactly the
// limit was refused when the first byte of its blank line arrived.
TEST_CASE("http parser: a head at the size limit is read however its bytes arrive") {
  // The head ends with its last header line's end; the blank line follows.
  const std::pair<std::string_view, std::string_view> ends[] = {{"\r\n", "\r\n"}, {"\n", "\n"}, {"\n", "\r\n"}};
  for (auto [line_end, blank] : ends) {
    const std::string head = "GET / HTTP/1.1\r\nX: " + std::string(80, 'a') + std::string(line_end);
    const size_t limit = head.size();
    const std::string req = head + std::string(blank);
    INFO("blank line of ", blank.size(), " bytes after a line end of ", line_end.size());
    auto whole = parser(limit);
    whole.feed(req);
    CHECK(whole.state() == State::kDone);
    auto trickled = parser(limit);
    trickle(trickled, req);
    CHECK(trickled.state() == State::kDone);
    // One byte more is refused, either way.
    const std::string longer = "a" + req;
    CHECK(error_of(longer, limit) == 431);
    auto over = parser(limit);
    trickle(over, longer);
    CHECK(over.error_status() == 431);
  }
}

TEST_CASE("http parser: many headers trickled in byte by byte are all read") {
  auto p = parser();
  std::string req = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 5000; ++i) req += "X-Header-" + std::to_string(i) + ": some value\r\n";
  req += "\r\n";
  REQUIRE(req.size() > 100000);
  trickle(p, req);
  REQUIRE(p.state() == State::kDone);
  CHECK(p.take().headers.size() == 5000);
}
