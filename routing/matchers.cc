#include "routing/matchers.h"

#include <algorithm>
#include <cstdint>
#include <optional>

#include <fmt/format.h>

#include "model/names.h"
#include "model/quote.h"

namespace vigil::routing {

namespace {

constexpr uint32_t kEof = UINT32_MAX;

// Go's unicode.IsSpace.
bool is_space(uint32_t r) {
  switch (r) {
    case '\t': case '\n': case '\v': case '\f': case '\r': case ' ': case 0x85: case 0xA0:
    case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return r >= 0x2000 && r <= 0x200A;
  }
}

// Characters that end a bare word in the UTF-8 syntax and force quoting of a
// label name when printing.
bool is_reserved(uint32_t r) {
  if (is_space(r)) return true;
  return r < 0x80 && std::string_view("{}!=~,\\\"'`").find(static_cast<char>(r)) !=
                         std::string_view::npos;
}

// Decodes the rune at s[i] as Go does: invalid bytes read as U+FFFD, width 1.
uint32_t rune_at(std::string_view s, size_t i, int* width) {
  uint32_t cp = 0;
  int w = utf8_decode(s, i, &cp);
  if (w == 0) {
    *width = 1;
    return 0xFFFD;
  }
  *width = w;
  return cp;
}

bool name_needs_quotes(std::string_view name) {
  for (size_t i = 0; i < name.size();) {
    int w = 0;
    if (is_reserved(rune_at(name, i, &w))) return true;
    i += w;
  }
  return false;
}

// ---- the UTF-8 syntax (upstream matcher/parse) ----

enum class Tok { kEof, kOpenBrace, kCloseBrace, kComma, kEquals, kNotEquals, kMatches, kNotMatches,
                 kQuoted, kUnquoted };

struct Token {
  Tok kind = Tok::kEof;
  std::string_view value;
  int col_start = 0, col_end = 0;
};

class Lexer {
 public:
  explicit Lexer(std::string_view in) : in_(in) {}

  Result<Token> scan() {
    if (err_) return std::unexpected(*err_);
    for (uint32_t r = next(); r != kEof; r = next()) {
      if (r == '{') return emit(Tok::kOpenBrace);
      if (r == '}') return emit(Tok::kCloseBrace);
      if (r == ',') return emit(Tok::kComma);
      if (r == '=' || r == '!') {
        rewind();
        return remember(scan_operator());
      }
      if (r == '"') {
        rewind();
        return remember(scan_quoted());
      }
      if (!is_reserved(r)) {
        rewind();
        return scan_unquoted();
      }
      if (is_space(r)) {
        skip();
        continue;
      }
      return remember(std::unexpected(Error{fmt::format("{}:{}: {}: invalid input", column_, cols_,
                                                         in_.substr(start_, pos_ - start_))}));
    }
    return Token{};
  }

  // The next token, without consuming it.
  Result<Token> peek() {
    Lexer saved = *this;
    Result<Token> t = scan();
    std::optional<Error> err = err_;
    *this = saved;
    err_ = err;  // a lexing error sticks, as upstream's does
    return t;
  }

  int cols() const { return cols_; }

 private:
  Result<Token> remember(Result<Token> t) {
    if (!t) err_ = t.error();
    return t;
  }

  Result<Token> scan_operator() {
    if (accept("!")) {
      if (accept("=")) return emit(Tok::kNotEquals);
      if (accept("~")) return emit(Tok::kNotMatches);
      return std::unexpected(expected("=~"));
    }
    if (accept("=")) {
      if (accept("~")) return emit(Tok::kMatches);
      return emit(Tok::kEquals);
    }
    return std::unexpected(expected("!="));
  }

  Result<Token> scan_quoted() {
    if (!accept("\"")) return std::unexpected(expected("\""));
    bool escaped = false;
    for (uint32_t r = next(); r != kEof; r = next()) {
      if (escaped) {
        escaped = false;
      } else if (r == '\\') {
        escaped = true;
      } else if (r == '"') {
        rewind();
        break;
      }
    }
    if (!accept("\"")) {
      return std::unexpected(Error{fmt::format("{}:{}: {}: missing end \"", column_, cols_,
                                               in_.substr(start_, pos_ - start_))});
    }
    return emit(Tok::kQuoted);
  }

