#!/usr/bin/env bash
# fetch-litert.sh — put Google's LiteRT runtime (ai-edge-litert 2.3.0:
# libLiteRt.so and the WebGPU accelerator libLiteRtWebGpuAccelerator.so)
# into a cache folder and print the path of libLiteRt.so.
#
# The wheel is downloaded with pip, pinned by version and sha256 in
# mk/litert-requirements.txt (--require-hashes), for the target
# architecture only; the two libraries are extracted and checked against
# the wheel's RECORD. Nothing is written inside the repository.
#
# Usage: scripts/fetch-litert.sh [--dir DIR] [--arch x86_64|aarch64]
#
# Environment:
#   GROUPVIT_LITERT_CACHE  cache folder (default:
#                          ${XDG_CACHE_HOME:-$HOME/.cache}/groupvit-edge/litert-2.3.0)
#   LITERT_ARCH            target architecture (default: uname -m)
#   PYTHON                 python interpreter with pip (default: python3)
set -euo pipefail

readonly VERSION=2.3.0
readonly LIBS=(libLiteRt.so libLiteRtWebGpuAccelerator.so)
here="$(cd "$(dirname "$0")/.." && pwd)"
readonly REQS="$here/mk/litert-requirements.txt"

die() {
	echo "fetch-litert: $*" >&2
	exit 1
}
say() { echo "fetch-litert: $*" >&2; }

dir="${GROUPVIT_LITERT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/groupvit-edge/litert-${VERSION}}"
arch="${LITERT_ARCH:-$(uname -m)}"
python="${PYTHON:-python3}"
while [ $# -gt 0 ]; do
	case "$1" in
	--dir) dir="${2:?--dir needs a folder}"; shift 2 ;;
	--arch) arch="${2:?--arch needs x86_64 or aarch64}"; shift 2 ;;
	*) die "unknown argument $1 (usage: $0 [--dir DIR] [--arch x86_64|aarch64])" ;;
	esac
done
case "$arch" in
x86_64 | amd64) arch=x86_64 elf_machine='X86-64' ;;
aarch64 | arm64) arch=aarch64 elf_machine='AArch64' ;;
*) die "no LiteRT ${VERSION} wheel for '$arch' (PyPI has x86_64 and aarch64)" ;;
esac

# verify FILE: an ELF shared object for the target machine.
verify() {
	[ -s "$1" ] || return 1
	[ "$(head -c 4 "$1" | od -An -c | tr -d ' \n')" = '177ELF' ] || return 1
	if command -v readelf >/dev/null 2>&1; then
		readelf -h "$1" | grep -q "Machine:.*${elf_machine}" || { say "$1 is not built for ${arch}"; return 1; }
	fi
}

ok=1
for l in "${LIBS[@]}"; do verify "$dir/$l" || ok=0; done
if [ "$ok" = 1 ]; then
	echo "$dir/libLiteRt.so"
	exit 0
fi

"$python" -m pip --version >/dev/null 2>&1 || die "pip is not available for $python; install python3-pip"
mkdir -p "$dir"
work="$(mktemp -d "$dir/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT
say "downloading ai-edge-litert==${VERSION} (${arch}) from PyPI, hash-checked"
"$python" -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
	--platform "manylinux_2_27_${arch}" --python-version 3.11 \
	--dest "$work" -r "$REQS" >&2 || die "pip download of ai-edge-litert==${VERSION} failed (is PyPI reachable?)"
wheel="$(ls "$work"/ai_edge_litert-"${VERSION}"-*"${arch}".whl 2>/dev/null | head -1)"
[ -n "$wheel" ] || die "pip did not produce the ${arch} wheel"

"$python" - "$wheel" "$work/out" "${LIBS[@]}" <<'PY' || die "could not extract the libraries from $(basename "$wheel")"
import base64, hashlib, os, sys, zipfile

wheel, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
os.makedirs(out, exist_ok=True)
with zipfile.ZipFile(wheel) as z:
    record = next(n for n in z.namelist() if n.endswith(".dist-info/RECORD"))
    sums = {}
    for line in z.read(record).decode().splitlines():
        parts = line.rsplit(",", 2)
        if len(parts) == 3 and parts[1].startswith("sha256="):
            sums[parts[0]] = parts[1][len("sha256="):]
    for name in names:
        member = "ai_edge_litert/" + name
        data = z.read(member)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        if sums.get(member) != digest:
            sys.exit(f"{member}: sha256 does not match the wheel's RECORD")
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
PY
for l in "${LIBS[@]}"; do
	verify "$work/out/$l" || die "the extracted $l failed verification"
done
# The GPU accelerator first, so that a library found means both are there.
mv -f "$work/out/libLiteRtWebGpuAccelerator.so" "$dir/"
mv -f "$work/out/libLiteRt.so" "$dir/"
say "LiteRT ${VERSION} (${arch}) ready in $dir"
echo "$dir/libLiteRt.so"
