#pragma once

// Problems found in files (lint findings, load errors), and the formats CI
// systems read them in: text, JSON, GitHub workflow annotations, GitLab
// code-quality reports and JUnit XML. `vigil lint` and `vigil check rules
// --format` write through here.

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::rules {

enum class Severity { kInfo, kWarning, kBug };
std::string_view severity_name(Severity s);  // "info", "warning", "bug"
std::optional<Severity> parse_severity(std::string_view s);

struct Finding {
  std::string path;
  int line = 0;    // 1-based; 0 when about the whole file
  int column = 0;  // 1-based; 0 when unknown
  std::string check;  // stable name, e.g. "promql/rate-non-counter"
  Severity severity = Severity::kWarning;
  std::string message;  // one line
};

enum class FindingFormat { kText, kJson, kGithub, kGitlab, kJunit };
// "text", "json", "github", "gitlab", "junit"; nullopt for anything else.
std::optional<FindingFormat> parse_finding_format(std::string_view s);
inline constexpr std::string_view kFindingFormats = "text, json, github, gitlab or junit";

// Writes `findings` (sorted by path, line, column, check) in `format`.
// `checked` lists every file looked at, so JUnit shows clean files as passed
// test cases. `suite` names the JUnit test suite.
void write_findings(std::ostream& out, FindingFormat format, std::vector<Finding> findings,
                    const std::vector<std::string>& checked, std::string_view suite);

}  // namespace vigil::rules
