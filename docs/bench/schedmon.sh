#!/bin/bash
# samples the ternstream-scheduler thread's schedstat every 0.5 s: run% wait% of wall
out=${1:-/tmp/schedmon.log}; : > $out
prev_r=0; prev_w=0; prev_t=0; tid=""
while true; do
  if [ -z "$tid" ] || [ ! -e /proc/$pid/task/$tid ]; then
    tid=""; for p in $(pgrep java); do for t in /proc/$p/task/*; do [ "$(cat $t/comm 2>/dev/null)" = "ternstream-sche" ] && { pid=$p; tid=${t##*/}; }; done; done
    prev_t=0
  fi
  if [ -n "$tid" ]; then
    read r w n < /proc/$pid/task/$tid/schedstat
    t=$(date +%s%N)
    if [ $prev_t -gt 0 ]; then
      dt=$((t-prev_t)); echo "$(date +%T.%N | cut -c1-10) run $(( (r-prev_r)*100/dt ))% wait $(( (w-prev_w)*100/dt ))% $(cut -d' ' -f1 /proc/loadavg)" >> $out
    fi
    prev_r=$r; prev_w=$w; prev_t=$t
  fi
  sleep 0.5
done
