# Shared definitions for lab/up, lab/status and lab/down. Sourced, not run.
# shellcheck shell=bash disable=SC2034

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$LAB_DIR/.." && pwd)
STATE=/var/lib/bgrun-lab
LOG=$STATE/log
RUN=$STATE/run
SSHD=$STATE/sshd
KEY=$STATE/ssh/id_ed25519
KNOWN_HOSTS=$STATE/ssh/known_hosts
AUTH_KEYS=$STATE/ssh/authorized_keys

REGISTRY_ADDR=127.0.0.2:5000
REGISTRY=$REGISTRY_ADDR
CONSUL_ADDR=127.0.0.3
CONSUL_URL=http://$CONSUL_ADDR:8500
NGINX_URL=http://127.0.0.3:80
HAPROXY_URL=http://127.0.0.3:8081
CONSUL_VERSION=1.8.7
LABEL=org.bgrun.lab

# The two hosts of the book, then the benchmark hosts h10, h11, ...
CORE_HOSTS=(cd prod)
declare -A HOST_ADDR=([cd]=127.0.0.2 [prod]=127.0.0.3)

export PATH="$PATH:/usr/sbin:/sbin:$HOME/.cargo/bin"
export DEBIAN_FRONTEND=noninteractive

say() { printf 'lab: %s\n' "$*"; }
warn() { printf 'lab: %s\n' "$*" >&2; }
die() { printf 'lab: ERROR: %s\n' "$*" >&2; exit 1; }

need_root() { [ "$(id -u)" = 0 ] || die "must run as root"; }

# Serialise lab/up and lab/down between concurrent callers.
lab_lock() {
  mkdir -p "$STATE"
  exec 9>"$STATE/.lock"
  if ! flock -n 9; then
    say "waiting for another lab/up or lab/down to finish"
    flock -w 900 9 || die "could not take $STATE/.lock"
  fi
}

# Benchmark host names recorded by the last `lab/up --hosts N`.
bench_count() { cat "$STATE/bench-hosts" 2>/dev/null || echo 0; }
bench_hosts() {
  local n i
  n=$(bench_count)
  for ((i = 0; i < n; i++)); do echo "h$((10 + i))"; done
}
host_addr() {
  local h=$1
  if [ -n "${HOST_ADDR[$h]:-}" ]; then echo "${HOST_ADDR[$h]}"; else echo "127.0.0.${h#h}"; fi
}
all_hosts() { printf '%s\n' "${CORE_HOSTS[@]}"; bench_hosts; }
lab_mode() { cat "$STATE/mode" 2>/dev/null || echo full; }

# pid_alive PIDFILE NAME: the process in PIDFILE runs and its command is NAME.
pid_alive() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] || return 1
  # A zombie does not count.
  ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null
}

# stop_pid PIDFILE NAME [SECONDS]: TERM, wait up to SECONDS (10), then KILL.
stop_pid() {
  local pid i
  if pid_alive "$1" "$2"; then
    pid=$(cat "$1")
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < ${3:-10} * 10; i++)); do
      pid_alive "$1" "$2" || break
      sleep 0.1
    done
    if pid_alive "$1" "$2"; then kill -9 "$pid" 2>/dev/null || true; sleep 0.2; fi
  fi
  rm -f "$1"
}

ssh_ok() {
  timeout 10 ssh -i "$KEY" -o UserKnownHostsFile="$KNOWN_HOSTS" -o StrictHostKeyChecking=yes \
    -o BatchMode=yes -o ConnectTimeout=3 -o ControlMaster=no -o ControlPath=none \
    "root@$1" true >/dev/null 2>&1
}

http_code() { curl -s -o /dev/null -m 3 -w '%{http_code}' "$@" 2>/dev/null || true; }

registry_ok() { [ "$(http_code "http://$REGISTRY_ADDR/v2/")" = 200 ]; }
consul_ok() {
  local l
  l=$(curl -sf -m 3 "$CONSUL_URL/v1/status/leader" 2>/dev/null) || return 1
  [ -n "$l" ] && [ "$l" != '""' ]
}
nginx_container_running() {
  [ "$(docker inspect -f '{{.State.Running}}' nginx 2>/dev/null)" = true ]
}
nginx_ok() {
  local c
  nginx_container_running || return 1
  c=$(http_code "$NGINX_URL/")
  [ -n "$c" ] && [ "$c" != 000 ]
}
haproxy_container_running() {
  [ "$(docker inspect -f '{{.State.Running}}' haproxy 2>/dev/null)" = true ]
}
haproxy_ok() {
  local c
  haproxy_container_running || return 1
  c=$(http_code "$HAPROXY_URL/")
  [ -n "$c" ] && [ "$c" != 000 ]
}
elapsed() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }
