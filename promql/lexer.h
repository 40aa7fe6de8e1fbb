#pragma once

// Internal to promql/: turns PromQL text into tokens, one at a time.
//
// Lexing is modal, as upstream's: inside {...} everything alphabetic is a
// label name, inside [...] only durations, numbers, ':' and the duration
// keywords are accepted. Keywords are case-insensitive.

#include <string>
#include <string_view>

namespace vigil::promql {

enum class Tok {
  kEOF, kError,
  kIdentifier, kMetricIdentifier, kNumber, kDuration, kString,
  kLeftParen, kRightParen, kLeftBrace, kRightBrace, kLeftBracket, kRightBracket,
  kComma, kEql, kColon,
  // Operators.
  kAdd, kSub, kMul, kDiv, kMod, kPow, kEqlc, kNeq, kLss, kLte, kGtr, kGte,
  kTrimUpper, kTrimLower, kEqlRegex, kNeqRegex, kAt, kAtan2, kLand, kLor, kLunless,
  // Aggregators.
  kAvg, kBottomk, kCount, kCountValues, kGroup, kMax, kMin, kQuantile, kStddev,
  kStdvar, kSum, kTopk, kLimitk, kLimitRatio,
  // Keywords.
  kBool, kBy, kGroupLeft, kGroupRight, kFill, kFillLeft, kFillRight, kIgnoring,
  kOffset, kSmoothed, kAnchored, kOn, kWithout,
  // Names that are functions or @ / duration keywords.
  kStart, kEnd, kStep, kRange, kMaxOf, kMinOf,
};

bool is_operator(Tok t);
bool is_aggregator(Tok t);
bool is_keyword(Tok t);

struct Token {
  Tok kind = Tok::kEOF;
  int pos = 0;           // byte offset of the token's first character
  std::string_view text; // the token's source text
  std::string error;     // for kError: upstream's message
  int end() const { return pos + static_cast<int>(text.size()); }
};

// How upstream names a token in "unexpected ..." messages: `identifier "foo"`,
// `<op:+>`, `<aggr:sum>`, `<by>`, `"("`, `end of input`.
std::string describe(const Token& t);

class Lexer {
 public:
  explicit Lexer(std::string_view input) : in_(input) {}
  // Comments are skipped. After kEOF or kError, keeps returning kEOF.
  Token next();

 private:
  Token statements();
  Token inside_braces();
  Token duration_state();
  Token number_or_duration();
  Token string_token(char quote);
  Token raw_string();
  Token keyword_or_identifier();
  Token paren(char c);
  Token emit(Tok k);
  Token error(std::string msg);
  bool scan_number();
  bool accept_remaining_duration();
  bool scan_duration_keyword(Tok* out);
  bool followed_by_left_paren() const;
  int peek() const;  // -1 at end
  bool accept(std::string_view chars);

  std::string_view in_;
  size_t pos_ = 0, start_ = 0;
  bool done_ = false;
  int paren_depth_ = 0;
  bool brace_open_ = false;
  bool bracket_open_ = false;
  bool in_duration_state_ = false;  // just after '[' until a number is read
  bool got_colon_ = false;
  bool got_duration_ = false;
};

}  // namespace vigil::promql
