#!/usr/bin/env bash
# Unpacks the current upstream peers into DIR (default /opt/vigil-peers) without
# installing them: Prometheus + promtool 3.5 and Alertmanager + amtool 0.33, the
# reference for behaviour, taken from Debian's unstable suite (Go binaries that
# run on Debian 12 as they are). Debian 12's own packages stay as they are.
# The integration tests look here first (tests/integration/side_by_side.py).
# Usage: scripts/install-peers.sh [DIR]   (safe to run again)
set -euo pipefail
dir=${1:-/opt/vigil-peers}
if [[ -x "$dir/usr/bin/prometheus-alertmanager" && -x "$dir/usr/bin/amtool" && -x "$dir/usr/bin/promtool" ]]; then
  echo "peers: present in $dir"
  exit 0
fi
# The machine's own Debian mirror, with the unstable suite instead of its release.
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
if [[ -z "$mirror" ]]; then
  mirror=$(grep -m1 -oE 'https?://[^ ]+/debian/?' /etc/apt/sources.list 2>/dev/null || true)
fi
mirror=${mirror:-http://deb.debian.org/debian}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lists/partial" "$tmp/archives/partial"
echo "deb $mirror unstable main" >"$tmp/sources.list"
apt_opts=(-o "Dir::Etc::sourcelist=$tmp/sources.list" -o "Dir::Etc::sourceparts=-" -o "APT::Sandbox::User=root"
          -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp")
apt-get "${apt_opts[@]}" update -qq
(cd "$tmp" && apt-get "${apt_opts[@]}" download -qq prometheus promtool prometheus-alertmanager)
mkdir -p "$dir"
for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$dir"; done
"$dir/usr/bin/promtool" --version | head -1
"$dir/usr/bin/prometheus-alertmanager" --version 2>&1 | head -1
