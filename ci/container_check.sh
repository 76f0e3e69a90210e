#!/usr/bin/env bash
# Builds the harness image from this checkout's Dockerfile with podman, on a Debian bookworm base
# made here with debootstrap (no container registry is needed), runs topologies/tiny.yaml in it with
# a host directory mounted at /results, and checks the results. Idempotent: the base image and the
# image's layers are cached, so a rerun on an unchanged checkout takes seconds.
#
#   sudo bash ci/container_check.sh
#   bash ci/container_check.sh --print-mirror     # only say which Debian mirror debootstrap would use
#
# Needs root (apt-get, rootful podman) and a Debian package mirror: the bookworm mirror of this
# machine's apt configuration, or DEBIAN_MIRROR; with neither it stops (no mirror host is built in).
# Settings (environment):
#   CONTAINER_CHECK_DIR  state: containers.conf, logs, results   (/var/tmp/space-xnet-container)
#   BASE_IMAGE_LOCAL     name of the debootstrap base image        (localhost/bookworm-minbase)
#   IMAGE                name of the harness image                 (localhost/space-xnet-harness:check)
#   DEBIAN_MIRROR        mirror for debootstrap                    (apt's bookworm mirror)
#   APT_ETC              where apt's sources are read               (/etc/apt)
#   CA_BUNDLE            CA bundle that pip in the build trusts    (/etc/ssl/certs/ca-certificates.crt)
#                        passed as a build secret, never stored in the image; empty: none
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${CONTAINER_CHECK_DIR:-/var/tmp/space-xnet-container}
BASE=${BASE_IMAGE_LOCAL:-localhost/bookworm-minbase}
IMAGE=${IMAGE:-localhost/space-xnet-harness:check}
CA_BUNDLE=${CA_BUNDLE-/etc/ssl/certs/ca-certificates.crt}
APT_ETC=${APT_ETC:-/etc/apt}
SUITE=bookworm
TOKENS=16  # tiny.yaml: 2 requests of 8 tokens, one strategy

