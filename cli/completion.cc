// What is written from the command tree itself, so that it never falls
// behind the commands: `vigil completion bash` (a bash completion script for
// every command, its subcommands and flags) and `vigil man` (the manual page,
// vigil(1), in roff).
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "model/build_info.h"

namespace vigil::cli {
namespace {

struct Node {
  std::string path;  // "" for vigil itself, "check rules", ...
  const CLI::App* app;
  std::vector<std::string> subcommands;
  std::vector<std::string> flags;
};

void collect(const CLI::App& app, const std::string& path, std::vector<Node>& out) {
  Node n{path, &app, {}, {}};
  for (const CLI::App* sub : app.get_subcommands({})) n.subcommands.push_back(sub->get_name());
  for (const CLI::Option* o : app.get_options({})) {
    for (const std::string& l : o->get_lnames()) n.flags.push_back("--" + l);
    for (const std::string& s : o->get_snames()) n.flags.push_back("-" + s);
  }
  out.push_back(n);
  for (const CLI::App* sub : app.get_subcommands({})) {
    collect(*sub, path.empty() ? sub->get_name() : path + " " + sub->get_name(), out);
  }
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

void write_bash(const CLI::App& root, std::ostream& out) {
  std::vector<Node> nodes;
  collect(root, "", nodes);
  out << "# bash completion for vigil, written by `vigil completion bash`.\n"
         "# Install: vigil completion bash > /usr/share/bash-completion/completions/vigil\n"
         "_vigil() {\n"
         "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" path=\"\" i w subs=\"\" flags=\"\"\n"
         "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
         "    w=\"${COMP_WORDS[i]}\"\n"
         "    case \"$w\" in -*) continue ;; esac\n"
         "    case \"${path:+$path }$w\" in\n";
  for (const Node& n : nodes) {
    if (!n.path.empty()) out << "      \"" << n.path << "\") path=\"" << n.path << "\" ;;\n";
  }
  out << "    esac\n"
         "  done\n"
         "  case \"$path\" in\n";
  for (const Node& n : nodes) {
    out << "    \"" << n.path << "\") subs=\"" << join(n.subcommands) << "\"; flags=\"" << join(n.flags)
        << "\" ;;\n";
  }
  out << "  esac\n"
         "  if [[ \"$cur\" == -* ]]; then\n"
         "    COMPREPLY=($(compgen -W \"$flags\" -- \"$cur\"))\n"
         "  elif [[ -n \"$subs\" ]]; then\n"
         "    COMPREPLY=($(compgen -W \"$subs\" -- \"$cur\"))\n"
         "  else\n"
         "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
         "  fi\n"
         "}\n"
         "complete -o filenames -F _vigil vigil\n";
}

// Text for roff: backslashes and hyphens escaped, and a line that would
// start with a control character made plain.
std::string roff(std::string_view text) {
  std::string out;
  bool line_start = true;
  for (char c : text) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
    line_start = c == '\n';
  }
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A description's first line is a paragraph; the lines after it (examples,
// indented) are kept as they are.
void write_description(const std::string& description, std::ostream& out) {
  std::vector<std::string> lines = lines_of(description);
  if (lines.empty()) return;
  out << roff(lines[0]) << "\n";
  if (lines.size() == 1) return;
  out << ".IP\n.nf\n";
  for (size_t i = 1; i < lines.size(); ++i) out << roff(lines[i]) << "\n";
  out << ".fi\n";
}

void write_options(const CLI::App& app, std::ostream& out) {
  for (const CLI::Option* o : app.get_options({})) {
    if (o->get_lnames() == std::vector<std::string>{"help"} || o->get_lnames() == std::vector<std::string>{"version"}) {
      continue;
    }
    out << ".TP\n";
    std::string names;
    if (o->get_positional()) {
      names = "\\fI" + roff(o->get_name()) + "\\fR" + (o->get_items_expected_max() > 1 ? " ..." : "");
    } else {
      for (const std::string& s : o->get_snames()) names += (names.empty() ? "" : ", ") + roff("-" + s);
      for (const std::string& l : o->get_lnames()) names += (names.empty() ? "" : ", ") + roff("--" + l);
      names = "\\fB" + names + "\\fR";
      if (o->get_type_size() != 0 && !o->get_type_name().empty()) names += " \\fI" + roff(o->get_type_name()) + "\\fR";
    }
    out << names << "\n";
    write_description(o->get_description(), out);
    if (!o->get_default_str().empty()) out << ".br\nDefault: " << roff(o->get_default_str()) << "\n";
    if (o->get_required()) out << ".br\nRequired.\n";
  }
}

void write_man(const CLI::App& root, std::ostream& out) {
  std::vector<Node> nodes;
  collect(root, "", nodes);
  out << ".\\\" vigil(1), written by `vigil man` from vigil's own commands.\n"
      << ".TH VIGIL 1 \"" << build::kDate << "\" \"vigil " << build::kVersion << "\" \"User Commands\"\n"
      << ".SH NAME\nvigil \\- Prometheus rule evaluation and Alertmanager alert routing in one binary\n"
      << ".SH SYNOPSIS\n.B vigil\n\\fICOMMAND\\fR [\\fISUBCOMMAND\\fR] [\\fIOPTIONS\\fR] [\\fIARGS\\fR]\n"
      << ".br\n.B vigil\n\\fICOMMAND\\fR \\fB\\-\\-help\\fR\n"
      << ".SH DESCRIPTION\n";
  write_description(root.get_description(), out);
  out << ".PP\nEvery command takes \\fB\\-h\\fR, \\fB\\-\\-help\\fR; \\fBvigil \\-\\-version\\fR prints the "
         "version, commit and build date.\n"
         ".SH COMMANDS\n";
  for (const Node& n : nodes) {
    if (n.path.empty()) continue;
    out << ".SS \"vigil " << roff(n.path) << "\"\n";
    write_description(n.app->get_description(), out);
    if (!n.subcommands.empty()) {
      out << ".PP\nSubcommands:";
      for (const std::string& s : n.subcommands) out << " \\fB" << roff(s) << "\\fR";
      out << ".\n";
    }
    write_options(*n.app, out);
  }
  out << ".SH FILES\n"
         ".TP\n.I /etc/vigil/prometheus.yml\nRule files, scrape targets and external labels, in Prometheus' format "
         "(the package's \\fB\\-\\-config.file\\fR).\n"
         ".TP\n.I /etc/vigil/alertmanager.yml\nRoutes, receivers, inhibition and templates, in Alertmanager's format "
         "(\\fB\\-\\-alertmanager.config\\fR).\n"
         ".TP\n.I /etc/default/vigil\nExtra flags for the service (\\fBARGS=\\fR).\n"
         ".TP\n.I /var/lib/vigil\nThe service's \\fB\\-\\-storage.path\\fR: samples, silences, the notification log "
         "and rule state.\n"
         ".SH EXIT STATUS\n"
         "0 on success; 1 when a check, test or command fails or its flags are wrong; "
         "3 for lint problems with \\fB\\-\\-lint\\-fatal\\fR, as promtool.\n"
         ".SH SIGNALS\n"
         "\\fBvigil run\\fR reloads its configuration on SIGHUP (or POST /\\-/reload) and stops on SIGTERM or SIGINT.\n"
         ".SH EXAMPLES\n.nf\n"
         "vigil check config prometheus.yml\n"
         "vigil test rules tests.yml\n"
         "vigil lint \\-\\-config.file=prometheus.yml\n"
         "vigil routes test \\-\\-config.file=alertmanager.yml severity=critical\n"
         "vigil run \\-\\-config.file=prometheus.yml \\-\\-alertmanager.config=alertmanager.yml\n"
         ".fi\n"
         ".SH SEE ALSO\n"
         ".BR prometheus (1),\n.BR promtool (1),\n.BR alertmanager (1),\n.BR amtool (1)\n";
}

}  // namespace

void register_man(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("man",
                                 "Print vigil's manual page, vigil(1), in roff.\n"
                                 "  vigil man | man -l -");
  const CLI::App* root = &app;
  cmd->callback([root, exit_code] {
    write_man(*root, std::cout);
    *exit_code = 0;
  });
}

void register_completion(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "completion",
      "Print a shell completion script for vigil's commands and flags.\n"
      "  source <(vigil completion bash)                                   (this shell)\n"
      "  vigil completion bash > /usr/share/bash-completion/completions/vigil   (everyone's)");
  auto shell = std::make_shared<std::string>();
  cmd->add_option("shell", *shell, "The shell: bash")->required()->check(CLI::IsMember({"bash"}));
  const CLI::App* root = &app;
  cmd->callback([root, exit_code] {
    write_bash(*root, std::cout);
    *exit_code = 0;
  });
}

}  // namespace vigil::cli
