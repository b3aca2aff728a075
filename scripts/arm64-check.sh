#!/usr/bin/env bash
# arm64-check.sh — the arm64 binary, run under qemu-user, gives the same
# label masks as this machine's binary: the shared fixture and the embedded
# default model, on the native engine and on the classic TFLite 2.17.1 C
# runtime (its aarch64 build); with ARM64_LITERT=1 (make's default) also on
# LiteRT's CPU accelerator (the aarch64 libLiteRt.so of the same wheel),
# which needs qemu ≥ 8: under bookworm's 7.2 the guest reads the host's x86
# /proc/cpuinfo and LiteRtCreateCompiledModel dies of SIGSEGV in XNNPACK's
# CPU probe (scripts/fetch-qemu.sh). Tiny models and a few scenes, so it
# stays short.
#
# Usage: scripts/arm64-check.sh HOST_BIN ARM64_BIN HOST_TFLITE_LIB ARM64_TFLITE_LIB [HOST_LITERT_LIB ARM64_LITERT_LIB]
# Environment: QEMU_AARCH64 (default qemu-aarch64), ARM64_SYSROOT (default
# /usr/aarch64-linux-gnu), FIXTURE (default ../shared/fixtures/groupvit-tiny),
# MIN_AGREE (default 0.995: the share of mask pixels a runtime's arm64 run
# must share with amd64's; the native engine must match exactly),
# ARM64_LITERT=1 to add the LiteRT rows (qemu ≥ 8 only).
set -euo pipefail
[ $# -ge 4 ] || { echo "usage: $0 HOST_BIN ARM64_BIN HOST_TFLITE_LIB ARM64_TFLITE_LIB [HOST_LITERT_LIB ARM64_LITERT_LIB]" >&2; exit 2; }
host="$1" arm="$2" hosttfl="$3" armtfl="$4" hostlrt="${5:-}" armlrt="${6:-}"
qemu="${QEMU_AARCH64:-qemu-aarch64}"
sysroot="${ARM64_SYSROOT:-/usr/aarch64-linux-gnu}"
fixture="${FIXTURE:-../shared/fixtures/groupvit-tiny}"
MIN_AGREE="${MIN_AGREE:-0.995}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A private label cache, so both binaries encode the labels themselves.
export GROUPVIT_CACHE="$work/cache"

say() { echo "arm64-check: $*" >&2; }
arm64() { "$qemu" -L "$sysroot" "$arm" "$@"; }

"$qemu" -L "$sysroot" "$arm" version >/dev/null 2>&1 || "$qemu" -L "$sysroot" "$arm" --help >/dev/null 2>&1 ||
	{ say "the arm64 binary does not start under $qemu -L $sysroot"; exit 1; }

mkdir -p "$work/in-fixture" "$work/in-default"
cp "$fixture/image.png" "$work/in-fixture/"
cp testdata/scenes/scene_00.png "$work/in-default/"
go build -o "$work/maskcmp" ./scripts/maskcmp
"$host" export --checkpoint "$fixture" --precision fp32 -o "$work/fixture.tflite" >/dev/null 2>&1
"$host" export --precision fp32 -o "$work/default.tflite" >/dev/null 2>&1

fixture_labels="person,dog,car,tree,sky,road"
default_labels="circle,square,triangle,star,cross,heart"
fail=0
# check NAME MODEL LABELS INPUT HOST-LIB-ARGS ARM64-LIB-ARGS ENGINE-ARGS...:
# both binaries, masks compared byte for byte.
check() {
	local name="$1" model="$2" labels="$3" input="$4" hostargs="$5" armargs="$6"
	shift 6
	# shellcheck disable=SC2086 # the library arguments are two words or none
	"$host" run --model "$model" --labels "$labels" --input "$input" --out "$work/amd64-$name" "$@" $hostargs >/dev/null 2>"$work/amd64-$name.log" ||
		{ say "$name: amd64 run failed"; cat "$work/amd64-$name.log" >&2; fail=1; return; }
	# shellcheck disable=SC2086
	arm64 run --model "$model" --labels "$labels" --input "$input" --out "$work/arm64-$name" "$@" $armargs >/dev/null 2>"$work/arm64-$name.log" ||
		{ say "$name: arm64 run under qemu failed"; cat "$work/arm64-$name.log" >&2; fail=1; return; }
	# The masks must be equal; a float kernel of the other architecture may
	# still settle a near-tie differently, which MIN_AGREE (the share of
	# equal pixels) tolerates for the runtimes, never for the native engine.
	local n=0 m agree min="$MIN_AGREE"
	case "$name" in *-native) min=1 ;; esac
	for m in "$work/amd64-$name"/*.mask.png; do
		n=$((n + 1))
		agree="$("$work/maskcmp" -min "$min" "$m" "$work/arm64-$name/$(basename "$m")")" ||
			{ say "$name: $(basename "$m"): only ${agree:-?} of the pixels equal between amd64 and arm64 (want ≥ $min)"; fail=1; continue; }
		say "$name: $(basename "$m"): $agree of the pixels equal between amd64 and arm64"
	done
	[ "$n" -gt 0 ] || { say "$name: no masks written"; fail=1; }
}
for m in fixture default; do
	eval "labels=\$${m}_labels"
	check "$m-native" "$work/$m.tflite" "$labels" "$work/in-$m" "" "" --engine native
	check "$m-tflite" "$work/$m.tflite" "$labels" "$work/in-$m" "--tflite-lib $hosttfl" "--tflite-lib $armtfl" \
		--engine tflite --runtime tflite --accelerator cpu --threads 1
	if [ "${ARM64_LITERT:-0}" = 1 ] && [ -n "$armlrt" ]; then
		check "$m-litert" "$work/$m.tflite" "$labels" "$work/in-$m" "--litert-lib $hostlrt" "--litert-lib $armlrt" \
			--engine tflite --runtime litert --accelerator cpu --threads 1
	fi
done
exit "$fail"