  Result<Token> scan_unquoted() {
    for (uint32_t r = next(); r != kEof; r = next()) {
      if (is_reserved(r)) {
        rewind();
        break;
      }
    }
    return emit(Tok::kUnquoted);
  }

  Error expected(std::string_view what) const {
    if (pos_ >= in_.size())
      return Error{fmt::format("{}:{}: unexpected end of input, expected one of '{}'", column_, cols_,
                               what)};
    return Error{fmt::format("{}:{}: {}: expected one of '{}'", column_, cols_,
                             in_.substr(start_, pos_ - start_), what)};
  }

  bool accept(std::string_view valid) {
    uint32_t r = next();
    if (r != kEof && r < 0x80 && valid.find(static_cast<char>(r)) != std::string_view::npos)
      return true;
    rewind();
    return false;
  }

  Token emit(Tok kind) {
    Token t{kind, in_.substr(start_, pos_ - start_), column_, cols_};
    start_ = pos_;
    column_ = cols_;
    return t;
  }

  uint32_t next() {
    if (pos_ >= in_.size()) {
      width_ = 0;
      return kEof;
    }
    uint32_t r = rune_at(in_, pos_, &width_);
    pos_ += width_;
    ++cols_;
    return r;
  }

  void rewind() {
    pos_ -= width_;
    if (width_ > 0) --cols_;
  }

  void skip() {
    start_ = pos_;
    column_ = cols_;
  }

  std::string_view in_;
  std::optional<Error> err_;
  size_t start_ = 0, pos_ = 0;
  int width_ = 0, column_ = 0, cols_ = 0;
};

// Go's strconv.Unquote for a double-quoted string.
std::optional<std::string> go_unquote(std::string_view q) {
  if (q.empty() || q.front() != '"') return std::nullopt;
  auto s = unquote(q);
  if (!s) return std::nullopt;
  return std::move(*s);
}

class Utf8Parser {
 public:
  explicit Utf8Parser(std::string_view in) : lex_(in) {}

  Result<std::vector<Matcher>> parse() {
    // Upstream is a state machine; each state names the next one.
    State s = State::kOpenBrace;
    while (s != State::kDone) {
      Result<State> next = [&]() -> Result<State> {
        switch (s) {
          case State::kOpenBrace: return open_brace();
          case State::kMatcher: return matcher();
          case State::kEndOfMatcher: return end_of_matcher();
          case State::kComma: return comma();
          case State::kCloseBrace: return close_brace();
          case State::kEof: return eof();
          case State::kDone: break;
        }
        return State::kDone;
      }();
      if (!next) return std::unexpected(next.error());
      s = *next;
    }
    return std::move(matchers_);
  }

 private:
  enum class State { kOpenBrace, kMatcher, kEndOfMatcher, kComma, kCloseBrace, kEof, kDone };

  // The outcome of looking at the next token: an error, end of input, or it.
  struct Peeked {
    std::optional<Error> error;
    bool eof = false;
    Token tok;
  };

  Peeked peek() {
    Result<Token> t = lex_.peek();
    if (!t) return {t.error(), false, {}};
    if (t->kind == Tok::kEof) return {std::nullopt, true, *t};
    return {std::nullopt, false, *t};
  }

  static bool one_of(const Token& t, std::initializer_list<Tok> kinds) {
    return std::find(kinds.begin(), kinds.end(), t.kind) != kinds.end();
  }

  // upstream's expectPeek: the message for an unwanted token, or nothing.
  std::optional<Error> expect_peek(std::initializer_list<Tok> kinds, Token* out, bool* eof) {
    Peeked p = peek();
    *eof = p.eof;
    *out = p.tok;
    if (p.error) return p.error;
    if (p.eof) return Error{"end of input"};
    if (!one_of(p.tok, kinds))
      return Error{fmt::format("{}:{}: unexpected {}", p.tok.col_start, p.tok.col_end, p.tok.value)};
    return std::nullopt;
  }

