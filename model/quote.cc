#include "model/quote.h"

#include "model/names.h"

namespace vigil {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<uint32_t> unquote_char(std::string_view s, size_t* i, char quote, bool* is_byte,
                                     QuoteDialect dialect) {
  *is_byte = false;
  // In Go a single-quoted literal is a rune, whose \x and octal escapes are
  // code points; in PromQL it is a string like any other.
  const bool rune_literal = quote == '\'' && dialect == QuoteDialect::kGo;
  char c = s[*i];
  if (c == quote && (quote == '\'' || quote == '"')) return std::nullopt;
  if (static_cast<unsigned char>(c) >= 0x80) {
    uint32_t cp;
    int n = utf8_decode(s, *i, &cp);
    if (n == 0) {
      *i += 1;
      return 0xFFFD;
    }
    *i += n;
    return cp;
  }
  if (c != '\\') {
    *i += 1;
    return static_cast<unsigned char>(c);
  }
  if (*i + 1 >= s.size()) return std::nullopt;
  char e = s[*i + 1];
  *i += 2;
  switch (e) {
    case 'a': return '\a';
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'v': return '\v';
    case '\\': return '\\';
    case '\'':
    case '"':
      if (e != quote) return std::nullopt;
      return static_cast<uint32_t>(e);
    case 'x':
    case 'u':
    case 'U': {
      size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
      if (*i + n > s.size()) return std::nullopt;
      uint32_t v = 0;
      for (size_t k = 0; k < n; ++k) {
        int d = hex_digit(s[*i + k]);
        if (d < 0) return std::nullopt;
        v = v * 16 + static_cast<uint32_t>(d);
      }
      *i += n;
      if (e == 'x') {
        *is_byte = !rune_literal;
        return v;
      }
      if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return std::nullopt;
      return v;
    }
    case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
      if (*i + 2 > s.size()) return std::nullopt;
      uint32_t v = static_cast<uint32_t>(e - '0');
      for (size_t k = 0; k < 2; ++k) {
        char d = s[*i + k];
        if (d < '0' || d > '7') return std::nullopt;
        v = v * 8 + static_cast<uint32_t>(d - '0');
      }
      if (v > 255) return std::nullopt;
      *i += 2;
      *is_byte = !rune_literal;
      return v;
    }
    default:
      return std::nullopt;
  }
}

Result<std::string> unquote(std::string_view q, QuoteDialect dialect) {
  auto bad = [] { return fail("invalid syntax"); };
  if (q.size() < 2 || q.front() != q.back()) return bad();
  char quote = q.front();
  std::string_view body = q.substr(1, q.size() - 2);
  if (quote == '`') {
    if (body.find('`') != std::string_view::npos) return bad();
    if (dialect == QuoteDialect::kPromQL) return std::string(body);
    std::string out;
    for (char c : body) {
      if (c != '\r') out += c;
    }
    return out;
  }
  if (quote != '"' && quote != '\'') return bad();
  if (body.find('\n') != std::string_view::npos) return bad();
  if (dialect == QuoteDialect::kPromQL && body.find('\\') == std::string_view::npos &&
      body.find(quote) == std::string_view::npos) {
    return std::string(body);
  }
  std::string out;
  out.reserve(body.size());
  size_t i = 0;
  int count = 0;
  while (i < body.size()) {
    bool is_byte;
    auto c = unquote_char(body, &i, quote, &is_byte, dialect);
    if (!c) return bad();
    if (is_byte) {
      out += static_cast<char>(*c);
    } else {
      append_utf8(out, *c);
    }
    ++count;
  }
  if (quote == '\'' && dialect == QuoteDialect::kGo && count != 1) return bad();
  return out;
}

}  // namespace vigil
