#!/usr/bin/env bash
# HTTP throughput of `ml-engine serve`: wrk against GET /health on loopback, keep-alive, 32
# connections for 10 s, beside the figure llama.cpp's server gave for the same command on this
# kind of machine. Usage: bench/server_bench.sh [BUILD_DIR]
#
# With two or more cores the server runs on the first core and wrk on the others (taskset), so
# the two never take turns on one core: shared cores put the scheduler's time slices into the
# latency tail. Set MLE_BENCH_PIN=0 to let them share every core. The share of CPU time the
# hypervisor took (steal) during the run is printed: on a virtual machine it, not the server,
# can decide the tail.
set -uo pipefail
BUILD_DIR=${1:-build}
ENGINE="$(cd "$BUILD_DIR/bin" 2>/dev/null && pwd)/ml-engine"
PEER_RPS=38300  # llama.cpp server, same wrk command, measured before on this kind of machine
TARGET_RPS=50000
TARGET_P99_MS=5
WRK_ARGS=(-t2 -c32 -d10s --latency)
PIN=${MLE_BENCH_PIN:-1}

die() { echo "server_bench: $*" >&2; exit 1; }
[[ -x "$ENGINE" ]] || die "no ml-engine at $BUILD_DIR/bin (build first)"
command -v wrk >/dev/null || die "wrk not found (Debian package wrk; scripts/setup.sh installs it)"

cores=$(nproc)
server_pin=()
wrk_pin=()
io_threads=()
if [[ "$PIN" != 0 && $cores -ge 2 ]] && command -v taskset >/dev/null; then
  server_pin=(taskset -c 0)
  wrk_pin=(taskset -c "1-$((cores - 1))")
  io_threads=(--io-threads 1)
  layout="server on core 0 (1 I/O thread), wrk on cores 1-$((cores - 1))"
else
  layout="server and wrk share all $cores cores"
fi

# Steal: CPU time the hypervisor gave to other guests, as a share of all CPU time (/proc/stat).
cpu_times() { awk '$1 == "cpu" { t = 0; for (i = 2; i <= 9; ++i) t += $i; print t, $9 }' /proc/stat; }

dir=$(mktemp -d /tmp/mle-bench-server-XXXXXX)
pid=""
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free loopback port (a few tries: another process may take it before the server binds).
for _ in 1 2 3; do
  port=$(python3 -c \
    'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # No keys, loopback only; its own cwd so nothing lands in the checkout; MLE_* unset so a
  # developer's environment cannot change what is measured.
  (cd "$dir" && for v in $(compgen -e | grep '^MLE_'); do unset "$v"; done &&
     exec "${server_pin[@]}" "$ENGINE" serve --host 127.0.0.1 --port "$port" "${io_threads[@]}" \
       >"$dir/serve.out" 2>"$dir/serve.err") &
  pid=$!
  for _ in $(seq 1 200); do
    curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
    break
  fi
  kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid"; wait "$pid" 2>/dev/null; }
  pid=""
done
if [[ -z "$pid" ]]; then
  cat "$dir/serve.err" >&2
  die "ml-engine serve did not become ready"
fi

echo "ml-engine serve on 127.0.0.1:$port: $layout"
echo "wrk ${WRK_ARGS[*]} http://127.0.0.1:$port/health"
read -r total0 steal0 < <(cpu_times)
"${wrk_pin[@]}" wrk "${WRK_ARGS[@]}" "http://127.0.0.1:$port/health" >"$dir/wrk.txt" 2>&1
wrk_rc=$?
read -r total1 steal1 < <(cpu_times)
steal_pct=$(awk -v t=$((total1 - total0)) -v s=$((steal1 - steal0)) \
  'BEGIN { printf "%.1f", (t > 0 ? 100 * s / t : 0) }')
sed 's/^/  | /' "$dir/wrk.txt"
[[ $wrk_rc -eq 0 ]] || die "wrk failed (exit code $wrk_rc)"

# wrk prints latencies as 812.00us, 1.23ms or 1.01s; convert to ms.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    printf "%.3f", n }'
}
rps=$(awk '/^Requests\/sec:/ {print $2}' "$dir/wrk.txt")
p50=$(awk '$1 == "50%" {print $2}' "$dir/wrk.txt")
p99=$(awk '$1 == "99%" {print $2}' "$dir/wrk.txt")
[[ -n "$rps" && -n "$p50" && -n "$p99" ]] || die "could not read req/s and latencies from wrk"
p50_ms=$(to_ms "$p50")
p99_ms=$(to_ms "$p99")
status=0
if grep -q "Non-2xx or 3xx responses" "$dir/wrk.txt"; then
  echo "server_bench: error: some answers were not 2xx (see above)" >&2
  status=1
fi

# Stop as a user would; a clean exit is part of the run.
kill -TERM "$pid"
wait "$pid"
serve_rc=$?
pid=""
if [[ $serve_rc -ne 0 ]]; then
  echo "server_bench: error: ml-engine serve exited with $serve_rc on SIGTERM" >&2
  status=1
fi

met=$(awk -v r="$rps" -v p="$p99_ms" -v tr="$TARGET_RPS" -v tp="$TARGET_P99_MS" \
  'BEGIN { print (r >= tr && p < tp) ? "yes" : "no" }')
printf '\n%-34s %12s %10s %10s\n' "GET /health, wrk -t2 -c32 -d10s" "req/s" "p50 ms" "p99 ms"
printf '%-34s %12.0f %10.3f %10.3f\n' "ml-engine serve" "$rps" "$p50_ms" "$p99_ms"
printf '%-34s %12s\n' "llama.cpp server (measured before)" "38,300"
printf 'ratio ml-engine / llama.cpp: %.2fx   target: >= 50,000 req/s and p99 < 5 ms: %s\n' \
  "$(awk -v r="$rps" -v p="$PEER_RPS" 'BEGIN { print r / p }')" "$met"
printf 'hypervisor steal during the run: %s%% of CPU time%s\n' "$steal_pct" \
  "$(awk -v s="$steal_pct" 'BEGIN { if (s >= 5) print " (a busy host: the tail says more about it than about the server)" }')"
exit $status
