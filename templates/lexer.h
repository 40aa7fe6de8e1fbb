#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vigil::templates {

// The tokens of Go's text/template, including the trimming rules: "{{- "
// trims the white space before an action, " -}}" the white space after it.
// Comments ({{/* */}}) are dropped here.
enum class Tok : uint8_t {
  kError,  // text holds the message
  kBool,
  kChar,   // a printable ASCII character inside an action: ',' and friends
  kCharConstant,
  kComplex,
  kAssign,   // =
  kDeclare,  // :=
  kEOF,
  kField,      // .Name
  kIdentifier,
  kLeftDelim,
  kLeftParen,
  kNumber,
  kPipe,
  kRawString,
  kRightDelim,
  kRightParen,
  kSpace,
  kString,
  kText,
  kVariable,  // $ or $name
  // Keywords.
  kBlock,
  kBreak,
  kContinue,
  kDot,
  kDefine,
  kElse,
  kEnd,
  kIf,
  kNil,
  kRange,
  kTemplate,
  kWith,
};

struct Token {
  Tok type = Tok::kEOF;
  size_t pos = 0;   // byte offset in the input
  int line = 1;     // line of the token's start
  std::string_view text;
  std::string_view error;  // for kError; lives as long as the lexer
};

// How Go quotes a token in "unexpected X in Y" messages.
std::string describe(const Token& t);

class Lexer {
 public:
  // `break_ok`/`continue_ok`: whether those words are keywords (they are not
  // when a function of that name exists).
  Lexer(std::string_view input, bool break_ok = true, bool continue_ok = true)
      : input_(input), break_ok_(break_ok), continue_ok_(continue_ok) {}

  Token next();

 private:
  std::string_view input_;
  size_t pos_ = 0;
  size_t last_width_ = 0;
  size_t start_ = 0;
  int line_ = 1;
  int start_line_ = 1;
  bool inside_action_ = false;
  int paren_depth_ = 0;
  bool break_ok_;
  bool continue_ok_;
  bool done_ = false;
  std::string error_;  // the message of the error token (there is at most one)

  Token emit(Tok t);
  Token error(std::string msg);
  void ignore();
  uint32_t next_rune();
  uint32_t peek_rune();
  void backup(uint32_t r);
  bool accept(std::string_view valid);
  void accept_run(std::string_view valid);
  bool at_right_delim(bool* trim);
  bool at_terminator();
  bool scan_number();

  bool lex_text(Token* out);
  Token lex_left_delim(bool* skip);
  Token lex_inside_action();
  Token lex_space();
  Token lex_right_delim();
  Token lex_identifier();
  Token lex_field_or_variable(Tok t);
  Token lex_quoted(char quote, Tok t, const char* unterminated);
  Token lex_raw_quote();
  Token lex_number();
};

}  // namespace vigil::templates
