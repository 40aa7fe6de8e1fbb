#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vigil::templates {

// Unicode classes and simple case mappings as Go's unicode package has them
// (taken from the C library's UTF-8 locale, which follows the same tables).
bool is_letter(uint32_t cp);
bool is_digit(uint32_t cp);
bool is_space(uint32_t cp);  // unicode.IsSpace
uint32_t to_upper(uint32_t cp);
uint32_t to_lower(uint32_t cp);

// strings.ToUpper / strings.ToLower: rune by rune, invalid bytes become U+FFFD.
std::string upper(std::string_view s);
std::string lower(std::string_view s);

// strings.TrimSpace.
std::string_view trim_space(std::string_view s);

// golang.org/x/text/cases Title for American English: the first cased letter
// of every word is title-cased; with `lower_rest` (Alertmanager's title) the
// other letters are lowered, without it (Prometheus' title, cases.NoLower)
// they stay. Words break as Unicode word segmentation breaks them: letters,
// digits and '_' join; '.', '\'' and ':' join letters on both sides, '.' and
// ',' join digits.
std::string title(std::string_view s, bool lower_rest);

}  // namespace vigil::templates
