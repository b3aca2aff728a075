#!/usr/bin/env bash
# fetch-qemu.sh — a qemu-aarch64 new enough for LiteRT, into a cache folder,
# without touching the machine's apt configuration.
#
# Why: bookworm's qemu-user 7.2 hands the guest the host's /proc/cpuinfo (x86
# lines). LiteRT's CPU accelerator (XNNPACK, through cpuinfo) parses it as an
# Arm one, finds no Arm processors and writes out of bounds: SIGSEGV inside
# LiteRtCreateCompiledModel (gdb-multiarch on qemu -g: a store in
# libLiteRt.so+0x58a1c4, reached from LiteRtCreateCompiledModel). The same
# binary runs under 7.2 once /proc/cpuinfo holds Arm lines (bind-mounted),
# and under bookworm-backports' qemu-user 10.0.2, which writes an Arm
# /proc/cpuinfo for its aarch64 guests itself. Every -cpu model fails alike
# under 7.2, so it is not a missing instruction.
#
# The package comes from bookworm-backports through apt-get download with a
# private source list and list folder (apt still checks it against the
# archive's signed index); only its static qemu-aarch64 is kept.
#
# Usage: scripts/fetch-qemu.sh DIR   (writes DIR/qemu-aarch64)
set -euo pipefail
dir="${1:?usage: $0 DIR}"
suite="${QEMU_SUITE:-bookworm-backports}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
say() { echo "fetch-qemu: $*" >&2; }
if [ -x "$dir/qemu-aarch64" ]; then exit 0; fi
command -v apt-get >/dev/null || { say "apt-get missing: install qemu-user ≥ 8 by hand and set QEMU_AARCH64"; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/deb"
echo "deb $mirror $suite main" >"$work/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o APT::Get::List-Cleanup=0)
mkdir -p "$work/cache/archives/partial"
apt-get "${apt_opts[@]}" update >"$work/update.log" 2>&1 ||
	{ cat "$work/update.log" >&2; say "apt-get update of $suite failed"; exit 1; }
(cd "$work/deb" && apt-get "${apt_opts[@]}" download qemu-user >"$work/download.log" 2>&1) ||
	{ cat "$work/download.log" >&2; say "downloading qemu-user from $suite failed"; exit 1; }
deb="$(ls "$work"/deb/qemu-user_*.deb)"
dpkg-deb -x "$deb" "$work/x"
ver="$("$work/x/usr/bin/qemu-aarch64" --version | head -n 1)"
case "$ver" in
*"version "[0-7].*) say "$suite has only $ver; LiteRT needs a newer one"; exit 1 ;;
esac
mkdir -p "$dir"
install -m 755 "$work/x/usr/bin/qemu-aarch64" "$dir/qemu-aarch64.tmp"
mv "$dir/qemu-aarch64.tmp" "$dir/qemu-aarch64"
say "$ver ready in $dir"
