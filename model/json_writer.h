#pragma once

// Writes JSON straight into a string, without building a document first:
// for the large answers (every alert, every group) where a DOM would cost
// several times the text in memory and most of the time.
//
// The caller gives the structure; the writer adds commas and escapes
// strings: quote, backslash and control characters are escaped, other
// characters are written as they are (UTF-8), and bytes that are not valid
// UTF-8 become U+FFFD.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

// How many bytes from `p` on a JSON string holds as they are: the run before
// the first quote, backslash, control character or non-ASCII byte (or `end`).
size_t json_plain_run(const char* p, const char* end);

// Appends `s` as a JSON string literal, quotes included.
void append_json_string(std::string& out, std::string_view s);

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& begin_object() { return open('{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array() { return open('['); }
  JsonWriter& end_array() { return close(']'); }
  // The key of the next member of the object being written.
  JsonWriter& key(std::string_view k);
  JsonWriter& string(std::string_view s);
  JsonWriter& number(int64_t v);
  JsonWriter& boolean(bool v);
  JsonWriter& null();
  // Already-encoded JSON, written as one value.
  JsonWriter& raw(std::string_view json);

  // Shorthands for an object member.
  JsonWriter& member(std::string_view k, std::string_view v) { return key(k).string(v); }
  JsonWriter& member(std::string_view k, const char* v) { return key(k).string(v); }
  JsonWriter& member(std::string_view k, bool v) { return key(k).boolean(v); }
  JsonWriter& member(std::string_view k, int64_t v) { return key(k).number(v); }

  std::string& out() { return out_; }

 private:
  JsonWriter& open(char c);
  JsonWriter& close(char c);
  void separate();  // a comma before any value but the first in its container

  std::string& out_;
  std::vector<bool> first_;  // per open container: nothing written in it yet
  bool after_key_ = false;
};

}  // namespace vigil
