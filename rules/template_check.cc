#include "rules/template_check.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

namespace vigil::rules {
namespace {

bool ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || static_cast<unsigned char>(c) >= 0x80;
}

struct Checker {
  std::string_view text;
  std::string_view name;
  // Variables in scope; `scopes` holds the size of `vars` when each open
  // if/range/with/define/block began.
  std::vector<std::string_view> vars{"$", "$labels", "$externalLabels", "$externalURL", "$value"};
  std::vector<size_t> scopes;

  int line_at(size_t pos) const {
    return 1 + static_cast<int>(std::count(text.begin(), text.begin() + pos, '\n'));
  }
  std::string error(size_t pos, std::string_view msg) const {
    return fmt::format("template: {}:{}: {}", name, line_at(pos), msg);
  }
  bool defined(std::string_view v) const {
    return std::find(vars.begin(), vars.end(), v) != vars.end();
  }

  struct Var {
    std::string_view name;
    size_t pos;
  };
  struct Action {
    std::string_view keyword;  // the leading identifier: if, range, end, ...
    std::vector<Var> vars;
    size_t declare_end = 0;  // vars before this offset are declared by ":="
    bool empty = true;
  };

  // Lexes the action starting after "{{" at `pos`; sets `end` past "}}".
  std::optional<std::string> lex_action(size_t pos, size_t* end, Action* a) const {
    size_t start = pos - 2;
    size_t i = pos;
    if (i < text.size() && text[i] == '-' && i + 1 < text.size() && text[i + 1] == ' ') i += 2;
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' ||
                               text[i] == '\r'))
      ++i;
    if (text.substr(i).starts_with("/*")) {
      size_t close = text.find("*/", i + 2);
      if (close == std::string_view::npos) return error(start, "unclosed comment");
      size_t delim = text.find("}}", close + 2);
      if (delim == std::string_view::npos) return error(start, "unclosed action");
      *end = delim + 2;
      a->keyword = "/*";
      return std::nullopt;
    }
    size_t kw = i;
    while (i < text.size() && ident_char(text[i])) ++i;
    a->keyword = text.substr(kw, i - kw);
    for (; i < text.size(); ++i) {
      char c = text[i];
      if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
        *end = i + 2;
        return std::nullopt;
      }
      if (c == '"' || c == '\'' || c == '`') {
        size_t j = i + 1;
        for (; j < text.size() && text[j] != c; ++j) {
          if (c != '`' && text[j] == '\\') ++j;
          else if (c != '`' && text[j] == '\n') break;
        }
        if (j >= text.size() || text[j] != c) {
          return error(i, c == '"'    ? "unterminated quoted string"
                          : c == '`' ? "unterminated raw quoted string"
                                     : "unterminated character constant");
        }
        a->empty = false;
        i = j;
        continue;
      }
      if (c == '$') {
        size_t j = i + 1;
        while (j < text.size() && ident_char(text[j])) ++j;
        a->vars.push_back({text.substr(i, j - i), i});
        a->empty = false;
        i = j - 1;
        continue;
      }
      if (c == ':' && i + 1 < text.size() && text[i + 1] == '=' && a->declare_end == 0) {
        a->declare_end = i;
        continue;
      }
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '-') a->empty = false;
    }
    return error(start, "unclosed action");
  }

  std::optional<std::string> run() {
    size_t pos = 0;
    while (true) {
      size_t open = text.find("{{", pos);
      if (open == std::string_view::npos) break;
      Action a;
      size_t end = 0;
      if (auto err = lex_action(open + 2, &end, &a)) return err;
      pos = end;
      if (auto err = apply(a, open)) return err;
    }
    if (!scopes.empty()) return error(text.size(), "unexpected EOF");
    return std::nullopt;
  }

  std::optional<std::string> apply(const Action& a, size_t at) {
    const std::string_view kw = a.keyword;
    if (kw == "/*") return std::nullopt;
    if (kw == "end") {
      if (scopes.empty()) return error(at, "unexpected {{end}}");
      vars.resize(scopes.back());
      scopes.pop_back();
      return std::nullopt;
    }
    if (kw == "else" && scopes.empty()) return error(at, "unexpected {{else}}");
    if (kw == "if" || kw == "range" || kw == "with" || kw == "define" || kw == "block")
      scopes.push_back(vars.size());
    if (a.empty && a.keyword.empty() && a.vars.empty())
      return error(at, "missing value for command");
    // Go declares the variables before parsing the pipeline that sets them.
    for (const Var& v : a.vars)
      if (a.declare_end != 0 && v.pos < a.declare_end) vars.push_back(v.name);
    for (const Var& v : a.vars) {
      if (a.declare_end != 0 && v.pos < a.declare_end) continue;
      if (!defined(v.name)) return error(v.pos, fmt::format("undefined variable \"{}\"", v.name));
    }
    return std::nullopt;
  }
};

}  // namespace

std::optional<std::string> check_template(std::string_view text, std::string_view name) {
  Checker c;
  c.text = text;
  c.name = name;
  return c.run();
}

}  // namespace vigil::rules
