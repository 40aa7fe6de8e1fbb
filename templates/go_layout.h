#pragma once

// Go's time layouts ("2006-01-02 15:04:05"), split into their elements as
// Go's nextStdChunk splits them: shared by formatting (go_time.cc) and
// parsing (go_time_parse.cc). Internal to templates/.

#include <string_view>

namespace vigil::templates::go_layout {

// One layout element: Jan, January, 01, 1, Mon, 2, _2, 02, __2, 002, 15,
// 3, 03, 4, 04, 5, 05, 2006, 06, PM, pm, MST, the numeric and ISO 8601 zone
// forms, and fractional seconds (.000 or .999, also with a comma).
enum Std {
  kNone, kLongMonth, kMonth, kNumMonth, kZeroMonth, kLongWeekDay, kWeekDay, kDay, kUnderDay,
  kZeroDay, kUnderYearDay, kZeroYearDay, kHour, kHour12, kZeroHour12, kMinute, kZeroMinute,
  kSecond, kZeroSecond, kLongYear, kYear, kPM, kpm, kTZ, kISO8601TZ, kISO8601SecondsTZ,
  kISO8601ShortTZ, kISO8601ColonTZ, kISO8601ColonSecondsTZ, kNumTZ, kNumSecondsTz, kNumShortTZ,
  kNumColonTZ, kNumColonSecondsTZ, kFracSecond0, kFracSecond9,
};

struct Chunk {
  std::string_view prefix;  // literal text before the element
  Std std = kNone;          // kNone: no element left, prefix is the rest
  int frac_digits = 0;      // for fractional seconds
  char frac_sep = '.';
  std::string_view suffix;  // the layout after the element
};

// Go's nextStdChunk: the text before the next layout element, the element,
// and the rest.
Chunk next_chunk(std::string_view layout);

}  // namespace vigil::templates::go_layout
