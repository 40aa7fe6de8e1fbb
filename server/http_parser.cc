#include "server/http_parser.h"

#include <algorithm>
#include <cctype>

namespace vigil::server {

namespace {

constexpr size_t kMaxChunkLine = 4096;      // chunk size plus extensions
constexpr size_t kMaxTrailerBytes = 65536;  // trailer fields after the last chunk

bool is_token_char(unsigned char c) {
  if (std::isalnum(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return is_token_char(c); });
}

// Field values may hold any visible byte, spaces and tabs; other control
// bytes (a lone CR among them) are refused, so that no later reader splits a
// value where this one did not.
bool valid_field_value(std::string_view v) {
  return std::none_of(v.begin(), v.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return (c < 0x20 && c != '\t') || c == 0x7f;
  });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Each comma-separated token of a header value, lower-cased and trimmed.
template <typename Fn>
void for_each_token(std::string_view v, Fn fn) {
  while (!v.empty()) {
    size_t comma = v.find(',');
    std::string_view part = trim(v.substr(0, comma));
    if (!part.empty()) fn(lower(part));
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool decode_path(std::string_view raw, std::string& out) {
  out.clear();
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '%') {
      out += raw[i];
      continue;
    }
    if (i + 2 >= raw.size()) return false;
    int h = hex_digit(raw[i + 1]), l = hex_digit(raw[i + 2]);
    if (h < 0 || l < 0 || (h == 0 && l == 0)) return false;
    out += static_cast<char>(h * 16 + l);
    i += 2;
  }
  return true;
}

void RequestParser::feed(std::string_view data) {
  in_.append(data);
  if (state_ != State::kDone && state_ != State::kError) parse();
}

void RequestParser::resume() {
  if (state_ != State::kDone && state_ != State::kError) parse();
}

bool RequestParser::take_expect_continue() { return std::exchange(expect_continue_, false); }

void RequestParser::set_error(int status, std::string message) {
  state_ = State::kError;
  error_status_ = status;
  error_message_ = std::move(message);
  keep_alive_ = false;
}

void RequestParser::compact() {
  if (pos_ == 0) return;
  in_.erase(0, pos_);
  pos_ = 0;
}

Request RequestParser::take() {
  Request out = std::move(req_);
  req_ = Request();
  state_ = State::kEmpty;
  head_scan_ = 0;
  trailer_bytes_ = 0;
  chunked_ = false;
  content_length_ = 0;
  chunk_step_ = ChunkStep::kSize;
  chunk_left_ = 0;
  expect_continue_ = false;
  keep_alive_ = true;
  http10_ = false;
  compact();
  return out;
}

void RequestParser::parse() {
  if (state_ == State::kEmpty) {
    // Stray line ends between requests are skipped, as robust servers do.
    while (pos_ < in_.size() && (in_[pos_] == '\r' || in_[pos_] == '\n')) ++pos_;
    if (pos_ == in_.size()) {
      compact();
      return;
    }
    state_ = State::kHead;
  }
  if (state_ == State::kHead && !parse_head()) return;
  if (state_ == State::kBody) parse_body();
}

bool RequestParser::parse_head() {
  const std::string_view buf(in_.data() + pos_, in_.size() - pos_);
  // The head ends at the first empty line (CRLF CRLF, or bare LFs). Bytes
  // that trickle in are scanned once: the search resumes where it stopped.
  size_t end = std::string_view::npos, body_at = 0;
  for (size_t i = buf.find('\n', head_scan_); i != std::string_view::npos; i = buf.find('\n', i + 1)) {
    if (i + 1 < buf.size() && buf[i + 1] == '\n') {
      end = i + 1;
      body_at = i + 2;
      break;
    }
    if (i + 2 < buf.size() && buf[i + 1] == '\r' && buf[i + 2] == '\n') {
      end = i + 1;
      body_at = i + 3;
      break;
    }
    if (i > limits_.max_header_bytes) break;
  }
  if (end == std::string_view::npos) {
    head_scan_ = buf.size() > 2 ? buf.size() - 2 : 0;
    // A head of max_header_bytes may still end: its blank line takes up to
    // two more bytes (LF CR LF). Refusing any earlier would make the answer
    // depend on where the socket cut the bytes.
    if (buf.size() > limits_.max_header_bytes + 1) {
      set_error(431, "request header fields too large");
    }
    return false;
  }
  if (end > limits_.max_header_bytes) {
    set_error(431, "request header fields too large");
    return false;
  }
  std::string_view head = buf.substr(0, end);
  auto next_line = [&head]() {
    size_t nl = head.find('\n');
    std::string_view line = head.substr(0, nl);
    head.remove_prefix(nl == std::string_view::npos ? head.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  };

  // Request line: METHOD SP target SP version.
  std::string_view line = next_line();
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    set_error(400, "malformed request line");
    return false;
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method)) {
    set_error(400, "invalid method");
    return false;
  }
  if (version == "HTTP/1.0") {
    http10_ = true;
    keep_alive_ = false;
  } else if (version != "HTTP/1.1") {
    if (version.starts_with("HTTP/")) {
      set_error(505, "unsupported HTTP version");
    } else {
      set_error(400, "malformed HTTP version");
    }
    return false;
  }
  if (target.empty() || std::any_of(target.begin(), target.end(), [](char c) {
        return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
      })) {
    set_error(400, "invalid request target");
    return false;
  }
  // absolute-form (a proxy's "http://host/path"): the path is what routes.
  if (size_t scheme = target.find("://"); scheme != std::string_view::npos && target.front() != '/') {
    size_t slash = target.find('/', scheme + 3);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  std::string_view raw_path = target.substr(0, target.find('?'));
  if (!decode_path(raw_path, req_.path)) {
    set_error(400, "invalid URL escape in path");
    return false;
  }
  if (size_t q = target.find('?'); q != std::string_view::npos) parse_query(target.substr(q + 1), req_.params);
  req_.method = std::string(method);

  // Header fields.
  bool have_length = false, have_te = false;
  while (!head.empty()) {
    line = next_line();
    if (line.empty()) break;
    if (line.front() == ' ' || line.front() == '\t') {
      set_error(400, "obsolete line folding in header");
      return false;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
      set_error(400, "malformed header line");
      return false;
    }
    std::string name = lower(line.substr(0, colon));
    std::string_view value = trim(line.substr(colon + 1));
    if (!valid_field_value(value)) {
      set_error(400, "invalid header value");
      return false;
    }
    if (name == "content-length") {
      uint64_t n = 0;
      if (value.empty() || value.size() > 19 ||
          !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        set_error(400, "invalid Content-Length");
        return false;
      }
      for (char c : value) n = n * 10 + static_cast<uint64_t>(c - '0');
      if (have_length && n != content_length_) {
        set_error(400, "conflicting Content-Length values");
        return false;
      }
      have_length = true;
      content_length_ = n;
      req_.headers[name] = std::string(value);
      continue;
    }
    if (name == "transfer-encoding") have_te = true;
    auto [it, fresh] = req_.headers.try_emplace(std::move(name), value);
    if (!fresh) {
      it->second += ", ";
      it->second += value;
    }
  }

  if (auto it = req_.headers.find("connection"); it != req_.headers.end()) {
    for_each_token(it->second, [this](const std::string& t) {
      if (t == "close") keep_alive_ = false;
      if (t == "keep-alive" && http10_) keep_alive_ = true;
    });
  }
  if (have_te) {
    if (have_length) {
      set_error(400, "both Transfer-Encoding and Content-Length");
      return false;
    }
    if (http10_ || lower(trim(req_.headers["transfer-encoding"])) != "chunked") {
      set_error(501, "unsupported transfer encoding");
      return false;
    }
    chunked_ = true;
  } else if (content_length_ > limits_.max_body) {
    set_error(413, "request body too large");
    return false;
  }
  if (auto it = req_.headers.find("expect"); it != req_.headers.end()) {
    if (lower(it->second) != "100-continue") {
      set_error(417, "unsupported expectation");
      return false;
    }
    expect_continue_ = !http10_ && (chunked_ || content_length_ > 0);
  }
  pos_ += body_at;
  head_scan_ = 0;
  compact();
  state_ = State::kBody;
  return true;
}

bool RequestParser::parse_body() {
  if (chunked_) return parse_chunked();
  const size_t have = in_.size() - pos_;
  if (have < content_length_) return false;
  const auto n = static_cast<size_t>(content_length_);
  if (pos_ == 0 && have == n) {
    req_.body = std::move(in_);  // the common case: the body is all there is
    in_.clear();
  } else {
    req_.body.assign(in_, pos_, n);
    pos_ += n;
    compact();
  }
  state_ = State::kDone;
  return true;
}

bool RequestParser::parse_chunked() {
  while (true) {
    std::string_view buf(in_.data() + pos_, in_.size() - pos_);
    switch (chunk_step_) {
      case ChunkStep::kSize: {
        size_t nl = buf.find('\n');
        if (nl == std::string_view::npos) {
          if (buf.size() > kMaxChunkLine) {
            set_error(400, "chunk size line too long");
            return false;
          }
          compact();
          return false;
        }
        std::string_view line = buf.substr(0, nl);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        line = line.substr(0, line.find(';'));  // extensions are ignored
        line = trim(line);
        uint64_t n = 0;
        if (line.empty() || line.size() > 15) {
          set_error(400, "invalid chunk size");
          return false;
        }
        for (char c : line) {
          int d = hex_digit(c);
          if (d < 0) {
            set_error(400, "invalid chunk size");
            return false;
          }
          n = n * 16 + static_cast<uint64_t>(d);
        }
        pos_ += nl + 1;
        if (n == 0) {
          chunk_step_ = ChunkStep::kTrailer;
          break;
        }
        if (req_.body.size() + n > limits_.max_body) {
          set_error(413, "request body too large");
          return false;
        }
        chunk_left_ = n;
        chunk_step_ = ChunkStep::kData;
        break;
      }
      case ChunkStep::kData: {
        if (buf.empty()) {
          compact();
          return false;
        }
        size_t take = static_cast<size_t>(std::min<uint64_t>(chunk_left_, buf.size()));
        req_.body.append(buf.data(), take);
        pos_ += take;
        chunk_left_ -= take;
        if (chunk_left_ == 0) chunk_step_ = ChunkStep::kDataEnd;
        break;
      }
      case ChunkStep::kDataEnd: {
        if (buf.empty() || (buf[0] == '\r' && buf.size() < 2)) {
          compact();
          return false;
        }
        if (buf.starts_with("\r\n")) {
          pos_ += 2;
        } else if (buf[0] == '\n') {
          pos_ += 1;
        } else {
          set_error(400, "malformed chunk");
          return false;
        }
        chunk_step_ = ChunkStep::kSize;
        break;
      }
      case ChunkStep::kTrailer: {
        // Trailer fields, then an empty line; none of them is kept.
        while (true) {
          buf = std::string_view(in_.data() + pos_, in_.size() - pos_);
          size_t nl = buf.find('\n');
          if (nl == std::string_view::npos) {
            if (buf.size() > kMaxTrailerBytes) {
              set_error(431, "trailer fields too large");
              return false;
            }
            compact();
            return false;
          }
          pos_ += nl + 1;
          trailer_bytes_ += nl + 1;
          if (trailer_bytes_ > kMaxTrailerBytes) {
            set_error(431, "trailer fields too large");
            return false;
          }
          if (nl == 0 || (nl == 1 && buf[0] == '\r')) {
            compact();
            state_ = State::kDone;
            return true;
          }
        }
      }
    }
  }
}

}  // namespace vigil::server
