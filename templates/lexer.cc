#include "templates/lexer.h"

#include <fmt/format.h>

#include "model/names.h"
#include "templates/unicode.h"

namespace vigil::templates {

namespace {

constexpr std::string_view kLeftDelim = "{{";
constexpr std::string_view kRightDelim = "}}";
constexpr std::string_view kLeftComment = "/*";
constexpr std::string_view kRightComment = "*/";
constexpr uint32_t kEof = 0xFFFFFFFF;

bool is_space_char(uint32_t r) { return r == ' ' || r == '\t' || r == '\r' || r == '\n'; }

bool is_alnum(uint32_t r) { return r == '_' || is_letter(r) || is_digit(r); }

bool has_left_trim(std::string_view s) { return s.size() >= 2 && s[0] == '-' && is_space_char(s[1]); }
bool has_right_trim(std::string_view s) { return s.size() >= 2 && is_space_char(s[0]) && s[1] == '-'; }

size_t right_trim_length(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && is_space_char(s[s.size() - 1 - n])) ++n;
  return n;
}

size_t left_trim_length(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && is_space_char(s[n])) ++n;
  return n;
}

int count_newlines(std::string_view s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// Go's %#U: U+0041 'A'.
std::string unicode_desc(uint32_t r) {
  std::string s = fmt::format("U+{:04X}", r);
  if (r >= 0x20 && r != 0x7F && !(r >= 0x80 && r < 0xA0)) {
    s += " '";
    append_utf8(s, r);
    s += "'";
  }
  return s;
}

Tok keyword(std::string_view w) {
  if (w == "block") return Tok::kBlock;
  if (w == "break") return Tok::kBreak;
  if (w == "continue") return Tok::kContinue;
  if (w == "define") return Tok::kDefine;
  if (w == "else") return Tok::kElse;
  if (w == "end") return Tok::kEnd;
  if (w == "if") return Tok::kIf;
  if (w == "range") return Tok::kRange;
  if (w == "nil") return Tok::kNil;
  if (w == "template") return Tok::kTemplate;
  if (w == "with") return Tok::kWith;
  return Tok::kError;
}

}  // namespace

std::string describe(const Token& t) {
  switch (t.type) {
    case Tok::kEOF: return "EOF";
    case Tok::kError: return std::string(t.error);
    default: break;
  }
  if (t.type >= Tok::kBlock) return fmt::format("<{}>", t.text);
  if (t.text.size() > 10) {
    // %.10q: the first ten runes, quoted, then an ellipsis.
    size_t i = 0;
    for (int n = 0; n < 10 && i < t.text.size(); ++n) {
      uint32_t cp;
      int len = utf8_decode(t.text, i, &cp);
      i += len > 0 ? len : 1;
    }
    return go_quote(t.text.substr(0, i)) + "...";
  }
  return go_quote(t.text);
}

uint32_t Lexer::next_rune() {
  if (pos_ >= input_.size()) return kEof;
  uint32_t cp;
  int n = utf8_decode(input_, pos_, &cp);
  if (n == 0) {
    cp = 0xFFFD;
    n = 1;
  }
  pos_ += n;
  last_width_ = n;
  if (cp == '\n') ++line_;
  return cp;
}

uint32_t Lexer::peek_rune() {
  size_t p = pos_;
  int l = line_;
  size_t w = last_width_;
  uint32_t r = next_rune();
  pos_ = p;
  line_ = l;
  last_width_ = w;
  return r;
}

void Lexer::backup(uint32_t r) {
  if (r == kEof) return;
  pos_ -= last_width_;
  if (r == '\n') --line_;
}

bool Lexer::accept(std::string_view valid) {
  uint32_t r = next_rune();
  if (r < 0x80 && valid.find(static_cast<char>(r)) != std::string_view::npos) return true;
  backup(r);
  return false;
}

void Lexer::accept_run(std::string_view valid) {
  while (accept(valid)) {
  }
}

Token Lexer::emit(Tok t) {
  Token tok;
  tok.type = t;
  tok.pos = start_;
  tok.line = start_line_;
  tok.text = input_.substr(start_, pos_ - start_);
  start_ = pos_;
  start_line_ = line_;
  return tok;
}

void Lexer::ignore() {
  line_ += count_newlines(input_.substr(start_, pos_ - start_));
  start_ = pos_;
  start_line_ = line_;
}

Token Lexer::error(std::string msg) {
  Token tok;
  tok.type = Tok::kError;
  tok.pos = start_;
  tok.line = start_line_;
  error_ = std::move(msg);
  tok.error = error_;
  done_ = true;
  return tok;
}

