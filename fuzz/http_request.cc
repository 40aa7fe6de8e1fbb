// HTTP/1.x requests: the parser reads any bytes without crashing, and where
// the bytes are cut into the pieces a socket hands over changes nothing: the
// requests read, and the error and where it stopped, are those of the same
// bytes fed at once.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "server/http_parser.h"

using namespace vigil::server;

namespace {

struct Outcome {
  std::vector<std::string> requests;  // each request written out
  RequestParser::State state = RequestParser::State::kEmpty;
  int error_status = 0;
  bool operator==(const Outcome&) const = default;
};

std::string describe(Request& r, const RequestParser& p) {
  std::string s = r.method + " " + r.path;
  for (const auto& [k, v] : r.params) s += "\n?" + k + "=" + v;
  for (const auto& [k, v] : r.headers) s += "\n" + k + ": " + v;
  s += "\nkeep-alive=" + std::to_string(p.keep_alive()) + " http10=" + std::to_string(p.http10());
  s += "\n\n" + r.body;
  return s;
}

// Takes every finished request; false once the parser has failed.
bool drain(RequestParser& p, Outcome& out) {
  while (p.state() == RequestParser::State::kDone) {
    Request r = p.take();
    out.requests.push_back(describe(r, p));
    p.resume();
  }
  return p.state() != RequestParser::State::kError;
}

Outcome finish(RequestParser& p, Outcome out) {
  out.state = p.state();
  out.error_status = p.error_status();
  return out;
}

Outcome at_once(RequestParser::Limits limits, std::string_view bytes) {
  RequestParser p(limits);
  Outcome out;
  p.feed(bytes);
  drain(p, out);
  return finish(p, std::move(out));
}

Outcome in_pieces(RequestParser::Limits limits, std::string_view bytes, uint32_t seed, size_t max_piece) {
  RequestParser p(limits);
  Outcome out;
  uint32_t x = seed | 1;
  while (!bytes.empty()) {
    x = x * 1664525u + 1013904223u;
    size_t n = std::min(bytes.size(), 1 + (x >> 8) % max_piece);
    p.feed(bytes.substr(0, n));
    bytes.remove_prefix(n);
    if (!drain(p, out)) break;
  }
  return finish(p, std::move(out));
}

void dump(const char* what, const Outcome& o) {
  std::fprintf(stderr, "%s: %zu requests, state %d, status %d\n", what, o.requests.size(), static_cast<int>(o.state),
               o.error_status);
  for (const std::string& r : o.requests) std::fprintf(stderr, "---\n%s\n", r.c_str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  // Small limits, picked by the first bytes, so inputs reach them.
  RequestParser::Limits limits;
  limits.max_header_bytes = 16 + data[0] * 16;
  limits.max_body = data[1] * 64;
  const uint32_t seed = data[2];
  const size_t max_piece = 1 + data[3] % 64;
  std::string_view bytes(reinterpret_cast<const char*>(data + 4), size - 4);

  Outcome whole = at_once(limits, bytes);
  Outcome pieces = in_pieces(limits, bytes, seed, max_piece);
  if (!(whole == pieces)) {
    dump("fed at once", whole);
    dump("fed in pieces", pieces);
    std::abort();
  }
  std::string path;
  (void)decode_path(bytes, path);
  return 0;
}
