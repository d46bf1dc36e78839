#!/usr/bin/env bash
# Runs every figure of docs/benchmarks.md: each workload against a fresh server process (Release build, an empty data
# folder, the documented rate limits lifted), RUNS times. Writes one .txt (the table) and one .json per run to OUT and
# prints a summary at the end (tools/bench/summarize.sh). Usage: tools/bench/baseline.sh [workload…]
#   RUNS=2 OUT=bench-results/… PORT=5077 WARMUP=3 tools/bench/baseline.sh            # everything
#   tools/bench/baseline.sh w1 w3                                                    # some of: w1 w2 w3 w4 w5 cold prefill
set -uo pipefail
cd "$(dirname "$0")/../.."

RUNS=${RUNS:-2}
PORT=${PORT:-5077}
WARMUP=${WARMUP:-3}
OUT=${OUT:-bench-results/$(date -u +%Y%m%dT%H%M%SZ)}
URL=http://127.0.0.1:$PORT
mkdir -p "$OUT"
workloads=("$@")
[ ${#workloads[@]} -eq 0 ] && workloads=(w1 w2 w3 w4 w5 cold prefill)

dotnet build -c Release src/Collab.Web -v quiet -nologo >/dev/null
dotnet build -c Release src/Collab.LoadTest -v quiet -nologo >/dev/null
LOADTEST=(dotnet src/Collab.LoadTest/bin/Release/net10.0/Collab.LoadTest.dll --url "$URL")

# The peers have no rate limits, so Collab's documented ones (200 frames/s and 2 MiB of ops/s per session, 500 ops/s per
# document) are lifted.
UNLIMITED=(--Collab:FrontEnd:MessagesPerSecond 100000 --Collab:FrontEnd:MessageBurst 100000
           --Collab:FrontEnd:OpBytesPerSecond 1073741824 --Collab:FrontEnd:OpByteBurst 1073741824
           --Collab:Documents:OpsPerSecond 100000 --Collab:Documents:OpsBurst 100000
           --Collab:FrontEnd:JoinsPerSecond 100000 --Collab:FrontEnd:JoinBurst 100000
           --Collab:FrontEnd:ApiRequestsPerSecond 100000 --Collab:FrontEnd:ApiBurst 100000
           --Collab:FrontEnd:MaxSessions 1000000 --Collab:FrontEnd:MaxSessionsPerAddress 1000000)

pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null' EXIT
start_server() { # $1: data folder, $2: log name
  (cd src/Collab.Web && exec ./bin/Release/net10.0/Collab.Web --urls "$URL" --Collab:Storage:DataPath "$1" \
     "${UNLIMITED[@]}" --Logging:LogLevel:Default Warning) >"$OUT/$2.server.log" 2>&1 &
  pid=$!
}
wait_ready() { for _ in $(seq 600); do curl -sf "$URL/readyz" >/dev/null && return 0; sleep 0.1; done; echo "server not ready" >&2; exit 1; }
stop_server() { kill "$pid"; wait "$pid" 2>/dev/null || true; }
measure() { # $1: run name, then load tool arguments
  local name=$1; shift
  echo "== $name: ${*} (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
  "${LOADTEST[@]}" "$@" --server-pid "$pid" --json "$OUT/$name.json" | tee "$OUT/$name.txt" | sed -n '/^workload/,$p'
}
fresh() { # $1: run name, then load tool arguments: a new server on an empty folder, warmed up by the workload itself
  local name=$1 data; data=$(mktemp -d /tmp/collab-bench.XXXXXX)
  start_server "$data" "$name"; wait_ready
  measure "$@"
  stop_server; rm -rf "$data"
}

for run in $(seq "$RUNS"); do
  for w in "${workloads[@]}"; do
    case $w in
      w1|w2|w3) fresh "$w-$run" "$w" --warmup "$WARMUP" ;;
      w4) fresh "w4-$run" w4 --warmup "$WARMUP" ;;
      w5) fresh "w5-$run" w5 ;;
      cold) # The first edits right after the process starts: the tool waits for /readyz, then measures at once.
        data=$(mktemp -d /tmp/collab-bench.XXXXXX)
        start_server "$data" "cold-w2-$run"
        measure "cold-w2-$run" w2 --cold-start
        stop_server; rm -rf "$data" ;;
      prefill) # 74k ops in 566 earlier documents, then a fresh process opens that store and W3 runs twice on it.
        data=$(mktemp -d /tmp/collab-bench.XXXXXX)
        start_server "$data" "prefill-$run"; wait_ready
        measure "prefill-$run" prefill --prefill 74000 --prefill-documents 566
        stop_server
        du -sh "$data" | sed 's/^/store after prefill: /'
        start_server "$data" "w3-on-prefilled-$run"; wait_ready
        measure "w3-on-prefilled-first-$run" w3 --warmup "$WARMUP"
        measure "w3-on-prefilled-second-$run" w3 --warmup "$WARMUP"
        stop_server; rm -rf "$data"
        # The same, with the prefill written by the measuring server process itself (--prefill on the run).
        fresh "w3-prefill-same-process-$run" w3 --prefill 74000 --prefill-documents 566 --warmup "$WARMUP" ;;
      *) echo "unknown workload $w" >&2; exit 2 ;;
    esac
  done
done
tools/bench/summarize.sh "$OUT"