bool Lexer::at_right_delim(bool* trim) {
  std::string_view rest = input_.substr(pos_);
  if (has_right_trim(rest) && rest.substr(2).starts_with(kRightDelim)) {
    *trim = true;
    return true;
  }
  *trim = false;
  return rest.starts_with(kRightDelim);
}

bool Lexer::at_terminator() {
  uint32_t r = peek_rune();
  if (is_space_char(r)) return true;
  switch (r) {
    case kEof: case '.': case ',': case '|': case ':': case ')': case '(':
      return true;
    default:
      return input_.substr(pos_).starts_with(kRightDelim);
  }
}

Token Lexer::next() {
  if (done_) {
    Token t;
    t.type = Tok::kEOF;
    t.pos = pos_;
    t.line = start_line_;
    return t;
  }
  if (inside_action_) return lex_inside_action();
  for (;;) {
    Token t;
    if (lex_text(&t)) return t;
    bool skip = false;
    Token d = lex_left_delim(&skip);
    if (!skip) return d;
  }
}

// Emits the text before the next action (trimmed if that action asks), or
// EOF. Returns false when positioned at a left delimiter with nothing to emit.
bool Lexer::lex_text(Token* out) {
  size_t x = input_.find(kLeftDelim, pos_);
  if (x == std::string_view::npos) {
    pos_ = input_.size();
    if (pos_ > start_) {
      line_ += count_newlines(input_.substr(start_, pos_ - start_));
      *out = emit(Tok::kText);
      return true;
    }
    *out = emit(Tok::kEOF);
    done_ = true;
    return true;
  }
  if (x > pos_) {
    pos_ = x;
    size_t trim = 0;
    if (has_left_trim(input_.substr(x + kLeftDelim.size()))) {
      trim = right_trim_length(input_.substr(start_, pos_ - start_));
    }
    pos_ -= trim;
    line_ += count_newlines(input_.substr(start_, pos_ - start_));
    Token t = emit(Tok::kText);
    pos_ += trim;
    ignore();
    if (!t.text.empty()) {
      *out = t;
      return true;
    }
  }
  return false;
}

Token Lexer::lex_left_delim(bool* skip) {
  pos_ += kLeftDelim.size();
  bool trim = has_left_trim(input_.substr(pos_));
  size_t after = trim ? 2 : 0;
  if (input_.substr(pos_ + after).starts_with(kLeftComment)) {
    pos_ += after;
    ignore();
    // A comment: skip it, and the white space after it when trimmed.
    pos_ += kLeftComment.size();
    size_t x = input_.find(kRightComment, pos_);
    if (x == std::string_view::npos) return error("unclosed comment");
    pos_ = x + kRightComment.size();
    bool rtrim;
    if (!at_right_delim(&rtrim)) return error("comment ends before closing delimiter");
    if (rtrim) pos_ += 2;
    pos_ += kRightDelim.size();
    if (rtrim) pos_ += left_trim_length(input_.substr(pos_));
    ignore();
    *skip = true;
    return Token{};
  }
  Token t = emit(Tok::kLeftDelim);
  inside_action_ = true;
  pos_ += after;
  ignore();
  paren_depth_ = 0;
  return t;
}

Token Lexer::lex_right_delim() {
  bool trim;
  at_right_delim(&trim);
  if (trim) {
    pos_ += 2;
    ignore();
  }
  pos_ += kRightDelim.size();
  Token t = emit(Tok::kRightDelim);
  if (trim) {
    pos_ += left_trim_length(input_.substr(pos_));
    ignore();
  }
  inside_action_ = false;
  return t;
}

Token Lexer::lex_inside_action() {
  bool trim;
  if (at_right_delim(&trim)) {
    if (paren_depth_ == 0) return lex_right_delim();
    return error("unclosed left paren");
  }
  uint32_t r = next_rune();
  switch (r) {
    case kEof: return error("unclosed action");
    case '=': return emit(Tok::kAssign);
    case ':':
      if (next_rune() != '=') return error("expected :=");
      return emit(Tok::kDeclare);
    case '|': return emit(Tok::kPipe);
    case '"': return lex_quoted('"', Tok::kString, "unterminated quoted string");
    case '`': return lex_raw_quote();
    case '$':
      if (at_terminator()) return emit(Tok::kVariable);
      return lex_field_or_variable(Tok::kVariable);
    case '\'': return lex_quoted('\'', Tok::kCharConstant, "unterminated character constant");
    case '(':
      ++paren_depth_;
      return emit(Tok::kLeftParen);
    case ')':
      --paren_depth_;
      // An unmatched parenthesis is the lexer's error, as in the Go release
      // Alertmanager 0.33 is built with.
      if (paren_depth_ < 0) return error("unexpected right paren");
      return emit(Tok::kRightParen);
    default: break;
  }
  if (is_space_char(r)) {
    backup(r);
    return lex_space();
  }
  if (r == '.') {
    if (pos_ < input_.size() && (input_[pos_] < '0' || input_[pos_] > '9')) {
      return lex_field_or_variable(Tok::kField);
    }
  }
  if (r == '.' || r == '+' || r == '-' || (r >= '0' && r <= '9')) {
    backup(r);
    return lex_number();
  }
  if (is_alnum(r)) {
    backup(r);
    return lex_identifier();
  }
  if (r < 0x80 && r >= 0x20 && r != 0x7F) return emit(Tok::kChar);
  return error("unrecognized character in action: " + unicode_desc(r));
}

