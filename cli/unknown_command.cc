#include "cli/unknown_command.h"

#include <algorithm>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace vigil::cli {
namespace {

// Commands of promtool and amtool, spelled as vigil spells them.
struct Spelling {
  std::string_view theirs;
  std::string_view ours;
};
constexpr Spelling kOtherSpellings[] = {
    {"check-config", "check config"},         // amtool
    {"config routes show", "routes show"},    // amtool
    {"config routes test", "routes test"},    // amtool
    {"config routes", "routes"},              // amtool
    {"template render", "template render"},   // amtool (the same)
    {"check web-config", "check web-config"}, // promtool (the same)
};

// Commands of promtool and amtool that vigil does not provide.
constexpr std::string_view kNotProvided[] = {
    "query analyze", "debug", "push", "tsdb", "promql label-matchers", "check healthy", "check ready", "check service-discovery",
    "alert", "silence", "cluster", "config show",
};

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// Every command path: "run", "check", "check config", ...
void command_paths(const CLI::App& app, const std::string& prefix, std::vector<std::string>& out) {
  for (const CLI::App* sub : app.get_subcommands({})) {
    std::string path = prefix.empty() ? sub->get_name() : prefix + " " + sub->get_name();
    out.push_back(path);
    command_paths(*sub, path, out);
  }
}

std::string normalize(std::string s) {
  std::replace(s.begin(), s.end(), '-', ' ');
  std::replace(s.begin(), s.end(), '_', ' ');
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// The vigil command nearest to what was typed (`typed` holds the known
// command words, the unknown word and the words after it), or "".
std::string nearest(const CLI::App& app, const std::vector<std::string>& typed, size_t known) {
  std::vector<std::string> paths;
  command_paths(app, "", paths);
  // Another tool's spelling: the longest one the typed words start with.
  std::string joined;
  for (size_t i = 0; i < typed.size(); ++i) joined += (i ? " " : "") + typed[i];
  for (const Spelling& s : kOtherSpellings)
    if (joined == s.theirs || joined.starts_with(std::string(s.theirs) + " ")) return std::string(s.ours);
  std::string best;
  size_t best_distance = std::string::npos;
  // Compare the typed words up to the unknown one, and one more (for
  // "check-config" and "checkconfig" as well as "check conifg").
  // Longer matches first: on a tie, "test rules" beats "test".
  for (size_t n = std::min(typed.size(), known + 2); n >= known + 1; --n) {
    std::string words;
    for (size_t i = 0; i < n; ++i) words += (i ? " " : "") + typed[i];
    const std::string want = normalize(words);
    for (const std::string& p : paths) {
      const size_t d = edit_distance(want, normalize(p));
      if (d < best_distance) {
        best_distance = d;
        best = p;
      }
    }
  }
  const size_t limit = std::max<size_t>(2, typed[known].size() / 3);
  return best_distance <= limit ? best : "";
}

}  // namespace

std::optional<std::string> unknown_command_error(const CLI::App& app, int argc, const char* const* argv) {
  const CLI::App* cur = &app;
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.empty() || a.front() == '-') return std::nullopt;  // options: CLI11 judges them
    const auto subs = cur->get_subcommands({});
    if (subs.empty()) return std::nullopt;
    auto it = std::find_if(subs.begin(), subs.end(), [&](const CLI::App* s) { return s->check_name(std::string(a)); });
    if (it != subs.end()) {
      cur = *it;
      words.emplace_back(a);
      continue;
    }
    if (cur->get_require_subcommand_min() == 0) return std::nullopt;  // a positional argument
    const size_t known = words.size();
    for (int j = i; j < argc && argv[j][0] != '-'; ++j) words.emplace_back(argv[j]);
    std::string where;
    for (size_t k = 0; k < known; ++k) where += (k ? " " : "") + words[k];
    std::string msg = fmt::format("unknown command \"{}\"", a);
    if (!where.empty()) msg += fmt::format(" for \"{}\"", where);
    std::string typed_path = where.empty() ? std::string(a) : where + " " + std::string(a);
    for (std::string_view np : kNotProvided) {
      if (typed_path == np || (words.size() > known + 1 && typed_path + " " + words[known + 1] == np))
        return msg + fmt::format("; \"{}\" is a promtool or amtool command vigil does not provide", np);
    }
    std::string suggestion = nearest(app, words, known);
    if (!suggestion.empty()) msg += fmt::format("; did you mean \"{}\"?", suggestion);
    else msg += "; run \"vigil --help\" for the commands";
    return msg;
  }
  // A command that needs one of its own, given none.
  if (cur != &app && cur->get_require_subcommand_min() > 0) {
    std::string names;
    for (const CLI::App* s : cur->get_subcommands({})) names += (names.empty() ? "" : ", ") + s->get_name();
    std::string where;
    for (size_t k = 0; k < words.size(); ++k) where += (k ? " " : "") + words[k];
    return fmt::format("\"{}\" needs a command: {}", where, names);
  }
  return std::nullopt;
}

std::vector<std::string> move_leading_promtool_flags(const CLI::App& app, int argc, const char* const* argv) {
  std::vector<std::string> args(argv, argv + argc);
  std::vector<std::string> leading;
  size_t i = 1;
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.starts_with("--enable-feature=") || a == "--experimental" || a == "--no-experimental") {
      leading.push_back(a);
    } else if (a == "--enable-feature" && i + 1 < args.size()) {
      leading.push_back(a + "=" + args[++i]);
    } else {
      break;
    }
  }
  if (leading.empty()) return args;
  // The command words that follow.
  const CLI::App* cur = &app;
  size_t end = i;
  for (; end < args.size(); ++end) {
    const auto subs = cur->get_subcommands({});
    auto it = std::find_if(subs.begin(), subs.end(), [&](const CLI::App* s) { return s->check_name(args[end]); });
    if (it == subs.end()) break;
    cur = *it;
  }
  std::vector<std::string> out(args.begin(), args.begin() + 1);
  out.insert(out.end(), args.begin() + static_cast<long>(i), args.begin() + static_cast<long>(end));
  for (const std::string& flag : leading) {
    const std::string name = flag.substr(0, flag.find('='));
    if (cur->get_option_no_throw(name) != nullptr ||
        (name == "--no-experimental" && cur->get_option_no_throw("--experimental") != nullptr)) {
      out.push_back(flag);
    } else if (name == "--enable-feature") {
      out.push_back(flag);  // the command refuses it, with its own error
    }
  }
  out.insert(out.end(), args.begin() + static_cast<long>(end), args.end());
  return out;
}

}  // namespace vigil::cli
