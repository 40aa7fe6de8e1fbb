#!/usr/bin/env bash
# Builds vigil's container image from the Dockerfile (multi-stage, Debian 12),
# runs it and checks it answers /-/ready with the packaged configuration; with
# --compose, also runs examples/compose (Prometheus 3 sending alerts to vigil)
# and checks Prometheus' alert reaches vigil.
#   scripts/image.sh [--no-build] [--compose]
#     --no-build  check the vigil:latest image built before instead of building it
# Uses docker when its daemon answers, else podman. Where the registry cannot
# be reached, the Debian 12 base is made with debootstrap (root, network to a
# Debian mirror) and Prometheus' image from /opt/vigil-peers' prometheus
# (scripts/install-peers.sh). Exit 77 when no container engine can run.
set -euo pipefail
cd "$(dirname "$0")/.."
compose=0
build=1
for arg in "$@"; do
  case "$arg" in
    --compose) compose=1 ;;
    --no-build) build=0 ;;
    *) echo "usage: scripts/image.sh [--no-build] [--compose]"; exit 2 ;;
  esac
done
fail() { echo "FAILED: $*"; exit 1; }
skip() { echo "SKIPPED: $*"; exit 77; }

engine=()
if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  engine=(docker)
elif command -v podman >/dev/null; then
  engine=(podman)
  # crun cannot run on a host whose cgroups are in hybrid mode; runc can.
  if [[ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ]] && command -v runc >/dev/null; then
    engine+=(--runtime "$(command -v runc)")
  fi
else
  skip "neither a docker daemon nor podman (apt-get install podman runc)"
