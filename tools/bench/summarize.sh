#!/usr/bin/env bash
# Prints one line per run from the JSON files the load tool wrote (tools/bench/baseline.sh writes them to one folder).
# Usage: tools/bench/summarize.sh bench-results/<run>
set -euo pipefail
dir=${1:?usage: summarize.sh <folder of load-tool JSON files>}
printf '%-32s %9s %8s %9s %8s %8s %8s %9s %9s %7s %5s\n' run "ops/s" "cpu s" "µs/op" "p50 ms" "p95 ms" "p99 ms" "KB/conn" "join ms" "other s" conv
for f in "$dir"/*.json; do
  jq -r --arg name "$(basename "$f" .json)" '[
      $name,
      (.committedOpsPerSecond // null | if . == null then "-" else (. | floor | tostring) end),
      (.serverCpuSeconds // null | if . == null then "-" else (. * 100 | round / 100 | tostring) end),
      (.serverCpuUsPerCommittedOp // null | if . == null then "-" else (. | round | tostring) end),
      (.broadcastLatencyMs.p50 // null | if . == null then "-" else (. * 100 | round / 100 | tostring) end),
      (.broadcastLatencyMs.p95 // null | if . == null then "-" else (. * 100 | round / 100 | tostring) end),
      (.broadcastLatencyMs.p99 // null | if . == null then "-" else (. * 100 | round / 100 | tostring) end),
      (.serverRssKbPerConnection // null | if . == null then "-" else (. * 10 | round / 10 | tostring) end),
      (.joinMedianMs // null | if . == null then "-" else (. * 10 | round / 10 | tostring) end),
      (.otherProcessesCpuSeconds // null | if . == null then "-" else (. * 10 | round / 10 | tostring) end),
      (if .converged then "yes" else "NO" end)
    ] | @tsv' "$f" | awk -F'\t' '{ printf "%-32s %9s %8s %9s %8s %8s %8s %9s %9s %7s %5s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 }'
done
