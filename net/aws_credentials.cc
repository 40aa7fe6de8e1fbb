#include "net/aws_credentials.h"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>

#include <fmt/format.h>

#include "net/secrets.h"

namespace vigil::net::aws {

using config::ConfigValue;

namespace {

using Section = std::map<std::string, std::string>;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// An INI file's sections by name, keys lower-cased; nullopt when the file
// cannot be read (a missing shared file is not an error).
std::optional<std::map<std::string, Section>> read_ini(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::map<std::string, Section> out;
  Section* current = nullptr;
  std::string line;
  while (std::getline(in, line)) {
    std::string t = trim_space(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[' && t.back() == ']') {
      current = &out[trim_space(std::string_view(t).substr(1, t.size() - 2))];
      continue;
    }
    size_t eq = t.find('=');
    if (current == nullptr || eq == std::string::npos) continue;
    (*current)[lower(trim_space(std::string_view(t).substr(0, eq)))] = trim_space(std::string_view(t).substr(eq + 1));
  }
  return out;
}

std::string env_or(const EnvFn& env, std::string_view name, std::string fallback = "") {
  auto v = env(name);
  return v && !v->empty() ? *v : fallback;
}

std::string home_file(const EnvFn& env, std::string_view override_var, std::string_view name) {
  if (auto p = env(override_var); p && !p->empty()) return *p;
  return env_or(env, "HOME") + "/.aws/" + std::string(name);
}

// A profile's settings: the credentials file's [name] over the config
// file's [profile name] (or [default]). nullopt: in neither file.
std::optional<Section> load_profile(const EnvFn& env, const std::string& name) {
  std::optional<Section> out;
  if (auto cfg = read_ini(home_file(env, "AWS_CONFIG_FILE", "config"))) {
    for (const std::string& key : {"profile " + name, name == "default" ? name : std::string()}) {
      if (key.empty()) continue;
      if (auto it = cfg->find(key); it != cfg->end()) {
        if (!out) out.emplace();
        for (const auto& [k, v] : it->second) (*out)[k] = v;
      }
    }
  }
  if (auto creds = read_ini(home_file(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials"))) {
    if (auto it = creds->find(name); it != creds->end()) {
      if (!out) out.emplace();
      for (const auto& [k, v] : it->second) (*out)[k] = v;
    }
  }
  return out;
}

std::string sigv4_str(const ConfigValue* s, std::string_view key) {
  return s != nullptr && s->is_map() ? std::string(s->str(key)) : std::string();
}

// The name of the profile the shared files are read for.
std::string profile_name(const ConfigValue* s, const EnvFn& env) {
  std::string p = sigv4_str(s, "profile");
  return p.empty() ? env_or(env, "AWS_PROFILE", "default") : p;
}

Result<sigv4::Credentials> from_profile(const EnvFn& env, const std::string& name, bool named) {
  std::optional<Section> p = load_profile(env, name);
  if (!p) {
    if (named) return fail(fmt::format("failed to get shared config profile, {}", name));
    return fail("no AWS credentials found: set sigv4.access_key and sigv4.secret_key, AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or keys in the shared credentials file (vigil does not fetch EC2, "
                "container, web identity or SSO credentials)");
  }
  auto get = [&](const char* k) {
    auto it = p->find(k);
    return it == p->end() ? std::string() : it->second;
  };
  sigv4::Credentials c{get("aws_access_key_id"), get("aws_secret_access_key"), get("aws_session_token")};
  if (c.access_key.empty() || c.secret_key.empty())
    return fail(fmt::format("profile {} has no aws_access_key_id and aws_secret_access_key; vigil reads only "
                            "static keys from the shared files (no SSO, credential_process, role_arn or "
                            "credential_source)",
                            name));
  return c;
}

}  // namespace

EnvFn process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Result<sigv4::Credentials> resolve_credentials(const ConfigValue* s, const EnvFn& env) {
  if (std::string key = sigv4_str(s, "access_key"); !key.empty())
    return sigv4::Credentials{key, sigv4_str(s, "secret_key"), ""};
  if (std::string profile = sigv4_str(s, "profile"); !profile.empty()) return from_profile(env, profile, true);
  std::string id = env_or(env, "AWS_ACCESS_KEY_ID", env_or(env, "AWS_ACCESS_KEY"));
  std::string secret = env_or(env, "AWS_SECRET_ACCESS_KEY", env_or(env, "AWS_SECRET_KEY"));
  if (!id.empty() && !secret.empty()) return sigv4::Credentials{id, secret, env_or(env, "AWS_SESSION_TOKEN")};
  if (!env_or(env, "AWS_WEB_IDENTITY_TOKEN_FILE").empty())
    return fail("AWS_WEB_IDENTITY_TOKEN_FILE is set, but vigil does not fetch web identity credentials; "
                "give keys in sigv4, the environment or the shared credentials file");
  return from_profile(env, profile_name(s, env), env(std::string_view("AWS_PROFILE")).has_value());
}

std::string resolve_region(const ConfigValue* s, const EnvFn& env) {
  if (std::string r = sigv4_str(s, "region"); !r.empty()) return r;
  if (std::string r = env_or(env, "AWS_REGION"); !r.empty()) return r;
  if (std::string r = env_or(env, "AWS_DEFAULT_REGION"); !r.empty()) return r;
  if (auto p = load_profile(env, profile_name(s, env)))
    if (auto it = p->find("region"); it != p->end()) return it->second;
  return "";
}

}  // namespace vigil::net::aws
