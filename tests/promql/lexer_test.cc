// The lexer's modes and upstream's token descriptions.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "promql/lexer.h"

using namespace vigil::promql;

namespace {

std::vector<Tok> kinds(std::string_view in) {
  Lexer lex(in);
  std::vector<Tok> out;
  for (;;) {
    Token t = lex.next();
    out.push_back(t.kind);
    if (t.kind == Tok::kEOF || t.kind == Tok::kError) return out;
  }
}

Token last(std::string_view in) {
  Lexer lex(in);
  for (;;) {
    Token t = lex.next();
    if (t.kind == Tok::kEOF || t.kind == Tok::kError) return t;
  }
}

}  // namespace

TEST_CASE("keywords are case-insensitive, and fill is a name unless called") {
  CHECK(kinds("SUM BY Offset") == std::vector<Tok>{Tok::kSum, Tok::kBy, Tok::kOffset, Tok::kEOF});
  CHECK(kinds("fill + fill (0)") ==
        std::vector<Tok>{Tok::kIdentifier, Tok::kAdd, Tok::kFill, Tok::kLeftParen, Tok::kNumber,
                         Tok::kRightParen, Tok::kEOF});
  CHECK(kinds("inf NaN") == std::vector<Tok>{Tok::kNumber, Tok::kNumber, Tok::kEOF});
  CHECK(kinds("a:b c") == std::vector<Tok>{Tok::kMetricIdentifier, Tok::kIdentifier, Tok::kEOF});
}

TEST_CASE("inside braces every word is a label name") {
  CHECK(kinds("{sum=\"a\",by!~'b',offset=~`c`}") ==
        std::vector<Tok>{Tok::kLeftBrace, Tok::kIdentifier, Tok::kEql, Tok::kString, Tok::kComma,
                         Tok::kIdentifier, Tok::kNeqRegex, Tok::kString, Tok::kComma, Tok::kIdentifier,
                         Tok::kEqlRegex, Tok::kString, Tok::kRightBrace, Tok::kEOF});
  CHECK(last("{a=\"b\"").error == "unexpected end of input inside braces");
  CHECK(last("{a{").error == "unexpected left brace '{'");
  CHECK(last("{a!b}").error == "unexpected character after '!' inside braces: 'b'");
}

TEST_CASE("inside brackets only durations, numbers and duration keywords") {
  CHECK(kinds("[5m:1m]") == std::vector<Tok>{Tok::kLeftBracket, Tok::kDuration, Tok::kColon, Tok::kDuration,
                                             Tok::kRightBracket, Tok::kEOF});
  CHECK(kinds("[-step()*2]") ==
        std::vector<Tok>{Tok::kLeftBracket, Tok::kSub, Tok::kStep, Tok::kLeftParen, Tok::kRightParen,
                         Tok::kMul, Tok::kNumber, Tok::kRightBracket, Tok::kEOF});
  CHECK(kinds("[max_of(1m,RANGE())]")[1] == Tok::kMaxOf);
  CHECK(last("[:5m]").error == "unexpected colon before duration in duration expression");
  CHECK(last("[5m x]").error == "unexpected character: 'x', expected ':'");
  CHECK(last("[[").error == "unexpected character in duration expression: '['");
  CHECK(last("[5m[").error == "unexpected left bracket '['");
  CHECK(last("]").error == "unexpected right bracket ']'");
  CHECK(last("[5m").error == "unclosed left bracket");
  CHECK(last("[ # no comments here\n5m]").error == "unexpected character in duration expression: '#'");
  CHECK(last("[5m # but here\n]").kind == Tok::kEOF);
}

TEST_CASE("numbers and durations") {
  CHECK(kinds("1 1.5 .5 1e3 0x1f 1_000 5m 1h30m 100ms 1y2w3d") ==
        std::vector<Tok>{Tok::kNumber, Tok::kNumber, Tok::kNumber, Tok::kNumber, Tok::kNumber, Tok::kNumber,
                         Tok::kDuration, Tok::kDuration, Tok::kDuration, Tok::kDuration, Tok::kEOF});
  CHECK(last("5mm").error == "bad number or duration syntax: \"5mm\"");
  CHECK(last("1..").error == "bad number or duration syntax: \"1..\"");
  CHECK(last("1e+").error == "bad number or duration syntax: \"1e+\"");
}

TEST_CASE("operators") {
  CHECK(kinds("+ - * / % ^ == != < <= > >= </ >/ @ and or unless atan2") ==
        std::vector<Tok>{Tok::kAdd, Tok::kSub, Tok::kMul, Tok::kDiv, Tok::kMod, Tok::kPow, Tok::kEqlc, Tok::kNeq,
                         Tok::kLss, Tok::kLte, Tok::kGtr, Tok::kGte, Tok::kTrimUpper, Tok::kTrimLower, Tok::kAt,
                         Tok::kLand, Tok::kLor, Tok::kLunless, Tok::kAtan2, Tok::kEOF});
  CHECK(last("a =~ b").error == "unexpected character after '=': '~'");
  CHECK(last("a ! b").error == "unexpected character after '!': ' '");
  CHECK(last("a ; b").error == "unexpected character: ';'");
  CHECK(last("a !").error == "unexpected character after '!': '\xef\xbf\xbd'");  // Go's %q of EOF
  CHECK(last("a ) b").error == "unexpected right parenthesis ')'");
  CHECK(last("(a").error == "unclosed left parenthesis");
  CHECK(last("a ä").error == "unexpected character: 'ä'");
}

TEST_CASE("token descriptions follow upstream") {
  auto first = [](std::string_view in) { return describe(Lexer(in).next()); };
  CHECK(first("foo") == "identifier \"foo\"");
  CHECK(first("a:b") == "metric identifier \"a:b\"");
  CHECK(first("1.5") == "number \"1.5\"");
  CHECK(first("5m") == "duration \"5m\"");
  CHECK(first("\"str\"") == "string \"\\\"str\\\"\"");
  CHECK(first("\"a long string literal\"") == "string \"\\\"a long st\"...");
  CHECK(first("sum") == "<aggr:sum>");
  CHECK(first("by") == "<by>");
  CHECK(first("and") == "<op:and>");
  CHECK(first("*") == "<op:*>");
  CHECK(first("(") == "\"(\"");
  CHECK(first("start") == "\"start\"");
  CHECK(first("") == "end of input");
}
