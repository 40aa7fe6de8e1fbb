#pragma once

// Where AWS credentials and the region come from, in the order the AWS SDK
// for Go v2's default configuration looks (the part of it vigil follows):
//
//   credentials: `sigv4.access_key`/`secret_key`; else the shared files'
//     `sigv4.profile`; else AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or
//     AWS_ACCESS_KEY/AWS_SECRET_KEY) with AWS_SESSION_TOKEN; else the
//     shared files' AWS_PROFILE or "default" profile.
//   region: `sigv4.region`; else AWS_REGION; else AWS_DEFAULT_REGION; else
//     the profile's `region` in the shared config file.
//
// The shared credentials file is AWS_SHARED_CREDENTIALS_FILE or
// ~/.aws/credentials ([name] sections); the shared config file AWS_CONFIG_FILE
// or ~/.aws/config ([profile name] or [default]). Only static keys are read
// from a profile: SSO, credential_process, web identity, container and EC2
// instance credentials are not fetched, and asking for them is an error
// that says so.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "config/value.h"
#include "model/error.h"
#include "net/sigv4.h"

namespace vigil::net::aws {

// An environment variable's value; nullopt when unset. Replaceable so tests
// need not change the process's environment.
using EnvFn = std::function<std::optional<std::string>(std::string_view name)>;
EnvFn process_env();

// `sigv4` is the integration's sigv4 mapping (null: absent).
Result<sigv4::Credentials> resolve_credentials(const config::ConfigValue* sigv4, const EnvFn& env);
// "" when no source names a region.
std::string resolve_region(const config::ConfigValue* sigv4, const EnvFn& env);

}  // namespace vigil::net::aws
