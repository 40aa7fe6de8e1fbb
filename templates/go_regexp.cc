#include "templates/go_regexp.h"

#include <algorithm>
#include <list>
#include <map>
#include <mutex>
#include <vector>

#include <re2/re2.h>

#include "model/names.h"

namespace vigil::templates {

namespace {

std::string_view go_error_code(RE2::ErrorCode code) {
  switch (code) {
    case RE2::ErrorBadEscape: return "invalid escape sequence";
    case RE2::ErrorBadCharClass: return "invalid character class";
    case RE2::ErrorBadCharRange: return "invalid character class range";
    case RE2::ErrorMissingBracket: return "missing closing ]";
    case RE2::ErrorMissingParen: return "missing closing )";
    case RE2::ErrorUnexpectedParen: return "unexpected )";
    case RE2::ErrorTrailingBackslash: return "trailing backslash at end of expression";
    case RE2::ErrorRepeatArgument: return "missing argument to repetition operator";
    case RE2::ErrorRepeatSize: return "invalid repeat count";
    case RE2::ErrorRepeatOp: return "invalid nested repetition operator";
    case RE2::ErrorBadPerlOp: return "invalid or unsupported Perl syntax";
    case RE2::ErrorBadUTF8: return "invalid UTF-8";
    case RE2::ErrorBadNamedCapture: return "invalid named capture";
    case RE2::ErrorPatternTooLarge: return "expression too large";
    default: return "regexp/syntax: internal error";
  }
}

// A small bounded cache: templates call match/reReplaceAll with the same
// few patterns over and over.
class Cache {
 public:
  std::shared_ptr<const RE2> get(const std::string& p) {
    std::lock_guard lock(mu_);
    auto it = map_.find(p);
    return it == map_.end() ? nullptr : it->second;
  }
  void put(const std::string& p, std::shared_ptr<const RE2> re) {
    std::lock_guard lock(mu_);
    if (map_.size() >= kMax) {
      map_.erase(order_.front());
      order_.pop_front();
    }
    if (map_.emplace(p, std::move(re)).second) order_.push_back(p);
  }

 private:
  static constexpr size_t kMax = 512;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const RE2>> map_;
  std::list<std::string> order_;
};

Cache& cache() {
  static Cache c;
  return c;
}

}  // namespace

Result<std::shared_ptr<const RE2>> go_regexp_compile(std::string_view pattern) {
  std::string key(pattern);
  if (auto re = cache().get(key)) return re;
  RE2::Options opts;
  opts.set_log_errors(false);
  auto re = std::make_shared<const RE2>(pattern, opts);
  if (!re->ok()) {
    return fail("error parsing regexp: " + std::string(go_error_code(re->error_code())) + ": `" +
                re->error_arg() + "`");
  }
  cache().put(key, re);
  return re;
}

Result<bool> go_regexp_match(std::string_view pattern, std::string_view s) {
  auto re = go_regexp_compile(pattern);
  if (!re) return std::unexpected(re.error());
  return RE2::PartialMatch(s, **re);
}

namespace {

// Letters, digits and '_' (any non-ASCII byte is taken as part of a letter).
bool is_word(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// Go's Regexp.expand for one match.
void expand(std::string& out, std::string_view tmpl, const std::vector<re2::StringPiece>& groups,
            const RE2& re) {
  while (!tmpl.empty()) {
    size_t i = tmpl.find('$');
    if (i == std::string_view::npos) break;
    out.append(tmpl.substr(0, i));
    tmpl.remove_prefix(i);
    if (tmpl.size() > 1 && tmpl[1] == '$') {
      out += '$';
      tmpl.remove_prefix(2);
      continue;
    }
    // extract: $name or ${name}
    std::string_view name;
    size_t consumed = 0;
    bool ok = false;
    if (tmpl.size() >= 2) {
      bool brace = tmpl[1] == '{';
      size_t start = brace ? 2 : 1;
      size_t k = start;
      while (k < tmpl.size() && is_word(tmpl[k])) ++k;
      if (k > start) {
        if (brace) {
          if (k < tmpl.size() && tmpl[k] == '}') {
            name = tmpl.substr(start, k - start);
            consumed = k + 1;
            ok = true;
          }
        } else {
          name = tmpl.substr(start, k - start);
          consumed = k;
          ok = true;
        }
      }
    }
    if (!ok) {
      // Malformed: the '$' is written literally.
      out += '$';
      tmpl.remove_prefix(1);
      continue;
    }
    tmpl.remove_prefix(consumed);
    int num = -1;
    if (name.size() <= 8 && name.find_first_not_of("0123456789") == std::string_view::npos &&
        (name[0] != '0' || name.size() == 1)) {
      num = 0;
      for (char c : name) num = num * 10 + (c - '0');
    }
    if (num >= 0) {
      if (num < static_cast<int>(groups.size()) && groups[num].data() != nullptr) {
        out.append(groups[num].data(), groups[num].size());
      }
    } else {
      const auto& names = re.NamedCapturingGroups();
      auto it = names.find(std::string(name));
      if (it != names.end() && it->second < static_cast<int>(groups.size()) &&
          groups[it->second].data() != nullptr) {
        out.append(groups[it->second].data(), groups[it->second].size());
      }
    }
  }
  out.append(tmpl);
}

}  // namespace

std::string go_regexp_replace_all(const RE2& re, std::string_view src, std::string_view repl) {
  int ngroups = re.NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> groups(ngroups);
  std::string out;
  size_t last = 0;    // end of the most recent match
  size_t search = 0;  // where the next match is looked for
  while (search <= src.size()) {
    if (!re.Match(src, search, src.size(), RE2::UNANCHORED, groups.data(), ngroups)) break;
    size_t a = groups[0].data() - src.data();
    size_t b = a + groups[0].size();
    out.append(src.substr(last, a - last));
    // No replacement for an empty match right after another match.
    if (b > last || a == 0) expand(out, repl, groups, re);
    last = b;
    uint32_t cp;
    size_t width = search < src.size() ? std::max(utf8_decode(src, search, &cp), 1) : 0;
    if (search + width > b) {
      search += width;
    } else if (search + 1 > b) {
      ++search;
    } else {
      search = b;
    }
  }
  out.append(src.substr(last));
  return out;
}

}  // namespace vigil::templates
