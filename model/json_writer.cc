#include "model/json_writer.h"

#include <fmt/format.h>

#include <cstring>

#include "model/names.h"

namespace vigil {

namespace {

// Whether any of the 8 bytes in `w` needs a look: a control character, a
// quote, a backslash, or a byte of a multi-byte sequence.
bool needs_look(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  auto has_zero = [&](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  return ((w | ((w - 0x2020202020202020ULL) & ~w)) & kHigh) != 0 || has_zero(w ^ (kOnes * '"')) ||
         has_zero(w ^ (kOnes * '\\'));
}

}  // namespace

size_t json_plain_run(const char* p, const char* end) {
  const char* q = p;
  while (end - q >= 8) {
    uint64_t w;
    std::memcpy(&w, q, 8);
    if (needs_look(w)) break;
    q += 8;
  }
  while (q < end) {
    const auto c = static_cast<unsigned char>(*q);
    if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
    ++q;
  }
  return static_cast<size_t>(q - p);
}

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  size_t plain = 0;  // start of the run of bytes copied as they are
  for (size_t i = 0; i < s.size();) {
    i += json_plain_run(s.data() + i, s.data() + s.size());
    if (i == s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      uint32_t cp = 0;
      if (int n = utf8_decode(s, i, &cp)) {
        i += static_cast<size_t>(n);
        continue;
      }
    }
    out.append(s.data() + plain, i - plain);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
        } else {
          out += "\xEF\xBF\xBD";  // not UTF-8
        }
    }
    plain = ++i;
  }
  out.append(s.data() + plain, s.size() - plain);
  out.push_back('"');
}

void JsonWriter::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_.push_back(',');
    first_.back() = false;
  }
}

JsonWriter& JsonWriter::open(char c) {
  separate();
  out_.push_back(c);
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::close(char c) {
  out_.push_back(c);
  first_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view k) {
  separate();
  append_json_string(out_, k);
  out_.push_back(':');
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::string(std::string_view s) {
  separate();
  append_json_string(out_, s);
  return *this;
}

JsonWriter& JsonWriter::number(int64_t v) {
  separate();
  fmt::format_to(std::back_inserter(out_), "{}", v);
  return *this;
}

JsonWriter& JsonWriter::boolean(bool v) {
  separate();
  out_ += v ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::null() {
  separate();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::raw(std::string_view json) {
  separate();
  out_ += json;
  return *this;
}

}  // namespace vigil
