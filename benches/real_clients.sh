#!/usr/bin/env bash
# Real clients against the example servers, interleaved, medians in a table.
#
#   benches/real_clients.sh            # ROUNDS=3 by default
#   ROUNDS=5 benches/real_clients.sh
#
# - redis-benchmark -q -t ping,set,get -c 50 -n 200000 against mini_redis on
#   corio, its tokio twin (benches/examples/mini_redis_tokio.rs) and redis-server
#   itself (no persistence);
# - wrk -t2 -c64 -d10s against http (hyper on corio) and its hyper-on-tokio twin;
# - the `fanout` client (FANOUT_N connections, 64 at a time, one echo each)
#   against echo on corio and its tokio twin: connections/s.
#
# Besides requests/s, which the other processes on a busy machine disturb, the
# script reports the server's own CPU time per request (utime + stime from
# /proc), a steadier measure of how much work each runtime does per request.
#
# Every round runs every server once, one at a time, each started fresh and
# killed after its client; the order alternates between rounds so that neither
# side always runs first. The table shows per-test medians over the rounds.
# Installs wrk, redis-tools and redis-server with apt-get when missing. Loopback
# only; every client run is bounded by `timeout`.
#
# Environment: ROUNDS (3), REQUESTS (200000), CLIENTS (50), WRK_DURATION (10s),
# WRK_CONNECTIONS (64), WRK_THREADS (2), FANOUT_N (5000), OUT_DIR (raw logs; a temp dir),
# CARGO_TARGET_DIR (as cargo uses it).
set -euo pipefail

ROUNDS=${ROUNDS:-3}
REQUESTS=${REQUESTS:-200000}
CLIENTS=${CLIENTS:-50}
WRK_DURATION=${WRK_DURATION:-10s}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-64}
WRK_THREADS=${WRK_THREADS:-2}
FANOUT_N=${FANOUT_N:-5000}
OUT_DIR=${OUT_DIR:-$(mktemp -d -t corio-real-clients.XXXXXX)}

PORT_REDIS_CORIO=16380
PORT_REDIS_TOKIO=16381
PORT_REDIS_REAL=16379
PORT_HTTP_CORIO=17780
PORT_HTTP_TOKIO=17781
PORT_ECHO_CORIO=17700
PORT_ECHO_TOKIO=17701

cd "$(dirname "$0")/.."
mkdir -p "$OUT_DIR"

# --- tools -------------------------------------------------------------------

