#include "promql/lexer.h"

#include <cstdint>

#include <fmt/format.h>

#include "model/names.h"

namespace vigil::promql {

namespace {

bool is_space(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(int c) { return c >= '0' && c <= '9'; }
bool is_alpha(int c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_alnum(int c) { return is_alpha(c) || is_digit(c); }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

struct Keyword {
  std::string_view word;
  Tok tok;
};
// "inf" and "nan" are numbers; everything else is a keyword token.
constexpr Keyword kKeywords[] = {
    {"and", Tok::kLand}, {"or", Tok::kLor}, {"unless", Tok::kLunless}, {"atan2", Tok::kAtan2},
    {"sum", Tok::kSum}, {"avg", Tok::kAvg}, {"count", Tok::kCount}, {"min", Tok::kMin},
    {"max", Tok::kMax}, {"group", Tok::kGroup}, {"stddev", Tok::kStddev},
    {"stdvar", Tok::kStdvar}, {"topk", Tok::kTopk}, {"bottomk", Tok::kBottomk},
    {"count_values", Tok::kCountValues}, {"quantile", Tok::kQuantile},
    {"limitk", Tok::kLimitk}, {"limit_ratio", Tok::kLimitRatio},
    {"offset", Tok::kOffset}, {"smoothed", Tok::kSmoothed}, {"anchored", Tok::kAnchored},
    {"by", Tok::kBy}, {"without", Tok::kWithout}, {"on", Tok::kOn}, {"ignoring", Tok::kIgnoring},
    {"group_left", Tok::kGroupLeft}, {"group_right", Tok::kGroupRight}, {"fill", Tok::kFill},
    {"fill_left", Tok::kFillLeft}, {"fill_right", Tok::kFillRight}, {"bool", Tok::kBool},
    {"start", Tok::kStart}, {"end", Tok::kEnd}, {"step", Tok::kStep}, {"range", Tok::kRange},
    {"max_of", Tok::kMaxOf}, {"min_of", Tok::kMinOf},
    {"inf", Tok::kNumber}, {"nan", Tok::kNumber},
};

bool lookup_keyword(std::string_view lowered, Tok* out) {
  for (const auto& k : kKeywords)
    if (k.word == lowered) {
      *out = k.tok;
      return true;
    }
  return false;
}

bool is_duration_keyword(std::string_view lowered, Tok* out) {
  if (lowered == "step") *out = Tok::kStep;
  else if (lowered == "range") *out = Tok::kRange;
  else if (lowered == "max_of") *out = Tok::kMaxOf;
  else if (lowered == "min_of") *out = Tok::kMinOf;
  else return false;
  return true;
}

bool is_duration_keyword_start(int c) {
  c = (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
  return c == 's' || c == 'r' || c == 'm';
}

// Decodes the UTF-8 character at s[i]; invalid bytes decode as U+FFFD, width 1.
uint32_t decode_rune(std::string_view s, size_t i, int* width) {
  uint32_t cp;
  *width = utf8_decode(s, i, &cp);
  if (*width == 0) {
    *width = 1;
    return 0xFFFD;
  }
  return cp;
}

// Go's %q for a rune: a single-quoted character literal.
std::string quote_rune(uint32_t cp) {
  switch (cp) {
    case '\a': return "'\\a'";
    case '\b': return "'\\b'";
    case '\f': return "'\\f'";
    case '\n': return "'\\n'";
    case '\r': return "'\\r'";
    case '\t': return "'\\t'";
    case '\v': return "'\\v'";
    case '\\': return "'\\\\'";
    case '\'': return "'\\''";
  }
  if (cp < 0x20 || cp == 0x7F) return fmt::format("'\\x{:02x}'", cp);
  if (cp == 0xFFFD) return "'�'";
  std::string out = "'";
  append_utf8(out, cp);
  return out + "'";
}

// Go's %#U: "U+0063 'c'".
std::string unicode_rune(uint32_t cp) {
  std::string out = fmt::format("U+{:04X}", cp);
  if (cp >= 0x20 && cp != 0x7F) {
    out += " '";
    append_utf8(out, cp);
    out += "'";
  }
  return out;
}

int digit_value(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 16;
}

}  // namespace

bool is_operator(Tok t) { return t >= Tok::kAdd && t <= Tok::kLunless; }
bool is_aggregator(Tok t) { return t >= Tok::kAvg && t <= Tok::kLimitRatio; }
bool is_keyword(Tok t) { return t >= Tok::kBool && t <= Tok::kWithout; }

std::string describe(const Token& t) {
  switch (t.kind) {
    case Tok::kEOF: return "end of input";
    case Tok::kError: return t.error;
    case Tok::kIdentifier: return "identifier " + go_quote(t.text);
    case Tok::kMetricIdentifier: return "metric identifier " + go_quote(t.text);
    case Tok::kNumber:
    case Tok::kDuration:
    case Tok::kString: {
      const char* what = t.kind == Tok::kNumber ? "number " : t.kind == Tok::kDuration ? "duration " : "string ";
      // Go's "%.10q...": at most ten characters of the text, then an ellipsis.
      size_t i = 0;
      int runes = 0;
      while (i < t.text.size() && runes < 10) {
        int w;
        decode_rune(t.text, i, &w);
        i += w;
        ++runes;
      }
      if (i < t.text.size()) return what + go_quote(t.text.substr(0, i)) + "...";
      return what + go_quote(t.text);
    }
    default: break;
  }
  if (is_keyword(t.kind)) return fmt::format("<{}>", t.text);
  if (is_operator(t.kind)) return fmt::format("<op:{}>", t.text);
  if (is_aggregator(t.kind)) return fmt::format("<aggr:{}>", t.text);
  return go_quote(t.text);
}

int Lexer::peek() const { return pos_ < in_.size() ? static_cast<unsigned char>(in_[pos_]) : -1; }

bool Lexer::accept(std::string_view chars) {
  int c = peek();
  if (c >= 0 && chars.find(static_cast<char>(c)) != std::string_view::npos) {
    ++pos_;
    return true;
  }
  return false;
}

// Parentheses are counted in every mode, so an unbalanced ')' is caught early.
Token Lexer::paren(char c) {
  if (c == '(') {
    ++paren_depth_;
    return emit(Tok::kLeftParen);
  }
  Token t = emit(Tok::kRightParen);
  if (--paren_depth_ < 0) return error("unexpected right parenthesis ')'");
  return t;
}

Token Lexer::emit(Tok k) {
  Token t{k, static_cast<int>(start_), in_.substr(start_, pos_ - start_), {}};
  start_ = pos_;
  return t;
}

Token Lexer::error(std::string msg) {
  done_ = true;
  return Token{Tok::kError, static_cast<int>(start_), {}, std::move(msg)};
}

Token Lexer::next() {
  if (done_) return Token{Tok::kEOF, static_cast<int>(in_.size()), {}, {}};
  for (;;) {
    // Whitespace is skipped in every mode, comments in all but the state
    // right after '[' (as upstream).
    while (is_space(peek())) ++pos_;
    if (peek() == '#' && !in_duration_state_) {
      while (pos_ < in_.size() && in_[pos_] != '\n' && in_[pos_] != '\r') ++pos_;
      continue;
    }
    break;
  }
  start_ = pos_;
  if (brace_open_) return inside_braces();
  if (in_duration_state_) return duration_state();
  return statements();
}

Token Lexer::statements() {
  if (pos_ >= in_.size()) {
    if (paren_depth_ != 0) return error("unclosed left parenthesis");
    if (bracket_open_) return error("unclosed left bracket");
    done_ = true;
    return emit(Tok::kEOF);
  }
  int w;
  uint32_t r = decode_rune(in_, pos_, &w);
  pos_ += w;
  switch (r) {
    case ',': return emit(Tok::kComma);
    case '*': return emit(Tok::kMul);
    case '/': return emit(Tok::kDiv);
    case '%': return emit(Tok::kMod);
    case '+': return emit(Tok::kAdd);
    case '-': return emit(Tok::kSub);
    case '^': return emit(Tok::kPow);
    case '@': return emit(Tok::kAt);
    case '=':
      if (peek() == '=') return ++pos_, emit(Tok::kEqlc);
      if (peek() == '~') return error("unexpected character after '=': '~'");
      return emit(Tok::kEql);
    case '!': {
      if (peek() == '=') return ++pos_, emit(Tok::kNeq);
      if (pos_ >= in_.size()) return error("unexpected character after '!': '\xef\xbf\xbd'");
      uint32_t c = decode_rune(in_, pos_, &w);
      return error("unexpected character after '!': " + quote_rune(c));
    }
    case '<':
      if (peek() == '=') return ++pos_, emit(Tok::kLte);
      if (peek() == '/') return ++pos_, emit(Tok::kTrimUpper);
      return emit(Tok::kLss);
    case '>':
      if (peek() == '=') return ++pos_, emit(Tok::kGte);
      if (peek() == '/') return ++pos_, emit(Tok::kTrimLower);
      return emit(Tok::kGtr);
    case '"':
    case '\'': return string_token(static_cast<char>(r));
    case '`': return raw_string();
    case '(':
    case ')':
      return paren(static_cast<char>(r));
    case '{':
      brace_open_ = true;
      return emit(Tok::kLeftBrace);
    case '[': {
      if (bracket_open_) return error("unexpected left bracket '['");
      got_colon_ = false;
      got_duration_ = false;
      Token t = emit(Tok::kLeftBracket);
      bracket_open_ = true;
      in_duration_state_ = true;
      return t;
    }
    case ']':
      if (!bracket_open_) return error("unexpected right bracket ']'");
      bracket_open_ = false;
      return emit(Tok::kRightBracket);
    default: break;
  }
  if (is_digit(static_cast<int>(r)) || (r == '.' && is_digit(peek()))) {
    pos_ = start_;
    return number_or_duration();
  }
  if (is_alpha(static_cast<int>(r)) || r == ':') {
    if (!bracket_open_) {
      pos_ = start_;
      return keyword_or_identifier();
    }
    if (r == ':') {
      if (got_colon_) return error("unexpected colon ':'");
      got_colon_ = true;
      return emit(Tok::kColon);
    }
    Tok kw;
    if (is_duration_keyword_start(static_cast<int>(r)) && scan_duration_keyword(&kw)) return emit(kw);
    return error(fmt::format("unexpected character: {}, expected ':'", quote_rune(r)));
  }
  return error("unexpected character: " + quote_rune(r));
}

bool Lexer::scan_duration_keyword(Tok* out) {
  while (is_alpha(peek())) ++pos_;
  return is_duration_keyword(lower(in_.substr(start_, pos_ - start_)), out);
}

// The state right after '[': duration arithmetic until the first number.
Token Lexer::duration_state() {
  if (pos_ >= in_.size()) return error("unexpected end of input in duration expression");
  int w;
  uint32_t r = decode_rune(in_, pos_, &w);
  pos_ += w;
  switch (r) {
    case ']':
      bracket_open_ = false;
      got_colon_ = false;
      in_duration_state_ = false;
      return emit(Tok::kRightBracket);
    case ':': {
      Token t = emit(Tok::kColon);
      if (!got_duration_) return error("unexpected colon before duration in duration expression");
      if (got_colon_) return error("unexpected repeated colon in duration expression");
      got_colon_ = true;
      return t;
    }
    case '(':
    case ')':
      return paren(static_cast<char>(r));
    case '+': return emit(Tok::kAdd);
    case '-': return emit(Tok::kSub);
    case '*': return emit(Tok::kMul);
    case '/': return emit(Tok::kDiv);
    case '%': return emit(Tok::kMod);
    case '^': return emit(Tok::kPow);
    case ',': return emit(Tok::kComma);
    default: break;
  }
  if (is_duration_keyword_start(static_cast<int>(r))) {
    Tok kw;
    if (scan_duration_keyword(&kw)) return emit(kw);
    return error("unexpected character in duration expression: " + quote_rune(r));
  }
  if (is_digit(static_cast<int>(r)) || (r == '.' && is_digit(peek()))) {
    pos_ = start_;
    got_duration_ = true;
    in_duration_state_ = false;
    return number_or_duration();
  }
  return error("unexpected character in duration expression: " + quote_rune(r));
}

Token Lexer::inside_braces() {
  if (pos_ >= in_.size()) return error("unexpected end of input inside braces");
  int w;
  uint32_t r = decode_rune(in_, pos_, &w);
  pos_ += w;
  if (is_alpha(static_cast<int>(r))) {
    while (is_alnum(peek())) ++pos_;
    return emit(Tok::kIdentifier);
  }
  switch (r) {
    case ',': return emit(Tok::kComma);
    case '"':
    case '\'': return string_token(static_cast<char>(r));
    case '`': return raw_string();
    case '=':
      if (peek() == '~') return ++pos_, emit(Tok::kEqlRegex);
      return emit(Tok::kEql);
    case '!': {
      if (peek() == '~') return ++pos_, emit(Tok::kNeqRegex);
      if (peek() == '=') return ++pos_, emit(Tok::kNeq);
      if (pos_ >= in_.size()) return error("unexpected character after '!' inside braces: '\xef\xbf\xbd'");
      uint32_t c = decode_rune(in_, pos_, &w);
      return error("unexpected character after '!' inside braces: " + quote_rune(c));
    }
    case '{': return error("unexpected left brace '{'");
    case '}':
      brace_open_ = false;
      return emit(Tok::kRightBrace);
    default: return error("unexpected character inside braces: " + quote_rune(r));
  }
}

Token Lexer::string_token(char quote) {
  for (;;) {
    if (pos_ >= in_.size()) return error("unterminated quoted string");
    int w;
    uint32_t r = decode_rune(in_, pos_, &w);
    if (r == 0xFFFD && w == 1) return error("invalid UTF-8 rune");
    pos_ += w;
    if (r == '\n') return error("unterminated quoted string");
    if (r == static_cast<uint32_t>(quote)) return emit(Tok::kString);
    if (r != '\\') continue;
    // Validate the escape as Go would, so unquoting later cannot fail.
    if (pos_ >= in_.size()) return error("escape sequence not terminated");
    int c = static_cast<unsigned char>(in_[pos_++]);
    int n = 0;
    uint32_t base = 0, max = 0;
    switch (c) {
      case 'a': case 'b': case 'f': case 'n': case 'r': case 't': case 'v': case '\\':
        continue;
      case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
        n = 3, base = 8, max = 255;
        --pos_;
        break;
      case 'x': n = 2, base = 16, max = 255; break;
      case 'u': n = 4, base = 16, max = 0x10FFFF; break;
      case 'U': n = 8, base = 16, max = 0x10FFFF; break;
      default:
        if (c == quote) continue;
        --pos_;
        return error("unknown escape sequence " + unicode_rune(decode_rune(in_, pos_, &w)));
    }
    uint32_t x = 0;
    for (; n > 0; --n) {
      if (pos_ >= in_.size()) return error("escape sequence not terminated");
      uint32_t ch = decode_rune(in_, pos_, &w);
      auto d = static_cast<uint32_t>(digit_value(ch < 128 ? static_cast<int>(ch) : 0x100));
      if (d >= base) return error("illegal character " + unicode_rune(ch) + " in escape sequence");
      pos_ += w;
      x = x * base + d;
    }
    if (x > max || (x >= 0xD800 && x < 0xE000)) return error("escape sequence is an invalid Unicode code point");
  }
}

Token Lexer::raw_string() {
  for (;;) {
    if (pos_ >= in_.size()) return error("unterminated raw string");
    int w;
    uint32_t r = decode_rune(in_, pos_, &w);
    if (r == 0xFFFD && w == 1) return error("invalid UTF-8 rune");
    pos_ += w;
    if (r == '`') return emit(Tok::kString);
  }
}

bool Lexer::followed_by_left_paren() const {
  for (size_t p = pos_; p < in_.size(); ++p) {
    if (!is_space(static_cast<unsigned char>(in_[p]))) return in_[p] == '(';
  }
  return false;
}

Token Lexer::keyword_or_identifier() {
  while (is_alnum(peek()) || peek() == ':') ++pos_;
  std::string_view word = in_.substr(start_, pos_ - start_);
  Tok kw;
  if (lookup_keyword(lower(word), &kw)) {
    // fill is an ordinary name unless used as a modifier: "fill + fill(0) other".
    bool is_fill = kw == Tok::kFill || kw == Tok::kFillLeft || kw == Tok::kFillRight;
    if (is_fill && !followed_by_left_paren()) return emit(Tok::kIdentifier);
    return emit(kw);
  }
  return emit(word.find(':') == std::string_view::npos ? Tok::kIdentifier : Tok::kMetricIdentifier);
}

Token Lexer::number_or_duration() {
  if (scan_number()) return emit(Tok::kNumber);
  if (accept_remaining_duration()) return emit(Tok::kDuration);
  return error(fmt::format("bad number or duration syntax: {}", go_quote(in_.substr(start_, pos_ - start_))));
}

// Mirrors upstream's accept/next semantics: reading past the end consumes nothing.
bool Lexer::accept_remaining_duration() {
  if (!accept("smhdwy")) return false;
  accept("s");
  while (accept("0123456789")) {
    while (accept("0123456789")) {
    }
    if (!accept("smhdw")) return false;
    accept("s");
  }
  // On failure the offending character belongs to the reported text.
  int c = peek();
  if (!is_alnum(c)) return true;
  ++pos_;
  return false;
}

bool Lexer::scan_number() {
  size_t initial = pos_;
  std::string_view digits = "0123456789";
  if (accept("0") && accept("xX")) {
    accept("_");
    digits = "0123456789abcdefABCDEF";
  }
  auto is = [&](std::string_view set) { int c = peek(); return c >= 0 && set.find(static_cast<char>(c)) != std::string_view::npos; };
  accept(".");
  accept(digits);
  bool dot = false, exponent = false;
  std::string all = std::string(digits) + "._eE";
  while (is(all)) {
    if (is(".") && dot) return accept("."), false;
    if (is("eE") && exponent) return accept("eE"), false;
    if (accept(".")) {
      dot = true;
      if (accept("_.")) return false;
      if (digits.size() > 10) return false;
      continue;
    }
    // Like upstream, 'e' counts as an exponent even in hex literals.
    if (accept("eE")) {
      exponent = true;
      accept("+-");
      if (accept("._eE") || peek() < 0) return false;
      continue;
    }
    if (accept("_")) {
      if (accept("._eE") || peek() < 0) return false;
      continue;
    }
    while (accept(digits)) {
    }
  }
  if (pos_ == initial) return false;
  return !is_alnum(peek());
}

}  // namespace vigil::promql
