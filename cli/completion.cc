// vigil completion bash: a bash completion script for every command, its
// subcommands and its flags, written from the command tree itself so that
// it never falls behind the commands.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace vigil::cli {
namespace {

struct Node {
  std::string path;  // "" for vigil itself, "check rules", ...
  std::vector<std::string> subcommands;
  std::vector<std::string> flags;
};

void collect(const CLI::App& app, const std::string& path, std::vector<Node>& out) {
  Node n{path, {}, {}};
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

}  // namespace

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
