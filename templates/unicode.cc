#include "templates/unicode.h"

#include <clocale>
#include <cwctype>
#include <vector>

#include <locale.h>
#include <wctype.h>

#include "model/names.h"

namespace vigil::templates {

namespace {

locale_t utf8_locale() {
  static locale_t loc = [] {
    locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", nullptr);
    if (!l) l = newlocale(LC_CTYPE_MASK, "C.utf8", nullptr);
    return l;
  }();
  return loc;
}

template <typename F>
std::string map_runes(std::string_view s, F f) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    int n = utf8_decode(s, i, &cp);
    if (n == 0) {
      append_utf8(out, 0xFFFD);
      ++i;
      continue;
    }
    append_utf8(out, f(cp));
    i += n;
  }
  return out;
}

}  // namespace

bool is_letter(uint32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  locale_t loc = utf8_locale();
  return loc && iswalpha_l(static_cast<wint_t>(cp), loc) && !is_digit(cp);
}

bool is_digit(uint32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  // Decimal digits of other scripts come in aligned runs of ten.
  static constexpr uint32_t kZeros[] = {0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66,
                                        0xBE6, 0xC66, 0xCE6, 0xD66, 0xDE6, 0xE50, 0xED0, 0xF20,
                                        0x1040, 0x1090, 0x17E0, 0x1810, 0xFF10};
  for (uint32_t z : kZeros) {
    if (cp >= z && cp < z + 10) return true;
  }
  return false;
}

bool is_space(uint32_t cp) {
  switch (cp) {
    case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F:
    case 0x205F: case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

uint32_t to_upper(uint32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') ? cp - 32 : cp;
  locale_t loc = utf8_locale();
  return loc ? static_cast<uint32_t>(towupper_l(static_cast<wint_t>(cp), loc)) : cp;
}

uint32_t to_lower(uint32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  locale_t loc = utf8_locale();
  return loc ? static_cast<uint32_t>(towlower_l(static_cast<wint_t>(cp), loc)) : cp;
}

std::string upper(std::string_view s) { return map_runes(s, to_upper); }
std::string lower(std::string_view s) { return map_runes(s, to_lower); }

std::string_view trim_space(std::string_view s) {
  auto space_at = [&](size_t i, int* n) {
    uint32_t cp;
    *n = utf8_decode(s, i, &cp);
    return *n > 0 && is_space(cp);
  };
  size_t start = 0;
  int n;
  while (start < s.size() && space_at(start, &n)) start += n;
  size_t end = s.size();
  while (end > start) {
    // Step back one rune.
    size_t k = end - 1;
    while (k > start && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
    if (!space_at(k, &n) || k + n != end) break;
    end = k;
  }
  return s.substr(start, end - start);
}

namespace {

enum class WordClass { kOther, kLetter, kDigit, kJoiner, kMidLetter, kMidNumLet, kMidNum };

WordClass word_class(uint32_t cp) {
  if (cp == '_' || cp == 0x203F || cp == 0x2040) return WordClass::kJoiner;
  if (cp == '.' || cp == '\'' || cp == 0x2018 || cp == 0x2019 || cp == 0x2024) {
    return WordClass::kMidNumLet;
  }
  if (cp == ':' || cp == 0xB7 || cp == 0x387 || cp == 0x2027) return WordClass::kMidLetter;
  if (cp == ',' || cp == ';' || cp == 0x37E) return WordClass::kMidNum;
  if (is_digit(cp)) return WordClass::kDigit;
  if (is_letter(cp)) return WordClass::kLetter;
  // Combining marks extend the word they follow.
  if ((cp >= 0x300 && cp <= 0x36F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
      (cp >= 0x20D0 && cp <= 0x20FF)) {
    return WordClass::kJoiner;
  }
  return WordClass::kOther;
}

// Title case of one rune, with the few digraphs whose title form differs from
// the upper one, and ß whose title form is two letters.
void append_title(std::string& out, uint32_t cp) {
  switch (cp) {
    case 0x1C4: case 0x1C5: case 0x1C6: append_utf8(out, 0x1C5); return;
    case 0x1C7: case 0x1C8: case 0x1C9: append_utf8(out, 0x1C8); return;
    case 0x1CA: case 0x1CB: case 0x1CC: append_utf8(out, 0x1CB); return;
    case 0x1F1: case 0x1F2: case 0x1F3: append_utf8(out, 0x1F2); return;
    case 0xDF: out += "Ss"; return;
    default: append_utf8(out, to_upper(cp));
  }
}

bool is_cased(uint32_t cp) { return to_upper(cp) != cp || to_lower(cp) != cp; }

}  // namespace

std::string title(std::string_view s, bool lower_rest) {
  std::vector<uint32_t> cps;
  cps.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    int n = utf8_decode(s, i, &cp);
    if (n == 0) {
      cp = 0xFFFD;
      n = 1;
    }
    cps.push_back(cp);
    i += n;
  }
  std::string out;
  out.reserve(s.size());
  bool in_word = false;
  bool seen_cased = false;  // the word already had its first cased letter
  WordClass prev = WordClass::kOther;
  for (size_t i = 0; i < cps.size(); ++i) {
    WordClass c = word_class(cps[i]);
    WordClass next = i + 1 < cps.size() ? word_class(cps[i + 1]) : WordClass::kOther;
    bool joins = false;
    switch (c) {
      case WordClass::kLetter:
      case WordClass::kDigit:
      case WordClass::kJoiner:
        joins = in_word;
        break;
      case WordClass::kMidLetter:
        joins = in_word && prev == WordClass::kLetter && next == WordClass::kLetter;
        break;
      case WordClass::kMidNumLet:
        joins = in_word && ((prev == WordClass::kLetter && next == WordClass::kLetter) ||
                            (prev == WordClass::kDigit && next == WordClass::kDigit));
        break;
      case WordClass::kMidNum:
        joins = in_word && prev == WordClass::kDigit && next == WordClass::kDigit;
        break;
      case WordClass::kOther:
        break;
    }
    if (!joins) seen_cased = false;
    in_word = c == WordClass::kLetter || c == WordClass::kDigit || c == WordClass::kJoiner ||
              (joins && c != WordClass::kOther);
    if (c == WordClass::kLetter && !seen_cased && is_cased(cps[i])) {
      append_title(out, cps[i]);
      seen_cased = true;
    } else if (lower_rest && seen_cased) {
      append_utf8(out, to_lower(cps[i]));
    } else {
      append_utf8(out, cps[i]);
    }
    // A joiner char keeps the previous class for the next decision.
    if (c != WordClass::kJoiner) prev = c;
  }
  return out;
}

}  // namespace vigil::templates
