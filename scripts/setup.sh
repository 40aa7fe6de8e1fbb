#!/usr/bin/env bash
# Installs what vigil needs to build and test on Debian 12. Safe to run again:
# it installs only the packages that are missing.
#   scripts/setup.sh           build and unit-test dependencies
#   scripts/setup.sh --peers   also the real peers for integration tests and benchmarks: Debian 12's
#                              packages, and the current upstream releases unpacked into
#                              /opt/vigil-peers (scripts/install-peers.sh)
set -euo pipefail

packages=(
  g++ cmake ninja-build ccache pkg-config git python3 curl
  libcurl4-openssl-dev libfmt-dev libcpp-httplib-dev doctest-dev
  libre2-dev nlohmann-json3-dev libcli11-dev libhowardhinnant-date-dev libssl-dev libyaml-dev libcrypt-dev
  libprotobuf-dev protobuf-compiler libsnappy-dev groff-base file dpkg-dev
)
if [[ "${1:-}" == "--peers" ]]; then
  packages+=(prometheus prometheus-alertmanager python3-aiosmtpd hyperfine openssl etcd-server chromium chromium-driver python3-selenium)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

peers() {
  if [[ "${1:-}" == "--peers" ]]; then
    local sudo_peers=()
    if [[ $(id -u) -ne 0 ]]; then sudo_peers=(sudo); fi
    "${sudo_peers[@]}" "$(dirname "$0")/install-peers.sh"
  fi
}

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages present"
  peers "${1:-}"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
peers "${1:-}"
