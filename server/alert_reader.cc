#include "server/alert_reader.h"

#include <algorithm>
#include <deque>
#include <string>

#include "model/json_writer.h"
#include "model/names.h"
#include "model/timestamp.h"

namespace vigil::server {

namespace {

constexpr int kMaxDepth = 64;

// A cursor over the body; every read either succeeds or marks the whole
// read as failed (the caller then falls back to the general parser).
class Cursor {
 public:
  explicit Cursor(std::string_view s) : p_(s.data()), end_(s.data() + s.size()) {}

  void ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool at_end() const { return p_ == end_; }
  bool eat(char c) {
    ws();
    if (p_ < end_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }
  char peek() {
    ws();
    return p_ < end_ ? *p_ : '\0';
  }
  bool literal(std::string_view word) {
    ws();
    if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) return false;
    p_ += word.size();
    return true;
  }

  // A string literal as a view: of the body itself when it has no escapes,
  // else of its decoded text kept in `decoded` (which must outlive the view).
  bool view(std::string_view& out, std::deque<std::string>& decoded) {
    ws();
    if (p_ < end_ && *p_ == '"') {
      const char* start = p_ + 1;
      const char* q = start + json_plain_run(start, end_);
      if (q < end_ && *q == '"') {
        out = std::string_view(start, static_cast<size_t>(q - start));
        p_ = q + 1;
        return true;
      }
    }
    decoded.emplace_back();
    if (!string(decoded.back())) return false;
    out = decoded.back();
    return true;
  }

  // A string literal into `out`; false when it is not one (or not UTF-8).
  bool string(std::string& out) {
    out.clear();
    if (!eat('"')) return false;
    const char* run = p_;
    while (p_ < end_) {
      p_ += json_plain_run(p_, end_);
      if (p_ == end_) break;
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        out.append(run, p_);
        ++p_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        out.append(run, p_);
        if (!escape(out)) return false;
        run = p_;
        continue;
      }
      if (c >= 0x80) {
        uint32_t cp = 0;
        const int n = utf8_decode(std::string_view(p_, static_cast<size_t>(end_ - p_)), 0, &cp);
        if (n == 0) return false;
        p_ += n;
        continue;
      }
    }
    return false;
  }

  // Skips any one value, checking it is well-formed.
  bool skip(int depth) {
    if (depth > kMaxDepth) return false;
    switch (peek()) {
      case '"': {
        std::string tmp;
        return string(tmp);
      }
      case '{': {
        eat('{');
        if (eat('}')) return true;
        std::string key;
        do {
          if (!string(key) || !eat(':') || !skip(depth + 1)) return false;
        } while (eat(','));
        return eat('}');
      }
      case '[': {
        eat('[');
        if (eat(']')) return true;
        do {
          if (!skip(depth + 1)) return false;
        } while (eat(','));
        return eat(']');
      }
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      default: return number();
    }
  }

 private:
  bool hex4(uint32_t& v) {
    if (end_ - p_ < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = *p_++;
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<uint32_t>(c - 'A' + 10);
      else return false;
    }
    return true;
  }

