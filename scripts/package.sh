#!/usr/bin/env bash
# Builds vigil's Debian package (CPack: vigil_<version>_amd64.deb) and checks it:
#   scripts/package.sh [OUT_DIR]           the package's metadata and files, then its binary,
#                                          unpacked into a temporary root, run on the packaged
#                                          /etc/vigil configuration until /-/ready answers 200
#   scripts/package.sh --chroot [OUT_DIR]  also installs it with apt into a fresh Debian 12
#                                          root (debootstrap; needs root and the network), runs
#                                          the unit's ExecStart there as the package's user and
#                                          checks /-/ready
set -euo pipefail
cd "$(dirname "$0")/.."
chroot_check=0
if [[ "${1:-}" == "--chroot" ]]; then chroot_check=1; shift; fi
out=${1:-build/package}
build_dir=${VIGIL_BUILD_DIR:-build}
# A configured build is built as it is (a test must not change its flags).
if [[ -f "$build_dir/build.ninja" ]]; then cmake --build "$build_dir" --target vigil >&2
else scripts/build.sh --target vigil >&2; fi
mkdir -p "$out"
out=$(realpath "$out")
(cd "$build_dir" && cpack -G DEB -B "$out" >/dev/null)
deb=$(ls -t "$out"/vigil_*_amd64.deb | head -1)
echo "package: $deb ($(du -h "$deb" | cut -f1))"

fail() { echo "FAILED: $*"; exit 1; }
info=$(dpkg-deb --info "$deb")
files=$(dpkg-deb --contents "$deb")
for f in ./usr/bin/vigil ./usr/lib/systemd/system/vigil.service ./etc/vigil/prometheus.yml \
         ./etc/vigil/alertmanager.yml ./etc/vigil/rules.yml ./etc/default/vigil \
         ./usr/share/bash-completion/completions/vigil ./usr/share/man/man1/vigil.1.gz; do
  grep -q " $f\$" <<<"$files" || fail "$f is not in the package"
done
for s in postinst prerm conffiles; do grep -q " $s" <<<"$info" || fail "no $s in the package"; done
grep -q "Depends:.*libcurl4" <<<"$info" || fail "the shared library dependencies are missing"
echo "ok: metadata (Depends from dpkg-shlibdeps, postinst, prerm, conffiles) and files"

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() {  # URL SECONDS
  for _ in $(seq $(($2 * 10))); do
    if [[ "$(curl -s -o /dev/null -w '%{http_code}' "$1/-/ready")" == 200 ]]; then return 0; fi
    sleep 0.1
  done
  return 1
}

root=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  if mountpoint -q "$root/proc" 2>/dev/null; then umount "$root/proc"; fi
  rm -rf "$root"
}
trap cleanup EXIT
dpkg-deb -x "$deb" "$root/unpacked"
port=$(free_port)
"$root/unpacked/usr/bin/vigil" run --config.file="$root/unpacked/etc/vigil/prometheus.yml" \
  --alertmanager.config="$root/unpacked/etc/vigil/alertmanager.yml" --storage.path="$root/data" \
  --web.listen-address="127.0.0.1:$port" >"$root/vigil.log" 2>&1 &
pid=$!
wait_ready "http://127.0.0.1:$port" 20 || { cat "$root/vigil.log"; fail "the packaged binary did not become ready"; }
groups=$(curl -s "http://127.0.0.1:$port/api/v1/rules" | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"]["groups"]))')
[[ "$groups" -ge 1 ]] || fail "the packaged configuration loaded no rule group"
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
echo "ok: the unpacked binary runs on the packaged /etc/vigil ($groups rule groups) and answers /-/ready"

if [[ $chroot_check == 1 ]]; then
  command -v debootstrap >/dev/null || fail "debootstrap is not installed (apt-get install debootstrap)"
  start=$(date +%s)
  debootstrap --variant=minbase bookworm "$root/chroot" >"$root/debootstrap.log" 2>&1 ||
    { tail "$root/debootstrap.log"; fail "debootstrap failed"; }
  cp "$deb" "$root/chroot/tmp/"
  mount -t proc proc "$root/chroot/proc"
  chroot "$root/chroot" sh -c "apt-get update -qq && apt-get install -y -qq curl /tmp/$(basename "$deb")" \
    >"$root/install.log" 2>&1 || { tail -20 "$root/install.log"; umount "$root/chroot/proc"; fail "apt could not install the package"; }
  getent_out=$(chroot "$root/chroot" getent passwd vigil) || { umount "$root/chroot/proc"; fail "postinst made no vigil user"; }
  exec_start=$(sed -n '/^ExecStart=/,/[^\\]$/p' "$root/chroot/usr/lib/systemd/system/vigil.service" |
    sed 's/^ExecStart=//; s/\\$//' | tr -d '\n' | sed 's/\$ARGS//')
  port=$(free_port)
  chroot "$root/chroot" su -s /bin/sh vigil -c "$exec_start --web.listen-address=127.0.0.1:$port" \
    >"$root/chroot.log" 2>&1 &
  pid=$!
  ok=0
  wait_ready "http://127.0.0.1:$port" 30 && ok=1
  kill "$pid" 2>/dev/null || true; pkill -f "web.listen-address=127.0.0.1:$port" || true; wait "$pid" 2>/dev/null || true; pid=""
  umount "$root/chroot/proc"
  [[ $ok == 1 ]] || { cat "$root/chroot.log"; fail "the installed service did not become ready"; }
  echo "ok: installed with apt into a fresh Debian 12 root (user: ${getent_out%%:*}), the unit's ExecStart runs as vigil and answers /-/ready ($(( $(date +%s) - start )) s)"
fi
