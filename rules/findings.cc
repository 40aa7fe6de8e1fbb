#include "rules/findings.h"

#include <algorithm>
#include <map>
#include <ostream>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "model/xxhash.h"
#include "templates/escape.h"

namespace vigil::rules {

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::kInfo: return "info";
    case Severity::kWarning: return "warning";
    case Severity::kBug: return "bug";
  }
  return "bug";
}

std::optional<Severity> parse_severity(std::string_view s) {
  if (s == "info") return Severity::kInfo;
  if (s == "warning") return Severity::kWarning;
  if (s == "bug") return Severity::kBug;
  return std::nullopt;
}

std::optional<FindingFormat> parse_finding_format(std::string_view s) {
  if (s == "text") return FindingFormat::kText;
  if (s == "json") return FindingFormat::kJson;
  if (s == "github") return FindingFormat::kGithub;
  if (s == "gitlab") return FindingFormat::kGitlab;
  if (s == "junit") return FindingFormat::kJunit;
  return std::nullopt;
}

namespace {

// GitHub's workflow commands: properties escape %, CR, LF, ':' and ','; the
// message escapes %, CR and LF.
std::string github_escape(std::string_view s, bool property) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '%': out += "%25"; break;
      case '\r': out += "%0D"; break;
      case '\n': out += "%0A"; break;
      case ':': out += property ? "%3A" : ":"; break;
      case ',': out += property ? "%2C" : ","; break;
      default: out += c;
    }
  }
  return out;
}

std::string_view github_level(Severity s) {
  switch (s) {
    case Severity::kBug: return "error";
    case Severity::kWarning: return "warning";
    case Severity::kInfo: return "notice";
  }
  return "error";
}

// GitLab code quality: info, minor, major, critical or blocker.
std::string_view gitlab_severity(Severity s) {
  switch (s) {
    case Severity::kBug: return "major";
    case Severity::kWarning: return "minor";
    case Severity::kInfo: return "info";
  }
  return "major";
}

// A stable identifier for GitLab to tell findings apart across runs: a hash
// of what the finding is, not where (so unrelated edits above it do not make
// it a new finding), as 16 hex digits.
std::string fingerprint(const Finding& f) {
  return fmt::format("{:016x}", xxhash64(f.path + '\xff' + f.check + '\xff' + f.message));
}

std::string location(const Finding& f) {
  if (f.line == 0) return f.path;
  if (f.column == 0) return fmt::format("{}:{}", f.path, f.line);
  return fmt::format("{}:{}:{}", f.path, f.line, f.column);
}

}  // namespace

void write_findings(std::ostream& out, FindingFormat format, std::vector<Finding> findings,
                    const std::vector<std::string>& checked, std::string_view suite) {
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    return std::tie(a.path, a.line, a.column, a.check) < std::tie(b.path, b.line, b.column, b.check);
  });
  switch (format) {
    case FindingFormat::kText:
      for (const auto& f : findings) {
        out << location(f) << ": " << severity_name(f.severity) << ": " << f.message << " ("
            << f.check << ")\n";
      }
      return;
    case FindingFormat::kJson: {
      auto arr = nlohmann::json::array();
      for (const auto& f : findings) {
        arr.push_back({{"path", f.path},
                       {"line", f.line},
                       {"column", f.column},
                       {"check", f.check},
                       {"severity", severity_name(f.severity)},
                       {"message", f.message}});
      }
      out << arr.dump(2) << "\n";
      return;
    }
    case FindingFormat::kGithub:
      for (const auto& f : findings) {
        out << "::" << github_level(f.severity) << " file=" << github_escape(f.path, true);
        if (f.line) out << ",line=" << f.line;
        if (f.column) out << ",col=" << f.column;
        out << ",title=" << github_escape(f.check, true) << "::" << github_escape(f.message, false)
            << "\n";
      }
      return;
    case FindingFormat::kGitlab: {
      auto arr = nlohmann::json::array();
      for (const auto& f : findings) {
        arr.push_back({{"description", f.message},
                       {"check_name", f.check},
                       {"fingerprint", fingerprint(f)},
                       {"severity", gitlab_severity(f.severity)},
                       {"location", {{"path", f.path}, {"lines", {{"begin", std::max(f.line, 1)}}}}}});
      }
      out << arr.dump(2) << "\n";
      return;
    }
    case FindingFormat::kJunit: {
      // One test suite per file, one test case per check that found
      // something there (each finding a <failure>), and a "clean" case for
      // files with none.
      std::map<std::string, std::map<std::string, std::vector<const Finding*>>> by_file;
      for (const auto& p : checked) by_file[p];
      for (const auto& f : findings) by_file[f.path][f.check].push_back(&f);
      size_t failures = findings.size();
      size_t tests = 0;
      for (const auto& [path, checks] : by_file) tests += checks.empty() ? 1 : checks.size();
      out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
      out << fmt::format("<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\">\n",
                         templates::xml_escape(suite), tests, failures);
      for (const auto& [path, checks] : by_file) {
        size_t n = 0;
        for (const auto& [c, fs] : checks) n += fs.size();
        out << fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\">\n",
                           templates::xml_escape(path), checks.empty() ? 1 : checks.size(), n);
        if (checks.empty()) {
          out << fmt::format("    <testcase name=\"clean\" classname=\"{}\"/>\n",
                             templates::xml_escape(path));
        }
        for (const auto& [check, fs] : checks) {
          out << fmt::format("    <testcase name=\"{}\" classname=\"{}\">\n",
                             templates::xml_escape(check), templates::xml_escape(path));
          for (const Finding* f : fs) {
            out << fmt::format("      <failure type=\"{}\" message=\"{}\">{}</failure>\n",
                               severity_name(f->severity), templates::xml_escape(f->message),
                               templates::xml_escape(location(*f)));
          }
          out << "    </testcase>\n";
        }
        out << "  </testsuite>\n";
      }
      out << "</testsuites>\n";
      return;
    }
  }
}

}  // namespace vigil::rules
