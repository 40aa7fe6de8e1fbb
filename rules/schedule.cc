#include "rules/schedule.h"

#include <string>

#include "model/xxhash.h"

namespace vigil::rules {

namespace {

void append_sized(std::string& b, std::string_view s) {
  const size_t n = s.size();
  if (n < 255) {
    b += static_cast<char>(n);
  } else {
    b += '\xff';
    b += static_cast<char>(n & 0xff);
    b += static_cast<char>((n >> 8) & 0xff);
    b += static_cast<char>((n >> 16) & 0xff);
  }
  b += s;
}

}  // namespace

uint64_t group_hash(std::string_view file, std::string_view name) {
  std::string b;
  b.reserve(file.size() + name.size() + 16);
  // Labels in name order: "file" before "name".
  append_sized(b, "file");
  append_sized(b, file);
  append_sized(b, "name");
  append_sized(b, name);
  return xxhash64(b);
}

int64_t group_offset_nanos(std::string_view file, std::string_view name, Millis interval) {
  if (interval <= 0) return 0;
  const uint64_t interval_ns = static_cast<uint64_t>(interval) * 1'000'000;
  return static_cast<int64_t>(group_hash(file, name) % interval_ns);
}

Millis group_offset(std::string_view file, std::string_view name, Millis interval) {
  return group_offset_nanos(file, name, interval) / 1'000'000;
}

Millis tick_at_or_before(Millis t, Millis offset, Millis interval) {
  Millis r = (t - offset) % interval;
  if (r < 0) r += interval;
  return t - r;
}

}  // namespace vigil::rules