fi
# Limits a container may set on any host (the engines' defaults, a million
# open files, fail where the host's own limits are lower).
cap() { if [[ "$1" == unlimited || "$1" -gt "$2" ]]; then echo "$2"; else echo "$1"; fi; }
nofile=$(cap "$(ulimit -Hn)" 65536)
nproc=$(cap "$(ulimit -Hu)" 32768)
limits=(--ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc")
echo "engine: ${engine[*]}"

base=debian:12-slim
if ! "${engine[@]}" image inspect "$base" >/dev/null 2>&1 && ! "${engine[@]}" pull -q "$base" >/dev/null 2>&1; then
  base=localhost/vigil-debian:12
  if ! "${engine[@]}" image inspect "$base" >/dev/null 2>&1; then
    command -v debootstrap >/dev/null || skip "the registry is unreachable and debootstrap is not installed"
    [[ $(id -u) == 0 ]] || skip "the registry is unreachable and debootstrap needs root"
    root=$(mktemp -d)
    echo "base: the registry is unreachable; making $base with debootstrap"
    debootstrap --variant=minbase bookworm "$root" >"$root.log" 2>&1 || { tail "$root.log"; fail "debootstrap failed"; }
    tar -C "$root" -c . | "${engine[@]}" import - "$base" >/dev/null
    rm -rf "$root" "$root.log"
  fi
fi
echo "base: $base"

commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
start=$(date +%s)
if [[ $build == 0 ]]; then
  commit=$("${engine[@]}" run --rm "${limits[@]}" vigil:latest --version | sed -n 's/.*commit: \([^,]*\),.*/\1/p')
  [[ -n "$commit" ]] || fail "no vigil:latest image to check (run without --no-build)"
else
"${engine[@]}" build "${limits[@]}" --network=host -t vigil:latest --build-arg "DEBIAN=$base" \
  --build-arg "VIGIL_COMMIT=$commit" . >/tmp/vigil-image-build.log 2>&1 ||
  { tail -30 /tmp/vigil-image-build.log; fail "the image did not build (log: /tmp/vigil-image-build.log)"; }
echo "ok: built vigil:latest in $(( $(date +%s) - start )) s"
fi
echo "image: vigil:latest, $("${engine[@]}" image inspect -f '{{.Size}}' vigil:latest | awk '{printf "%.0f MB", $1/1e6}')"

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() {  # URL SECONDS
  for _ in $(seq $(($2 * 4))); do
    if [[ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" == 200 ]]; then return 0; fi
    sleep 0.25
  done
  return 1
}
names=()
cleanup() { for n in "${names[@]}"; do "${engine[@]}" rm -f -v "$n" >/dev/null 2>&1 || true; done; }
trap cleanup EXIT

version=$("${engine[@]}" run --rm "${limits[@]}" vigil:latest --version)
[[ "$version" == *"commit: $commit"* ]] || fail "the image's vigil says '$version', not commit $commit"
echo "ok: $version"

# The image's own command (the packaged /etc/vigil), as the vigil user, on
# 127.0.0.1 only (host network: nothing is published beyond this machine).
port=$(free_port)
name=vigil-image-check-$$
names+=("$name")
"${engine[@]}" run -d --name "$name" --network=host "${limits[@]}" vigil:latest run \
  --config.file=/etc/vigil/prometheus.yml --alertmanager.config=/etc/vigil/alertmanager.yml \
  --storage.path=/var/lib/vigil --web.listen-address="127.0.0.1:$port" >/dev/null
wait_for "http://127.0.0.1:$port/-/ready" 30 || { "${engine[@]}" logs "$name" | tail; fail "the container did not become ready"; }
user=$("${engine[@]}" exec "$name" id -un)
[[ "$user" == vigil ]] || fail "the container runs as $user, not vigil"
groups=$(curl -s "http://127.0.0.1:$port/api/v1/rules" | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"]["groups"]))')
[[ "$groups" -ge 1 ]] || fail "the image's configuration loaded no rule group"
echo "ok: the container runs as $user, answers /-/ready on 127.0.0.1:$port and loaded $groups rule groups"
"${engine[@]}" rm -f -v "$name" >/dev/null

[[ $compose == 1 ]] || exit 0

# examples/compose: Prometheus 3 evaluating rules and sending alerts to vigil.
if command -v docker >/dev/null && docker compose version >/dev/null 2>&1 && [[ "${engine[0]}" == docker ]]; then
  compose_cmd=(docker compose)
elif command -v podman-compose >/dev/null; then
  compose_cmd=(podman-compose)
  [[ ${#engine[@]} -gt 1 ]] && compose_cmd+=(--podman-args "${engine[*]:1}")
  compose_cmd+=(--podman-run-args "${limits[*]}")
else
  skip "no compose (docker compose or podman-compose) to run examples/compose"
fi
prometheus_image=quay.io/prometheus/prometheus:v3.5.0
if ! "${engine[@]}" image inspect "$prometheus_image" >/dev/null 2>&1 &&
   ! "${engine[@]}" pull -q "$prometheus_image" >/dev/null 2>&1; then
  peer=/opt/vigil-peers/usr/bin/prometheus
  [[ -x "$peer" ]] || skip "cannot pull $prometheus_image and no $peer (scripts/install-peers.sh)"
  prometheus_image=localhost/vigil-prometheus:local
  "${engine[@]}" rmi -f "$prometheus_image" >/dev/null 2>&1 || true
  ctx=$(mktemp -d)
  cp "$peer" "$ctx/prometheus"
  printf 'FROM %s\nCOPY prometheus /bin/prometheus\nRUN mkdir /prometheus && chown nobody /prometheus\nUSER nobody\nWORKDIR /prometheus\nENTRYPOINT ["/bin/prometheus"]\n' "$base" >"$ctx/Dockerfile"
  "${engine[@]}" build -q "${limits[@]}" -t "$prometheus_image" "$ctx" >/dev/null
  rm -rf "$ctx"
  echo "prometheus: the registry is unreachable; $prometheus_image holds $($peer --version 2>&1 | head -1)"
fi
vport=$(free_port)
pport=$(free_port)
project=vigilcheck$$
export VIGIL_IMAGE=vigil:latest PROMETHEUS_IMAGE=$prometheus_image VIGIL_PORT=$vport PROMETHEUS_PORT=$pport
compose_down() { (cd examples/compose && "${compose_cmd[@]}" -p "$project" down -v >/dev/null 2>&1) || true; }
trap 'compose_down; cleanup' EXIT
(cd examples/compose && "${compose_cmd[@]}" -p "$project" up -d >/tmp/vigil-compose.log 2>&1) ||
  { tail -20 /tmp/vigil-compose.log; fail "compose up failed (log: /tmp/vigil-compose.log)"; }
wait_for "http://127.0.0.1:$vport/-/ready" 60 || fail "vigil in compose did not become ready"
wait_for "http://127.0.0.1:$pport/-/ready" 60 || fail "Prometheus in compose did not become ready"
found=""
for _ in $(seq 120); do
  found=$(curl -s "http://127.0.0.1:$vport/api/v2/alerts?filter=alertname%3D%22VigilScraped%22" |
    /usr/bin/python3 -c 'import json,sys; a=json.load(sys.stdin); print(a[0]["generatorURL"] if a else "")')
  [[ -n "$found" ]] && break
  sleep 0.5
done
[[ -n "$found" ]] || fail "Prometheus' alert VigilScraped did not reach vigil within 60 s"
echo "ok: compose: Prometheus ($prometheus_image) sent VigilScraped to vigil (generatorURL $found)"
