#!/bin/bash
# CPU used per thread name, summed over every running Nimbus worker JVM started by `bench` (or any
# quarkus-run.jar that is not the bench itself), over an interval: percent of one core.
# Usage: bash docs/bench/thread-cpu.sh SECONDS   (e.g. during a bench cell: bench ... --seconds 90 &)
# This is how docs/PERFORMANCE.md found the JIT compiling 40 s into a load and SmallRye's timer thread.
set -euo pipefail
secs=${1:?usage: thread-cpu.sh SECONDS}
snap() {
  for p in $(pgrep -f 'quarkus-run.jar' || true); do
    args=$(tr '\0' ' ' < /proc/$p/cmdline 2>/dev/null) || continue
    case "$args" in *"quarkus-run.jar bench"*) continue ;; esac
    for t in /proc/$p/task/*; do
      stat=$(cat "$t/stat" 2>/dev/null) || continue
      name=$(sed 's/[0-9]*$//; s/ /_/g' "$t/comm" 2>/dev/null) || continue
      rest=${stat##*) }
      set -- $rest
      echo "$p $name ${12} ${13}"   # utime, stime in clock ticks
    done
  done
}
a=$(mktemp); b=$(mktemp); trap 'rm -f "$a" "$b"' EXIT
snap > "$a"; sleep "$secs"; snap > "$b"
hz=$(getconf CLK_TCK)
awk -v secs="$secs" -v hz="$hz" 'NR==FNR {a[$1" "$2]+=$3+$4; next} {b[$1" "$2]+=$3+$4}
  END {for (k in b) {split(k, x, " "); n[x[2]] += b[k] - a[k]}
       for (k in n) if (n[k] > 0) printf "%8.1f%% %s\n", 100 * n[k] / hz / secs, k}' "$a" "$b" | sort -rn