  std::optional<Error> expect(std::initializer_list<Tok> kinds, Token* out, bool* eof) {
    if (auto e = expect_peek(kinds, out, eof)) return e;
    (void)lex_.scan();
    return std::nullopt;
  }

  static std::unexpected<Error> wrap(const Error& e, std::string_view what) {
    return std::unexpected(Error{fmt::format("{}: {}", e.message, what)});
  }

  Result<State> open_brace() {
    Peeked p = peek();
    if (p.error) return std::unexpected(*p.error);
    if (p.eof) return State::kEof;
    if (p.tok.kind == Tok::kOpenBrace) {
      has_open_brace_ = true;
      (void)lex_.scan();
    }
    Peeked q = peek();
    if (q.eof) return State::kCloseBrace;
    if (q.error) return std::unexpected(*q.error);
    if (q.tok.kind == Tok::kCloseBrace) return State::kCloseBrace;
    return State::kMatcher;
  }

  Result<State> close_brace() {
    Token t;
    bool eof = false;
    if (has_open_brace_) {
      if (auto e = expect({Tok::kCloseBrace}, &t, &eof))
        return std::unexpected(
            Error{fmt::format("0:{}: {}: expected close brace", lex_.cols(), e->message)});
    } else if (!expect({Tok::kCloseBrace}, &t, &eof)) {
      return std::unexpected(Error{fmt::format("0:{}: }}: expected opening brace", lex_.cols())});
    }
    return State::kEof;
  }

  Result<std::string> unquote(const Token& t) {
    if (t.kind != Tok::kQuoted) return std::string(t.value);
    auto s = go_unquote(t.value);
    if (!s || !is_valid_utf8(*s))
      return std::unexpected(
          Error{fmt::format("{}:{}: {}: invalid input", t.col_start, t.col_end, t.value)});
    return *s;
  }

  Result<State> matcher() {
    Token t;
    bool eof = false;
    if (auto e = expect({Tok::kQuoted, Tok::kUnquoted}, &t, &eof))
      return wrap(*e, "expected label name");
    auto name = unquote(t);
    if (!name) return std::unexpected(name.error());
    if (auto e = expect({Tok::kEquals, Tok::kNotEquals, Tok::kMatches, Tok::kNotMatches}, &t, &eof))
      return wrap(*e, "expected an operator such as '=', '!=', '=~' or '!~'");
    MatchType type = t.kind == Tok::kEquals      ? MatchType::kEqual
                     : t.kind == Tok::kNotEquals ? MatchType::kNotEqual
                     : t.kind == Tok::kMatches   ? MatchType::kRegex
                                                 : MatchType::kNotRegex;
    if (auto e = expect({Tok::kUnquoted, Tok::kQuoted}, &t, &eof))
      return wrap(*e, "expected label value");
    auto value = unquote(t);
    if (!value) return std::unexpected(value.error());
    auto m = make_matcher(type, std::move(*name), std::move(*value));
    if (!m) return std::unexpected(Error{"failed to create matcher: " + m.error().message});
    matchers_.push_back(std::move(*m));
    return State::kEndOfMatcher;
  }

  Result<State> end_of_matcher() {
    Token t;
    bool eof = false;
    if (auto e = expect_peek({Tok::kComma, Tok::kCloseBrace}, &t, &eof)) {
      if (eof) return State::kCloseBrace;
      return wrap(*e, "expected a comma or close brace");
    }
    return t.kind == Tok::kComma ? State::kComma : State::kCloseBrace;
  }

  Result<State> comma() {
    Token t;
    bool eof = false;
    if (auto e = expect({Tok::kComma}, &t, &eof)) return wrap(*e, "expected a comma");
    if (auto e = expect_peek({Tok::kCloseBrace, Tok::kUnquoted, Tok::kQuoted}, &t, &eof)) {
      if (eof) return State::kCloseBrace;
      return wrap(*e, "expected a matcher or close brace after comma");
    }
    return t.kind == Tok::kCloseBrace ? State::kCloseBrace : State::kMatcher;
  }