Token Lexer::lex_space() {
  int num = 0;
  while (is_space_char(peek_rune())) {
    next_rune();
    ++num;
  }
  // A space may start a trimmed right delimiter " -}}".
  std::string_view rest = input_.substr(pos_ - 1);
  if (has_right_trim(rest) && rest.substr(2).starts_with(kRightDelim)) {
    backup(static_cast<unsigned char>(input_[pos_ - 1]));
    if (num == 1) return lex_right_delim();
  }
  return emit(Tok::kSpace);
}

Token Lexer::lex_identifier() {
  for (;;) {
    uint32_t r = next_rune();
    if (is_alnum(r)) continue;
    backup(r);
    std::string_view word = input_.substr(start_, pos_ - start_);
    if (!at_terminator()) return error("bad character " + unicode_desc(r == kEof ? 0xFFFD : r));
    Tok k = keyword(word);
    if (k != Tok::kError) {
      if ((k == Tok::kBreak && !break_ok_) || (k == Tok::kContinue && !continue_ok_)) {
        return emit(Tok::kIdentifier);
      }
      return emit(k);
    }
    if (word == "true" || word == "false") return emit(Tok::kBool);
    return emit(Tok::kIdentifier);
  }
}

Token Lexer::lex_field_or_variable(Tok t) {
  if (at_terminator()) return emit(t == Tok::kVariable ? Tok::kVariable : Tok::kDot);
  uint32_t r;
  for (;;) {
    r = next_rune();
    if (!is_alnum(r)) {
      backup(r);
      break;
    }
  }
  if (!at_terminator()) return error("bad character " + unicode_desc(r == kEof ? 0xFFFD : r));
  return emit(t);
}

Token Lexer::lex_quoted(char quote, Tok t, const char* unterminated) {
  for (;;) {
    uint32_t r = next_rune();
    if (r == '\\') {
      r = next_rune();
      if (r != kEof && r != '\n') continue;
      return error(unterminated);
    }
    if (r == kEof || r == '\n') return error(unterminated);
    if (r == static_cast<uint32_t>(quote)) break;
  }
  return emit(t);
}

Token Lexer::lex_raw_quote() {
  for (;;) {
    uint32_t r = next_rune();
    if (r == kEof) return error("unterminated raw quoted string");
    if (r == '`') break;
  }
  return emit(Tok::kRawString);
}

bool Lexer::scan_number() {
  accept("+-");
  std::string_view digits = "0123456789_";
  if (accept("0")) {
    if (accept("xX")) {
      digits = "0123456789abcdefABCDEF_";
    } else if (accept("oO")) {
      digits = "01234567_";
    } else if (accept("bB")) {
      digits = "01_";
    }
  }
  accept_run(digits);
  if (accept(".")) accept_run(digits);
  if (digits.size() == 11 && accept("eE")) {
    accept("+-");
    accept_run("0123456789_");
  }
  if (digits.size() == 23 && accept("pP")) {
    accept("+-");
    accept_run("0123456789_");
  }
  accept("i");
  if (is_alnum(peek_rune())) {
    next_rune();
    return false;
  }
  return true;
}

Token Lexer::lex_number() {
  if (!scan_number()) {
    return error("bad number syntax: " + go_quote(input_.substr(start_, pos_ - start_)));
  }
  uint32_t sign = peek_rune();
  if (sign == '+' || sign == '-') {
    if (!scan_number() || input_[pos_ - 1] != 'i') {
      return error("bad number syntax: " + go_quote(input_.substr(start_, pos_ - start_)));
    }
    return emit(Tok::kComplex);
  }
  return emit(Tok::kNumber);
}

}  // namespace vigil::templates
