#pragma once

// Reads HTTP/1.x requests from bytes as they arrive, with no I/O of its own:
// the server feeds it what a socket gave and asks what it has. Input is
// untrusted, so every size is bounded, every ambiguity that lets two parsers
// disagree about where a request ends (Content-Length with chunked, repeated
// differing lengths, obsolete line folding) is a 400, and nothing is
// allocated ahead of the bytes that justify it (a declared Content-Length
// reserves nothing).
//
// One parser serves one request at a time: after kDone, take() hands the
// request over and the parser starts on the next one from the bytes left
// over (pipelined requests).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/http.h"

namespace vigil::server {

class RequestParser {
 public:
  struct Limits {
    size_t max_header_bytes = size_t{1} << 20;  // request line and headers together
    size_t max_body = size_t{32} << 20;         // after chunked decoding
  };
  enum class State {
    kEmpty,    // no byte of a request yet
    kHead,     // reading the request line and headers
    kBody,     // headers read; reading the body
    kDone,     // a whole request is ready: take() it
    kError,    // the request is unreadable: answer error_status() and close
  };

  explicit RequestParser(Limits limits) : limits_(limits) {}

  // Appends bytes and parses as far as they go.
  void feed(std::string_view data);
  // Parses again what is buffered (after take(), for a pipelined request).
  void resume();

  State state() const { return state_; }
  // The request and, when the parser is past the head, whether the client
  // waits for "100 Continue" before sending its body (once: the flag clears
  // when read).
  bool take_expect_continue();
  // True once the head is read and the connection may stay open after the
  // answer (HTTP/1.1 without "Connection: close", or HTTP/1.0 asking for
  // keep-alive).
  bool keep_alive() const { return keep_alive_; }
  // HTTP/1.0 requests get HTTP/1.0 answers.
  bool http10() const { return http10_; }
  // For kError: 400, 413, 414, 431, 501 or 505, and why.
  int error_status() const { return error_status_; }
  const std::string& error_message() const { return error_message_; }
  // Bytes buffered but not yet parsed.
  size_t buffered() const { return in_.size() - pos_; }
  // Memory held for requests: bytes buffered plus the body read so far.
  size_t held_bytes() const { return in_.size() + req_.body.size(); }

  // Hands over the finished request (kDone) and starts on the next.
  Request take();

 private:
  void parse();
  bool parse_head();        // false: needs more bytes, or failed
  bool parse_body();        // false: needs more bytes, or failed
  bool parse_chunked();
  void set_error(int status, std::string message);
  void compact();

  Limits limits_;
  State state_ = State::kEmpty;
  std::string in_;   // bytes received; in_[0, pos_) are parsed
  size_t pos_ = 0;
  size_t head_scan_ = 0;      // where the search for the head's end resumes
  size_t trailer_bytes_ = 0;
  Request req_;
  bool keep_alive_ = true;
  bool http10_ = false;
  bool expect_continue_ = false;
  bool chunked_ = false;
  uint64_t content_length_ = 0;
  // Chunked decoding: what is left of the current chunk, and where we are.
  enum class ChunkStep { kSize, kData, kDataEnd, kTrailer } chunk_step_ = ChunkStep::kSize;
  uint64_t chunk_left_ = 0;
  int error_status_ = 0;
  std::string error_message_;
};

// "/a%20b" -> "/a b"; false when an escape is malformed or decodes to a NUL.
bool decode_path(std::string_view raw, std::string& out);

}  // namespace vigil::server