  Result<State> eof() {
    Result<Token> t = lex_.scan();
    if (!t) return wrap(t.error(), "expected end of input");
    if (t->kind != Tok::kEof)
      return std::unexpected(Error{fmt::format("{}:{}: {}: expected end of input", t->col_start,
                                               t->col_end, t->value)});
    return State::kDone;
  }

  Lexer lex_;
  std::vector<Matcher> matchers_;
  bool has_open_brace_ = false;
};

// ---- the classic syntax (upstream pkg/labels) ----

bool go_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }

std::string_view trim_space(std::string_view s) {
  while (!s.empty() && go_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && go_space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

Matchers::Matchers(std::vector<Matcher> ms) : ms_(std::move(ms)) {
  std::sort(ms_.begin(), ms_.end(), [](const Matcher& a, const Matcher& b) {
    if (a.name() != b.name()) return a.name() < b.name();
    if (a.value() != b.value()) return a.value() < b.value();
    return a.type() < b.type();
  });
}

std::string Matchers::to_string() const {
  std::string out = "{";
  for (size_t i = 0; i < ms_.size(); ++i) {
    if (i > 0) out += ',';
    out += format_matcher(ms_[i]);
  }
  return out + "}";
}

std::string format_matcher(const Matcher& m) {
  if (name_needs_quotes(m.name()))
    return go_quote(m.name()) + std::string(match_type_string(m.type())) + go_quote(m.value());
  std::string out = m.name();
  out += match_type_string(m.type());
  out += '"';
  for (char c : m.value()) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '"') out += "\\\"";
    else out += c;
  }
  return out + '"';
}

Result<Matcher> make_matcher(MatchType type, std::string name, std::string value) {
  return Matcher::make(type, std::move(name), std::move(value), Matcher::Dialect::kAlertmanager);
}

Result<Matcher> parse_classic_matcher(std::string_view s) {
  auto bad = [&] { return std::unexpected(Error{fmt::format("bad matcher format: {}", s)}); };
  size_t i = 0;
  while (i < s.size() && go_space(s[i])) ++i;
  size_t name_start = i;
  auto name_char = [](char c, bool first) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && c >= '0' && c <= '9');
  };
  if (i >= s.size() || !name_char(s[i], true)) return bad();
  while (i < s.size() && name_char(s[i], false)) ++i;
  std::string name(s.substr(name_start, i - name_start));
  while (i < s.size() && go_space(s[i])) ++i;
  MatchType type;
  std::string_view rest = s.substr(i);
  if (rest.starts_with("=~")) type = MatchType::kRegex, i += 2;
  else if (rest.starts_with("=")) type = MatchType::kEqual, i += 1;
  else if (rest.starts_with("!=")) type = MatchType::kNotEqual, i += 2;
  else if (rest.starts_with("!~")) type = MatchType::kNotRegex, i += 2;
  else return bad();
  std::string_view raw_full = trim_space(s.substr(i));
  std::string_view raw = raw_full;
  bool expect_quote = false;
  if (raw.starts_with('"')) {
    raw.remove_prefix(1);
    expect_quote = true;
  }
  if (!is_valid_utf8(raw))
    return std::unexpected(Error{fmt::format("matcher value not valid UTF-8: {}", raw_full)});
  std::string value;
  bool escaped = false;
  for (size_t k = 0; k < raw.size(); ++k) {
    char c = raw[k];
    if (escaped) {
      escaped = false;
      if (c == 'n') value += '\n';
      else if (c == '"' || c == '\\') value += c;
      else value += '\\', value += c;
      continue;
    }
    if (c == '\\') {
      if (k + 1 < raw.size()) escaped = true;
      else value += '\\';
    } else if (c == '"') {
      if (!expect_quote || k + 1 < raw.size())
        return std::unexpected(
            Error{fmt::format("matcher value contains unescaped double quote: {}", raw_full)});
      expect_quote = false;
    } else {
      value += c;
    }
  }
  if (expect_quote)
    return std::unexpected(
        Error{fmt::format("matcher value contains unescaped double quote: {}", raw_full)});
  return make_matcher(type, std::move(name), std::move(value));
}