log() { printf '[container-check] %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }
now_ms() { date +%s%3N; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'; }

# The Debian mirror for debootstrap: DEBIAN_MIRROR, else apt's bookworm source (deb822 stanzas in
# sources.list.d/*.sources, then one-line entries). No host is built in: with neither, stop.
debian_mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
  local found
  # deb822 stanzas (sources.list.d/*.sources), then one-line entries (sources.list, *.list).
  found=$(cat "$APT_ETC"/sources.list.d/*.sources 2>/dev/null | awk -v suite="$SUITE" '
    BEGIN { RS = ""; FS = "\n" }
    { types = ""; uris = ""; suites = ""
      for (i = 1; i <= NF; i++) {
        if ($i ~ /^Types:/)  { types = " " substr($i, 7) " " }
        if ($i ~ /^URIs:/)   { uris = substr($i, 6) }
        if ($i ~ /^Suites:/) { suites = " " substr($i, 8) " " }
      }
      gsub(/[ \t]+/, " ", types); gsub(/[ \t]+/, " ", suites)
      if (types ~ / deb / && suites ~ (" " suite " ") && uris != "") { split(uris, u, " "); print u[1]; exit }
    }')
  if [ -z "$found" ]; then
    found=$(cat "$APT_ETC"/sources.list "$APT_ETC"/sources.list.d/*.list 2>/dev/null | awk -v suite="$SUITE" '
      $1 == "deb" { i = 2; if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
                    if ($(i + 1) == suite) { print $i; exit } }')
  fi
  if [ -z "$found" ]; then
    log "FAIL: no Debian mirror for debootstrap: set DEBIAN_MIRROR to a Debian mirror's URL (apt's sources in $APT_ETC have no '$SUITE' deb entry)"
    return 1
  fi
  echo "$found"
}

if [ "${1:-}" = --print-mirror ]; then
  debian_mirror || exit 1
  exit 0
fi
[ $# -eq 0 ] || die "unknown argument '$1': the only option is --print-mirror"

[ "$(id -u)" -eq 0 ] || die "run as root: it installs packages with apt-get and runs rootful podman"
[ -f "$REPO/Dockerfile" ] || die "no Dockerfile in $REPO"
mkdir -p "$STATE"
exec 9>"$STATE/lock"
flock -n 9 || die "another container check holds $STATE/lock"
start_all=$(now_ms)

# 1. Tools, from Debian's packages.
missing=()
for tool in podman debootstrap runc; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman debootstrap runc >"$STATE/apt.log" 2>&1 \
    || { tail -20 "$STATE/apt.log" >&2; die "apt-get install failed (see $STATE/apt.log)"; }
fi

# 2. podman's settings: runc (crun fails on a cgroup v1 host without systemd), cgroupfs, and
#    container ulimits no higher than this host's hard limits (podman's defaults are refused).
clamp() { if [ "$2" = unlimited ] || [ "$2" -ge "$1" ]; then echo "$1"; else echo "$2"; fi; }
nofile=$(clamp 20000 "$(ulimit -Hn)")
nproc=$(clamp 32768 "$(ulimit -Hu)")
sed -e "s/nofile=[0-9]*:[0-9]*/nofile=$nofile:$nofile/" -e "s/nproc=[0-9]*:[0-9]*/nproc=$nproc:$nproc/" \
  "$REPO/ci/containers.conf" >"$STATE/containers.conf"
export CONTAINERS_CONF="$STATE/containers.conf"

# 3. The base image: a minimal Debian bookworm from the mirror apt uses (no registry needed).
base_note="cached"
if podman image exists "$BASE"; then
  log "base image $BASE exists: skipping debootstrap"
else
  mirror=$(debian_mirror) || exit 1
  rootfs=$(mktemp -d "$STATE/rootfs.XXXXXX")
  trap 'rm -rf "$rootfs"' EXIT
  log "debootstrap --variant=minbase $SUITE from $mirror"
  t0=$(now_ms)
  debootstrap --variant=minbase "$SUITE" "$rootfs" "$mirror" >"$STATE/debootstrap.log" 2>&1 \
    || { tail -20 "$STATE/debootstrap.log" >&2; die "debootstrap failed (see $STATE/debootstrap.log)"; }
  t1=$(now_ms)
  tar -C "$rootfs" -c . | podman import --quiet - "$BASE" >/dev/null || die "podman import failed"
  t2=$(now_ms)
  rm -rf "$rootfs"
  trap - EXIT
  base_note="built: debootstrap $(secs $((t1 - t0))) s, import $(secs $((t2 - t1))) s"
fi

# 4. The harness image, from this checkout (.dockerignore keeps .git, .venv, results, builds out).
#    The host's CA bundle reaches pip as a build secret only (for a TLS-intercepting proxy).
#    The host's pip configuration (extra indexes, find-links) is not seen by the build: pip in
#    the image installs from PyPI.
build_args=(--pull=never --layers -f "$REPO/Dockerfile" -t "$IMAGE" --build-arg "BASE_IMAGE=$BASE")
if [ -n "$CA_BUNDLE" ]; then
  [ -s "$CA_BUNDLE" ] || die "CA_BUNDLE=$CA_BUNDLE is not a file (set CA_BUNDLE= for none)"
  build_args+=(--secret "id=ca,src=$CA_BUNDLE")
fi
previous=$(podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
log "building $IMAGE from $REPO (log: $STATE/build.log)"
t0=$(now_ms)
podman build "${build_args[@]}" "$REPO" >"$STATE/build.log" 2>&1 \
  || { tail -40 "$STATE/build.log" >&2; die "podman build failed (see $STATE/build.log)"; }
build_ms=$(( $(now_ms) - t0 ))
current=$(podman image inspect --format '{{.Id}}' "$IMAGE")
if [ -n "$previous" ] && [ "$previous" != "$current" ]; then
  podman rmi "$previous" >/dev/null 2>&1 || true  # our own superseded image, if nothing uses it
fi
size=$(podman image inspect --format '{{.Size}}' "$IMAGE")

# 5. tiny.yaml in the image, results in a mounted host directory, no network. It runs the installed
#    package's console script from outside the image's checkout (/opt/space-xnet), and must not
#    compile: the image holds the module's build.
out="$STATE/results-tiny"
rm -rf "$out"
mkdir -p "$out"
log "running topologies/tiny.yaml in $IMAGE (results: $out)"
t0=$(now_ms)
podman run --rm --network none -v "$out:/results" -w /tmp "$IMAGE" \
  space-xnet run /opt/space-xnet/topologies/tiny.yaml --out /results >"$STATE/run.log" 2>&1 \
  || { tail -30 "$STATE/run.log" >&2; die "the tiny run failed in the container (see $STATE/run.log)"; }
run_ms=$(( $(now_ms) - t0 ))
! grep -q "compiling the ns-3 module" "$STATE/run.log" \
  || die "the run in the container compiled the ns-3 module: the image's build does not match (see $STATE/run.log)"
where=$(podman run --rm --network none -w /tmp "$IMAGE" python -c "import harness; print(harness.__file__)") \
  || die "the harness does not import in the container"
case "$where" in
  /opt/venv/*) ;;
  *) die "the container imports the harness from $where, not the venv's installed package" ;;
esac

# 6. The trace: tokens.csv's header and one row per token, summary.json's counts.
podman run --rm -i --network none -v "$out:/results:ro" -e TOKENS="$TOKENS" "$IMAGE" python - <<'EOF' \
  || die "the results in $out are not as expected"
import csv, json, os, sys
want = int(os.environ["TOKENS"])
problems = []
with open("/results/tokens.csv", newline="") as f:
    rows = list(csv.reader(f))
header, body = (rows[0], rows[1:]) if rows else ([], [])
columns = ["strategy", "request", "token", "t_start_ns", "t_end_ns", "latency_ns"]
if header[:len(columns)] != columns:
    problems.append(f"tokens.csv header {header} does not start with {columns}")
if len(body) != want:
    problems.append(f"tokens.csv has {len(body)} token rows, not {want}")
elif "latency_ns" in header:
    lost = [r for r in body if r[header.index("latency_ns")] == "-1"]
    if lost:
        problems.append(f"{len(lost)} token rows did not complete (latency_ns -1)")
with open("/results/summary.json") as f:
    strategies = json.load(f).get("strategies", {})
if not strategies:
    problems.append("summary.json has no strategies")
for name, s in strategies.items():
    if s.get("tokens") != want or s.get("completed") != want:
        problems.append(f"summary.json: {name}: {s.get('completed')} of {s.get('tokens')} tokens completed, "
                        f"not {want} of {want}")
for p in problems:
    print("check:", p, file=sys.stderr)
if problems:
    sys.exit(1)
print(f"check: tokens.csv has the header and {want} token rows; summary.json: "
      + ", ".join(f"{n} {s['completed']}/{s['tokens']} completed" for n, s in strategies.items()))
EOF

total_ms=$(( $(now_ms) - start_all ))
echo "container check passed"
echo "  base image  $BASE ($base_note)"
echo "  image build $(secs "$build_ms") s  ($IMAGE)"
echo "  image size  $(awk -v b="$size" 'BEGIN { printf "%.0f MB", b / 1e6 }')"
echo "  tiny run    $(secs "$run_ms") s  (container start to exit; harness from $where)"
echo "  total       $(secs "$total_ms") s"
