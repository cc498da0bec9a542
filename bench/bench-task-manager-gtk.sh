#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Responsiveness of a GTK 4 application using the task manager: runs
# examples/task-manager-gtk under Xvfb, once processing COUNT numbers through
# a ConcurryTaskManager (progress bar bound to "fraction", list view of the
# finished tasks), once doing the same work on a plain GThreadPool without
# concurry (the control), and prints the worst delay of a 16 ms main-loop
# timer in each. Goal: concurry adds at most 10 ms to the control's worst
# delay. Then it takes a screenshot of a small run into doc/task-manager.png.
#
#   bench/bench-task-manager-gtk.sh [BUILD_DIR] [COUNT]
#
# Needs xvfb-run and ImageMagick's import (scripts/install-deps installs them).
set -eu

build=${1:-build}
count=${2:-100000}
app="$build/examples/task-manager-gtk"
top=$(cd "$(dirname "$0")/.." && pwd)
export GSK_RENDERER=cairo GDK_BACKEND=x11 NO_AT_BRIDGE=1

run() {
  xvfb-run -a -s "-screen 0 480x420x24" "$app" "$@" 2>/dev/null
}

worst() {
  sed -n 's/.*over \([0-9]*\) ticks: \([0-9.]*\) ms/\2/p'
}

control=$(run --bench --control --count "$count" | tee /dev/stderr | worst)
concurry=$(run --bench --count "$count" | tee /dev/stderr | worst)
awk -v a="$concurry" -v b="$control" 'BEGIN {
  printf "task manager adds %.1f ms to the worst 16 ms timer delay (%.1f ms vs %.1f ms)   goal <= 10 ms\n", a - b, a, b }'

run --test --count 300 --screenshot "$top/doc/task-manager.png" >/dev/null
echo "screenshot: doc/task-manager.png"