install_tools() {
    local missing=()
    command -v wrk >/dev/null || missing+=(wrk)
    command -v redis-benchmark >/dev/null || missing+=(redis-tools)
    command -v redis-server >/dev/null || missing+=(redis-server)
    [ ${#missing[@]} -eq 0 ] && return
    local sudo=()
    [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    echo "installing ${missing[*]} with apt-get" >&2
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
}

install_tools
for tool in wrk redis-benchmark redis-server timeout; do
    command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done

# --- build -------------------------------------------------------------------

echo "building the servers (release)" >&2
cargo build --release --quiet -p corio-examples --bin mini_redis --bin http --bin echo --bin fanout
cargo build --release --quiet -p corio-benches --example mini_redis_tokio --example http_tokio \
    --example echo_tokio
TARGET=${CARGO_TARGET_DIR:-target}/release

declare -A START_CMD=(
    [redis_corio]="$TARGET/mini_redis 127.0.0.1:$PORT_REDIS_CORIO"
    [redis_tokio]="$TARGET/examples/mini_redis_tokio 127.0.0.1:$PORT_REDIS_TOKIO"
    [redis_real]="redis-server --port $PORT_REDIS_REAL --bind 127.0.0.1 --save '' --appendonly no --daemonize no --logfile ''"
    [http_corio]="$TARGET/http 127.0.0.1:$PORT_HTTP_CORIO"
    [http_tokio]="$TARGET/examples/http_tokio 127.0.0.1:$PORT_HTTP_TOKIO"
    [echo_corio]="$TARGET/echo 127.0.0.1:$PORT_ECHO_CORIO"
    [echo_tokio]="$TARGET/examples/echo_tokio 127.0.0.1:$PORT_ECHO_TOKIO"
)
declare -A PORT=(
    [redis_corio]=$PORT_REDIS_CORIO [redis_tokio]=$PORT_REDIS_TOKIO [redis_real]=$PORT_REDIS_REAL
    [http_corio]=$PORT_HTTP_CORIO [http_tokio]=$PORT_HTTP_TOKIO
    [echo_corio]=$PORT_ECHO_CORIO [echo_tokio]=$PORT_ECHO_TOKIO
)

# --- server lifecycle --------------------------------------------------------

SERVER_PID=
stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}
trap stop_server EXIT
trap 'exit 130' INT TERM

CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# Microseconds of server CPU per request, from ticks before/after and a count.
cpu_per_request() {
    awk -v a="$1" -v b="$2" -v n="$3" -v hz="$CLK_TCK" \
        'BEGIN { if (n > 0) printf "%.2f", (b - a) * 1e6 / hz / n; else print 0 }'
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_server() {
    local name=$1 port=${PORT[$1]}
    if port_open "$port"; then
        echo "port $port is already taken; stop whatever listens there" >&2
        exit 1
    fi
    eval "exec ${START_CMD[$name]}" >"$OUT_DIR/$name.server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 200); do # up to 10 s
        port_open "$port" && return
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "$name did not start listening on $port; see $OUT_DIR/$name.server.log" >&2
    exit 1
}

# --- clients -----------------------------------------------------------------

declare -A RESULTS # "server|test" -> space-separated requests/s, one per round
record() { RESULTS["$1|$2"]="${RESULTS["$1|$2"]:-} $3"; }

run_redis() {
    local name=$1 round=$2 log="$OUT_DIR/$1.round$2.redis-benchmark.log"
    start_server "$name"
    local cpu0 cpu1
    cpu0=$(cpu_ticks "$SERVER_PID")
    timeout 300 redis-benchmark -h 127.0.0.1 -p "${PORT[$name]}" -q -t ping,set,get \
        -c "$CLIENTS" -n "$REQUESTS" >"$log" 2>&1 || echo "redis-benchmark failed on $name" >&2
    cpu1=$(cpu_ticks "$SERVER_PID")
    stop_server
    if grep -qiE 'error|could not' "$log"; then
        echo "warning: redis-benchmark reported errors against $name (see $log)" >&2
    fi
    # -q prints progress with \r; the final "TEST: N requests per second" lines count.
    while read -r test rps; do
        record "$name" "$test" "$rps"
        printf '  round %s %-12s %-12s %12s req/s\n' "$round" "$name" "$test" "$rps" >&2
    done < <(tr '\r' '\n' <"$log" | awk '/requests per second/ { sub(":", "", $1); print $1, $2 }')
    local tests
    tests=$(tr '\r' '\n' <"$log" | grep -c 'requests per second' || true)
    record "$name" CPU "$(cpu_per_request "$cpu0" "$cpu1" $((tests * REQUESTS)))"
}

run_wrk() {
    local name=$1 round=$2 log="$OUT_DIR/$1.round$2.wrk.log"
    start_server "$name"
    local cpu0 cpu1
    cpu0=$(cpu_ticks "$SERVER_PID")
    timeout 120 wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$WRK_DURATION" \
        "http://127.0.0.1:${PORT[$name]}/" >"$log" 2>&1 || echo "wrk failed on $name" >&2
    cpu1=$(cpu_ticks "$SERVER_PID")
    stop_server
    if grep -qE 'Socket errors|Non-2xx' "$log"; then
        echo "warning: wrk reported errors against $name (see $log)" >&2
    fi
    local rps
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$log")
    record "$name" HTTP "${rps:-0}"
    local requests
    requests=$(awk '/requests in/ { print $1 }' "$log")
    record "$name" CPU "$(cpu_per_request "$cpu0" "$cpu1" "${requests:-0}")"
    printf '  round %s %-12s %-12s %12s req/s\n' "$round" "$name" HTTP "${rps:-0}" >&2
}

run_fanout() {
    local name=$1 round=$2 log="$OUT_DIR/$1.round$2.fanout.log"
    start_server "$name"
    timeout 120 "$TARGET/fanout" "127.0.0.1:${PORT[$name]}" -n "$FANOUT_N" -c 64 >"$log" 2>&1 ||
        echo "fanout failed on $name (see $log)" >&2
    stop_server
    local rate
    rate=$(sed -n 's/.*(\([0-9.]*\) connections\/s).*/\1/p' "$log")
    record "$name" FANOUT "${rate:-0}"
    printf '  round %s %-12s %-12s %12s conn/s\n' "$round" "$name" FANOUT "${rate:-0}" >&2
}

echo "running $ROUNDS rounds; raw logs in $OUT_DIR" >&2
for round in $(seq 1 "$ROUNDS"); do
    if [ $((round % 2)) -eq 1 ]; then
        redis_order=(redis_corio redis_tokio redis_real)
        http_order=(http_corio http_tokio)
        echo_order=(echo_corio echo_tokio)
    else
        redis_order=(redis_real redis_tokio redis_corio)
        http_order=(http_tokio http_corio)
        echo_order=(echo_tokio echo_corio)
    fi
    for name in "${redis_order[@]}"; do run_redis "$name" "$round"; done
    for name in "${http_order[@]}"; do run_wrk "$name" "$round"; done
    for name in "${echo_order[@]}"; do run_fanout "$name" "$round"; done
done

# --- table -------------------------------------------------------------------

median() { tr ' ' '\n' | awk 'NF' | sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
fmt() { awk -v v="$1" 'BEGIN { printf "%.0f", v }'; }

echo
echo "Medians of $ROUNDS interleaved rounds, requests/s ($(nproc) cores, loopback)."
echo "redis-benchmark -q -t ping,set,get -c $CLIENTS -n $REQUESTS; wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d$WRK_DURATION;"
echo "fanout -n $FANOUT_N -c 64 (corio client) against echo: new connections/s, one 64-byte echo each."
echo
echo "| test | corio | tokio twin | redis-server | corio/tokio | corio/redis |"
echo "|---|---:|---:|---:|---:|---:|"
for test in PING_INLINE PING_MBULK SET GET; do
    c=$(echo "${RESULTS["redis_corio|$test"]:-}" | median)
    t=$(echo "${RESULTS["redis_tokio|$test"]:-}" | median)
    r=$(echo "${RESULTS["redis_real|$test"]:-}" | median)
    echo "| redis $test | $(fmt "$c") | $(fmt "$t") | $(fmt "$r") | $(ratio "$c" "$t") | $(ratio "$c" "$r") |"
done
c=$(echo "${RESULTS["http_corio|HTTP"]:-}" | median)
t=$(echo "${RESULTS["http_tokio|HTTP"]:-}" | median)
echo "| http (hyper) GET / | $(fmt "$c") | $(fmt "$t") | - | $(ratio "$c" "$t") | - |"
c=$(echo "${RESULTS["echo_corio|FANOUT"]:-}" | median)
t=$(echo "${RESULTS["echo_tokio|FANOUT"]:-}" | median)
echo "| echo, fanout conn/s | $(fmt "$c") | $(fmt "$t") | - | $(ratio "$c" "$t") | - |"

echo
echo "Server CPU time per request (user + system, microseconds; median; lower is better)."
echo
echo "| server | corio | tokio twin | redis-server | corio/tokio |"
echo "|---|---:|---:|---:|---:|"
c=$(echo "${RESULTS["redis_corio|CPU"]:-}" | median)
t=$(echo "${RESULTS["redis_tokio|CPU"]:-}" | median)
r=$(echo "${RESULTS["redis_real|CPU"]:-}" | median)
echo "| mini_redis (redis-benchmark) | $c | $t | $r | $(ratio "$c" "$t") |"
c=$(echo "${RESULTS["http_corio|CPU"]:-}" | median)
t=$(echo "${RESULTS["http_tokio|CPU"]:-}" | median)
echo "| http (wrk) | $c | $t | - | $(ratio "$c" "$t") |"

# Paired view: within a round both servers ran minutes apart under the same
# machine load, so the per-round ratio cancels slow drift that the ratio of
# medians keeps. Median, range, and how many rounds corio matched or beat tokio.
paired() { # corio-list tokio-list -> "median min max wins/rounds"
    awk -v a="$1" -v b="$2" 'BEGIN {
        n = split(a, x, " "); m = split(b, y, " "); if (m < n) n = m; k = 0; w = 0
        for (i = 1; i <= n; i++) if (y[i] > 0) { r[++k] = x[i] / y[i]; if (x[i] >= y[i]) w++ }
        if (k == 0) { print "| n/a | | | |"; exit }
        for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
        med = (k % 2) ? r[(k + 1) / 2] : (r[k / 2] + r[k / 2 + 1]) / 2
        printf "| %.2f | %.2f | %.2f | %d/%d |", med, r[1], r[k], w, k }'
}
echo
echo "corio/tokio per round (each round runs both; higher is better for corio)."
echo
echo "| test | median | lowest | highest | rounds corio >= tokio |"
echo "|---|---:|---:|---:|---:|"
for test in PING_INLINE PING_MBULK SET GET; do
    echo "| redis $test $(paired "${RESULTS["redis_corio|$test"]:-}" "${RESULTS["redis_tokio|$test"]:-}")"
done
echo "| http (hyper) $(paired "${RESULTS["http_corio|HTTP"]:-}" "${RESULTS["http_tokio|HTTP"]:-}")"
echo "| echo, fanout $(paired "${RESULTS["echo_corio|FANOUT"]:-}" "${RESULTS["echo_tokio|FANOUT"]:-}")"
