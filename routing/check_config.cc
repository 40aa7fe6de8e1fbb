#include "routing/check_config.h"

#include <sys/stat.h>

#include <iostream>
#include <iterator>

#include <fmt/format.h>

#include "model/file.h"
#include "templates/alertmanager.h"

namespace vigil::routing {

namespace {

void print_errors(std::string_view name, const std::vector<Error>& errors, std::ostream& out) {
  out << "  FAILED: ";
  for (size_t i = 0; i < errors.size(); ++i) {
    if (i > 0) out << "\n  ";
    out << format_error(name, errors[i]);
  }
  out << "\n";
}

}  // namespace

int check_config(const std::vector<std::string>& files, const LoadOptions& opts, std::istream& in,
                 std::ostream& out, std::ostream& err) {
  for (const std::string& f : files) {
    struct stat st {};
    if (::stat(f.c_str(), &st) != 0) {
      err << fmt::format("vigil: error: path '{}' does not exist\n", f);
      return 1;
    }
  }
  std::vector<std::string> names = files;
  if (names.empty()) names.push_back("/dev/stdin");
  int failed = 0;
  for (const std::string& name : names) {
    out << "Checking '" << name << "'";
    LoadResult r;
    if (files.empty()) {
      std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
      r = parse_config(text, opts);
    } else {
      r = load_config(name, opts);
    }
    if (!r.ok()) {
      print_errors(name, r.errors, out);
      ++failed;
      out << "\n";
      continue;
    }
    const Config& c = r.config;
    for (const Error& w : r.warnings)
      err << "vigil: warning: " << format_error(name, w) << "\n";
    out << "  SUCCESS\nFound:\n - global config\n - route\n";
    out << " - " << c.inhibit_rules.size() << " inhibit rules\n";
    out << " - " << c.receivers.size() << " receivers\n";
    out << " - " << c.templates.size() << " templates\n";
    if (!c.templates.empty()) {
      // As amtool: every file the globs match must parse.
      if (auto t = templates::NotificationTemplates::load(c.templates, false); !t) {
        out << "  FAILED: " << t.error().message << "\n";
        ++failed;
      } else {
        out << "  SUCCESS\n";
      }
    }
    out << "\n";
  }
  if (failed > 0) {
    err << fmt::format("vigil: error: failed to validate {} file(s)\n", failed);
    return 1;
  }
  return 0;
}

}  // namespace vigil::routing