  bool escape(std::string& out) {
    ++p_;  // the backslash
    if (p_ >= end_) return false;
    char c = *p_++;
    switch (c) {
      case '"': out += '"'; return true;
      case '\\': out += '\\'; return true;
      case '/': out += '/'; return true;
      case 'b': out += '\b'; return true;
      case 'f': out += '\f'; return true;
      case 'n': out += '\n'; return true;
      case 'r': out += '\r'; return true;
      case 't': out += '\t'; return true;
      case 'u': break;
      default: return false;
    }
    uint32_t cp = 0;
    if (!hex4(cp)) return false;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // a lone low surrogate
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      uint32_t lo = 0;
      if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
      p_ += 2;
      if (!hex4(lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    append_utf8(out, cp);
    return true;
  }

  // A JSON number (grammar only; its value is never needed here).
  bool number() {
    ws();
    const char* start = p_;
    auto digits = [&] {
      const char* d = p_;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
      return p_ > d;
    };
    if (p_ < end_ && *p_ == '-') ++p_;
    if (p_ < end_ && *p_ == '0') {
      ++p_;
    } else if (!digits()) {
      return false;
    }
    if (p_ < end_ && *p_ == '.') {
      ++p_;
      if (!digits()) return false;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!digits()) return false;
    }
    return p_ > start;
  }

  const char* p_;
  const char* end_;
};

// An object of strings into `out` (appended), as views.
bool string_map(Cursor& c, std::vector<LabelView>& out, std::deque<std::string>& decoded) {
  if (!c.eat('{')) return false;
  if (c.eat('}')) return true;
  do {
    LabelView l;
    if (!c.view(l.name, decoded) || !c.eat(':') || !c.view(l.value, decoded)) return false;
    out.push_back(l);
  } while (c.eat(','));
  return c.eat('}');
}

// A string or null; null and "" both give "".
bool optional_string(Cursor& c, std::string& out) {
  if (c.peek() == 'n') {
    out.clear();
    return c.literal("null");
  }
  return c.string(out);
}

bool optional_time(Cursor& c, std::string& scratch, Millis& out) {
  if (!optional_string(c, scratch)) return false;
  if (scratch.empty()) {
    out = 0;
    return true;
  }
  auto t = parse_rfc3339(scratch);
  if (!t) return false;
  out = *t > 0 ? *t : 0;
  return true;
}

// Reads one alert; `labels`, `annotations` and `decoded` are scratch space
// reused from alert to alert.
bool alert(Cursor& c, routing::Alert& a, std::vector<LabelView>& labels, std::vector<LabelView>& annotations,
           std::deque<std::string>& decoded) {
  if (!c.eat('{')) return false;
  bool has_labels = false;
  labels.clear();
  annotations.clear();
  decoded.clear();
  std::string key, scratch;
  if (!c.eat('}')) {
    do {
      if (!c.string(key) || !c.eat(':')) return false;
      if (key == "labels") {
        // A null (or repeated) labels member is for the general parser to word.
        if (has_labels || c.peek() != '{' || !string_map(c, labels, decoded)) return false;
        has_labels = true;
      } else if (key == "annotations") {
        annotations.clear();
        if (c.peek() == 'n') {
          if (!c.literal("null")) return false;
        } else if (!string_map(c, annotations, decoded)) {
          return false;
        }
      } else if (key == "startsAt") {
        if (!optional_time(c, scratch, a.starts_at)) return false;
      } else if (key == "endsAt") {
        if (!optional_time(c, scratch, a.ends_at)) return false;
      } else if (key == "generatorURL") {
        if (!optional_string(c, a.generator_url)) return false;
      } else if (!c.skip(2)) {
        return false;
      }
    } while (c.eat(','));
    if (!c.eat('}')) return false;
  }
  if (!has_labels) return false;
  a.labels = Labels(std::span<const LabelView>(labels));
  a.annotations = Labels(std::span<const LabelView>(annotations));
  return true;
}

}  // namespace

std::optional<std::vector<routing::Alert>> read_postable_alerts(std::string_view body) {
  Cursor c(body);
  std::vector<routing::Alert> out;
  std::vector<LabelView> labels, annotations;
  std::deque<std::string> decoded;
  if (!c.eat('[')) return std::nullopt;
  if (!c.eat(']')) {
    do {
      routing::Alert a;
      if (!alert(c, a, labels, annotations, decoded)) return std::nullopt;
      out.push_back(std::move(a));
    } while (c.eat(','));
    if (!c.eat(']')) return std::nullopt;
  }
  c.ws();
  if (!c.at_end()) return std::nullopt;
  return out;
}

int json_nesting_depth(std::string_view s) {
  int depth = 0, max_depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') max_depth = std::max(max_depth, ++depth);
    else if (c == ']' || c == '}') --depth;
  }
  return max_depth;
}

}  // namespace vigil::server