Result<std::vector<Matcher>> parse_classic_matchers(std::string_view s) {
  if (s.starts_with('{')) s.remove_prefix(1);
  if (s.ends_with('}')) s.remove_suffix(1);
  std::vector<std::string> tokens;
  std::string token;
  bool in_quotes = false, escaped = false;
  for (char c : s) {
    if (c == ',' && !in_quotes) {
      tokens.push_back(std::move(token));
      token.clear();
      continue;
    }
    if (c == '"') {
      if (!escaped) in_quotes = !in_quotes;
      else escaped = false;
    } else if (c == '\\') {
      escaped = !escaped;
    } else {
      escaped = false;
    }
    token += c;
  }
  if (auto last = trim_space(token); !last.empty()) tokens.emplace_back(last);
  std::vector<Matcher> out;
  for (const auto& t : tokens) {
    auto m = parse_classic_matcher(t);
    if (!m) return std::unexpected(m.error());
    out.push_back(std::move(*m));
  }
  return out;
}

Result<std::vector<Matcher>> parse_utf8_matchers(std::string_view input) {
  return Utf8Parser(input).parse();
}

Result<std::vector<Matcher>> parse_matchers(std::string_view input, MatcherSyntax syntax, std::string* warning) {
  if (syntax == MatcherSyntax::kUtf8) return parse_utf8_matchers(input);
  auto classic = parse_classic_matchers(input);
  if (syntax == MatcherSyntax::kClassic) return classic;
  // Upstream's fallback prefers the classic reading whenever there is one
  // (where both parse but disagree, it also takes the classic one), and
  // says so: such input breaks once the UTF-8 parser is the only one.
  if (!classic) {
    auto utf8 = parse_utf8_matchers(input);
    return utf8 ? utf8 : classic;
  }
  if (warning != nullptr) {
    auto utf8 = parse_utf8_matchers(input);
    auto printed = [](const std::vector<Matcher>& ms) { return Matchers(ms).to_string(); };
    if (!utf8) {
      *warning = fmt::format(
          "matchers {} are read by the classic parser only; the UTF-8 parser refuses them ({}); "
          "written as {} they read the same in both",
          go_quote(input), utf8.error().message, printed(*classic));
    } else if (*utf8 != *classic) {
      *warning = fmt::format("matchers {} read as {} by the classic parser and as {} by the UTF-8 parser; "
                             "the classic reading is used",
                             go_quote(input), printed(*classic), printed(*utf8));
    }
  }
  return classic;
}

Result<Matcher> parse_matcher(std::string_view input, MatcherSyntax syntax) {
  if (syntax == MatcherSyntax::kClassic) return parse_classic_matcher(input);
  if (input.starts_with('{') || input.ends_with('}'))
    return std::unexpected(Error{fmt::format("unexpected open or close brace: {}", input)});
  auto one = [](Result<std::vector<Matcher>> ms) -> Result<Matcher> {
    if (!ms) return std::unexpected(ms.error());
    if (ms->size() == 1) return std::move(ms->front());
    if (ms->empty()) return std::unexpected(Error{"no matchers"});
    return std::unexpected(Error{fmt::format("expected 1 matcher, found {}", ms->size())});
  };
  if (syntax == MatcherSyntax::kUtf8) return one(parse_utf8_matchers(input));
  auto classic = parse_classic_matcher(input);
  if (classic) return classic;
  auto utf8 = one(parse_utf8_matchers(input));
  if (utf8) return utf8;
  return classic;
}

bool is_valid_label_name(std::string_view name, MatcherSyntax syntax) {
  if (syntax == MatcherSyntax::kClassic) return is_legacy_label_name(name);
  return !name.empty() && is_valid_utf8(name);
}

}  // namespace vigil::routing
