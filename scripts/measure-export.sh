#!/bin/sh
# Time and peak memory of converting the released checkpoint, measured on
# its architecture (gcc-yfcc) with random weights in the 2022 layout the hub
# folder has: init-model --layout 2022, then export at fp32/fp16/int8 and at
# 224/448 px, each under /usr/bin/time -v. Usage:
#   scripts/measure-export.sh [BINARY] [WORKDIR]
# Prints one line per step: wall time, CPU time (user + system, the fairer
# number on a shared machine), peak RSS, then the file size.
set -eu
bin=${1:-./groupvit}
work=${2:-$(mktemp -d)}
mkdir -p "$work"
ck="$work/groupvit-gcc-yfcc-2022"
step() {
	name=$1
	shift
	/usr/bin/time -v "$@" 2>"$work/$name.time" >/dev/null || { cat "$work/$name.time" >&2; exit 1; }
	wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/$name.time")
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/$name.time")
	user=$(sed -n 's/.*User time (seconds): //p' "$work/$name.time")
	sys=$(sed -n 's/.*System time (seconds): //p' "$work/$name.time")
	cpu=$(echo "$user $sys" | awk '{printf "%.1f", $1 + $2}')
	printf '%-16s wall %8s  CPU %6ss  peak RSS %6d MB\n' "$name" "$wall" "$cpu" $((rss / 1024))
}
step init-2022 "$bin" init-model --config gcc-yfcc --layout 2022 --seed 1 --out "$ck"
du -m "$ck/pytorch_model.bin" | awk '{printf "pytorch_model.bin: %d MB\n", $1}'
for size in 224 448; do
	for p in fp32 fp16 int8; do
		step "export-$p-$size" "$bin" export --checkpoint "$ck" --precision "$p" --size "$size" -o "$work/gcc-yfcc-$p-$size.tflite"
		du -m "$work/gcc-yfcc-$p-$size.tflite" | awk '{printf "  file: %d MB\n", $1}'
	done
done
