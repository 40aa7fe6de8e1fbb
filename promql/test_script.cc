#include "promql/test_script.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include <fmt/format.h>
#include <re2/re2.h>

namespace vigil::promql::script {

bool Eval::has(ExpectKind k) const {
  for (const auto& e : expects) {
    if (e.kind == k) return true;
  }
  return false;
}

namespace {

std::string_view trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

std::string first_word(std::string_view s) {
  size_t e = s.find_first_of(" \t");
  std::string w(s.substr(0, e));
  for (auto& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return w;
}

std::unexpected<Error> line_error(int line, std::string msg) {
  return fail(fmt::format("line {}: {}", line, msg), line, 1);
}

Result<Millis> duration_at(int line, std::string_view what, std::string_view s) {
  auto d = parse_duration(s);
  if (!d) {
    return line_error(line, fmt::format("invalid {} definition \"{}\": {}", what, s, d.error().message));
  }
  return *d;
}

struct Patterns {
  RE2 load{R"(^load(?:_(with_nhcb))?\s+(.+?)$)"};
  RE2 instant{R"(^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$)"};
  RE2 range{R"(^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$)"};
  RE2 expect{R"(^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$)"};
  RE2 expect_range{R"(^expect range vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$)"};
};

const Patterns& patterns() {
  static const Patterns p;
  return p;
}

class ScriptParser {
 public:
  explicit ScriptParser(std::string_view text) {
    size_t pos = 0;
    while (pos <= text.size()) {
      size_t nl = text.find('\n', pos);
      std::string_view l = text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos);
      l = trim(l);
      if (!l.empty() && l[0] == '#') l = {};
      lines_.emplace_back(l);
      if (nl == std::string_view::npos) break;
      pos = nl + 1;
    }
  }

  Result<std::vector<Command>> run() {
    std::vector<Command> cmds;
    for (i_ = 0; i_ < lines_.size(); ++i_) {
      const std::string& l = lines_[i_];
      if (l.empty()) continue;
      std::string w = first_word(l);
      if (w == "clear") {
        cmds.push_back(Clear{lineno()});
      } else if (w.starts_with("load")) {
        auto c = load();
        if (!c) return std::unexpected(c.error());
        cmds.push_back(std::move(*c));
      } else if (w.starts_with("eval")) {
        auto c = eval();
        if (!c) return std::unexpected(c.error());
        cmds.push_back(std::move(*c));
      } else {
        return line_error(lineno(), fmt::format("invalid command \"{}\"", l));
      }
    }
    return cmds;
  }

 private:
  int lineno() const { return static_cast<int>(i_) + 1; }

  Result<Load> load() {
    std::string nhcb, step;
    if (!RE2::FullMatch(lines_[i_], patterns().load, &nhcb, &step)) {
      return line_error(lineno(), "invalid load command. (load[_with_nhcb] <step:duration>)");
    }
    Load cmd;
    cmd.line = lineno();
    cmd.with_nhcb = !nhcb.empty();
    auto d = duration_at(lineno(), "step", step);
    if (!d) return std::unexpected(d.error());
    cmd.interval = *d;
    while (i_ + 1 < lines_.size() && !lines_[i_ + 1].empty()) {
      ++i_;
      const std::string& l = lines_[i_];
      std::string_view tl = trim(std::string_view(l));
      size_t space = tl.find_first_of(" \t");
      if (l.starts_with("@st ") || l.starts_with("@st\t")) {
        cmd.start_times.push_back({lineno(), std::string(trim(std::string_view(l).substr(3)))});
      } else if (space != std::string_view::npos && tl.substr(0, space).ends_with("@st")) {
        // metric{labels}@st offsets...: the series' start timestamps.
        cmd.start_times.push_back({lineno(), std::string(tl.substr(0, space - 3)) + std::string(tl.substr(space))});
      } else {
        cmd.series.push_back({lineno(), l});
      }
    }
    return cmd;
  }

  Result<Eval> eval() {
    const auto& p = patterns();
    const std::string& head = lines_[i_];
    Eval cmd;
    cmd.line = lineno();
    std::string mod, at, from, to, step;
    if (RE2::FullMatch(head, p.instant, &mod, &at, &cmd.expr)) {
      auto t = duration_at(lineno(), "timestamp", at);
      if (!t) return std::unexpected(t.error());
      cmd.at = *t;
    } else if (RE2::FullMatch(head, p.range, &mod, &from, &to, &step, &cmd.expr)) {
      cmd.range = true;
      auto r = range_times(from, to, step, &cmd.start, &cmd.end, &cmd.step);
      if (!r) return std::unexpected(r.error());
    } else {
      return line_error(lineno(),
                        "invalid evaluation command. Must be either 'eval[_fail|_warn|_ordered] "
                        "instant [at <offset:duration>] <query>' or 'eval[_fail|_warn] range from "
                        "<from> to <to> step <step> <query>'");
    }
    if (mod == "fail") cmd.expects.push_back({ExpectKind::kFail, MessageMatch::kAny, {}});
    if (mod == "warn") cmd.expects.push_back({ExpectKind::kWarn, MessageMatch::kAny, {}});
    if (mod == "info") cmd.expects.push_back({ExpectKind::kInfo, MessageMatch::kAny, {}});
    if (mod == "ordered") cmd.expects.push_back({ExpectKind::kOrdered, MessageMatch::kAny, {}});

    while (i_ + 1 < lines_.size() && !lines_[i_ + 1].empty()) {
      ++i_;
      std::string_view l = lines_[i_];
      if (mod == "fail" && (l.starts_with("expected_fail_message") || l.starts_with("expected_fail_regexp"))) {
        bool regex = l.starts_with("expected_fail_regexp");
        Expect& e = cmd.expects.front();
        e.match = regex ? MessageMatch::kRegex : MessageMatch::kExact;
        e.text = std::string(trim(l.substr(regex ? 20 : 21)));
        break;
      }
      if (l.starts_with("expect range vector")) {
        std::string f, t, s;
        if (!RE2::FullMatch(l, p.expect_range, &f, &t, &s)) {
          return line_error(lineno(), fmt::format("invalid range vector definition \"{}\"", l));
        }
        auto r = range_times(f, t, s, &cmd.rv_start, &cmd.rv_end, &cmd.rv_step);
        if (!r) return std::unexpected(r.error());
        cmd.range_vector = true;
        continue;
      }
      if (l.starts_with("expect string")) {
        std::string_view rest = trim(l.substr(13));
        if (rest.empty()) {
          return line_error(lineno(), "expected string literal not valid - a quoted string literal is required");
        }
        cmd.quoted_string = std::string(rest);
        continue;
      }
      if (first_word(l) == "expect") {
        auto e = expect(l);
        if (!e) return std::unexpected(e.error());
        cmd.expects.push_back(std::move(*e));
        if (auto v = validate(cmd); !v) return std::unexpected(v.error());
        continue;
      }
      if (auto n = parse_number(l)) {
        cmd.scalar = *n;
        break;
      }
      cmd.series.push_back({lineno(), std::string(l)});
    }
    return cmd;
  }

  Result<void> range_times(std::string_view from, std::string_view to, std::string_view step,
                           Millis* start, Millis* end, Millis* st) {
    auto f = duration_at(lineno(), "start timestamp", trim(from));
    if (!f) return std::unexpected(f.error());
    auto t = duration_at(lineno(), "end timestamp", trim(to));
    if (!t) return std::unexpected(t.error());
    if (*t < *f) {
      return line_error(lineno(), fmt::format("invalid test definition, end timestamp ({}) is before start timestamp ({})", to, from));
    }
    auto s = duration_at(lineno(), "step", trim(step));
    if (!s) return std::unexpected(s.error());
    *start = *f, *end = *t, *st = *s;
    return {};
  }

  Result<Expect> expect(std::string_view l) {
    std::string type, match, text;
    if (!RE2::FullMatch(l, patterns().expect, &type, &match, &text)) {
      return line_error(lineno(), "invalid expect statement, must match `expect <type> <match_type>: <string>` format");
    }
    Expect e;
    static const std::pair<const char*, ExpectKind> kinds[] = {
        {"fail", ExpectKind::kFail}, {"warn", ExpectKind::kWarn}, {"no_warn", ExpectKind::kNoWarn},
        {"info", ExpectKind::kInfo}, {"no_info", ExpectKind::kNoInfo}, {"ordered", ExpectKind::kOrdered}};
    for (auto& [n, k] : kinds) {
      if (type == n) e.kind = k;
    }
    if (!match.empty()) {
      e.match = match == "msg" ? MessageMatch::kExact : MessageMatch::kRegex;
      e.text = std::string(trim(text));
      if (e.match == MessageMatch::kRegex && !RE2(e.text, RE2::Quiet).ok()) {
        return line_error(lineno(), fmt::format("invalid regex {} for {}", e.text, type));
      }
    }
    return e;
  }

  Result<void> validate(const Eval& cmd) {
    int fails = 0;
    for (const auto& e : cmd.expects) fails += e.kind == ExpectKind::kFail;
    if (cmd.has(ExpectKind::kInfo) && cmd.has(ExpectKind::kNoInfo)) {
      return line_error(lineno(), "invalid expect lines, info and no_info cannot be used together");
    }
    if (cmd.has(ExpectKind::kWarn) && cmd.has(ExpectKind::kNoWarn)) {
      return line_error(lineno(), "invalid expect lines, warn and no_warn cannot be used together");
    }
    if (fails > 1) {
      return line_error(lineno(), "invalid expect lines, multiple expect fail lines are not allowed");
    }
    return {};
  }

  std::vector<std::string> lines_;
  size_t i_ = 0;
};

// Go's ParseInt with base 0: 0x, 0o, 0b prefixes, a leading 0 for octal, and
// underscores between digits only where a prefix is given.
std::optional<double> parse_go_int(std::string_view s) {
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  int base = 10;
  bool prefixed = false;
  if (s.size() > 1 && s[0] == '0') {
    char p = static_cast<char>(std::tolower(static_cast<unsigned char>(s[1])));
    if (p == 'x') base = 16, prefixed = true, s.remove_prefix(2);
    else if (p == 'o') base = 8, prefixed = true, s.remove_prefix(2);
    else if (p == 'b') base = 2, prefixed = true, s.remove_prefix(2);
    else base = 8, prefixed = true, s.remove_prefix(1);
  }
  std::string digits;
  for (char c : s) {
    if (c == '_' && prefixed) continue;
    digits += c;
  }
  if (digits.empty()) return std::nullopt;
  int64_t v;
  auto r = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
  if (r.ec != std::errc() || r.ptr != digits.data() + digits.size()) return std::nullopt;
  return neg ? -static_cast<double>(v) : static_cast<double>(v);
}

}  // namespace

std::optional<double> parse_number(std::string_view s) {
  if (auto i = parse_go_int(s)) return i;
  std::string t(s);
  std::string lower;
  for (char c : t) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view body = lower;
  bool neg = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body == "inf" || body == "infinity") {
    return neg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  }
  if (body == "nan") return std::numeric_limits<double>::quiet_NaN();
  if (t.empty() || t.find_first_of(" \t") != std::string::npos) return std::nullopt;
  // strtod reads decimal and hexadecimal floats; Go's ParseFloat also allows
  // out-of-range values to become ±Inf, as strtod does.
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size()) return std::nullopt;
  if (body.starts_with("0x") && body.find('p') == std::string_view::npos) return std::nullopt;
  return v;
}

Result<std::vector<Command>> parse(std::string_view text) { return ScriptParser(text).run(); }

}  // namespace vigil::promql::script
