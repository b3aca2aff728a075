#!/usr/bin/env bash
# fetch-tflite.sh — put a prebuilt TensorFlow Lite C runtime (2.17.1) into a
# cache folder and print the path of libtensorflowlite_c.so.
#
# No distribution package ships libtensorflowlite_c.so, but the PyPI wheel
# pymicro-wakeword==2.5.0 carries one for linux x86_64 and aarch64, plus four
# small int8 .tflite models that the infer/tflite tests run. The wheel is
# fetched with pip (an ordinary registry client), checked against pinned
# SHA-256 sums, and only the library and the models are kept.
#
# Usage: scripts/fetch-tflite.sh [--dir DIR] [--arch x86_64|aarch64]
#
# Environment:
#   GROUPVIT_TFLITE_CACHE  cache folder (default:
#                          ${XDG_CACHE_HOME:-$HOME/.cache}/groupvit-edge/tflite-2.17.1)
#   TFLITE_ARCH            target architecture (default: uname -m)
#   PYTHON                 python interpreter with pip (default: python3)
#
# Running it again is cheap: when the library is already there and verifies,
# nothing is downloaded. stdout carries only the library path, so callers can
# write LIB=$(scripts/fetch-tflite.sh).
set -euo pipefail

readonly WHEEL_PROJECT=pymicro-wakeword
readonly WHEEL_VERSION=2.5.0
readonly TFLITE_VERSION=2.17.1
readonly LIB_NAME=libtensorflowlite_c.so

die() {
	echo "fetch-tflite: $*" >&2
	exit 1
}
say() { echo "fetch-tflite: $*" >&2; }

dir="${GROUPVIT_TFLITE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/groupvit-edge/tflite-${TFLITE_VERSION}}"
arch="${TFLITE_ARCH:-$(uname -m)}"
python="${PYTHON:-python3}"

while [ $# -gt 0 ]; do
	case "$1" in
	--dir)
		[ $# -ge 2 ] || die "--dir needs a folder"
		dir="$2"
		shift 2
		;;
	--arch)
		[ $# -ge 2 ] || die "--arch needs x86_64 or aarch64"
		arch="$2"
		shift 2
		;;
	-h | --help)
		awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
		exit 0
		;;
	*) die "unknown argument $1 (see --help)" ;;
	esac
done

# The wheel's sha256 is pinned per architecture: pip checks the index's hash,
# but pinning here also protects against a re-uploaded file under the same
# version. The ELF machine name is what readelf prints for that target.
case "$arch" in
x86_64 | amd64)
	arch=x86_64
	wheel_sha256=3869f536402b1254e3be3549d3a462ecd6ed21ce2c3e77ec8eb501c3c700417c
	elf_machine='X86-64'
	;;
aarch64 | arm64)
	arch=aarch64
	wheel_sha256=6c75b77c936efd19b8c35a094cb7e3fdbd4ebcd0f63635a0851ce591990829f2
	elf_machine='AArch64'
	;;
*) die "no prebuilt TFLite ${TFLITE_VERSION} for architecture '$arch' (the ${WHEEL_PROJECT} wheel has x86_64 and aarch64); build libtensorflowlite_c.so from TensorFlow sources and pass it with --tflite-lib" ;;
esac
readonly wheel_name="pymicro_wakeword-${WHEEL_VERSION}-py3-none-manylinux_2_35_${arch}.whl"

# Symbols the Go binding cannot work without; a library that lacks them is
# the wrong build even if it loads.
readonly required_symbols=(
	TfLiteVersion TfLiteModelCreateWithErrorReporter TfLiteInterpreterCreate
	TfLiteInterpreterInvoke TfLiteTensorCopyToBuffer TfLiteXNNPackDelegateCreate
)

# verify_lib FILE: the file is a shared object for the target machine and
# (when binutils is there to tell) exports the symbols we bind.
verify_lib() {
	local f="$1"
	[ -s "$f" ] || return 1
	[ "$(head -c 4 "$f" | od -An -c | tr -d ' \n')" = '177ELF' ] || {
		say "$f is not an ELF file"
		return 1
	}
	if command -v readelf >/dev/null 2>&1; then
		readelf -h "$f" | grep -q "Machine:.*${elf_machine}" || {
			say "$f is not built for ${arch}"
			return 1
		}
	fi
	if command -v nm >/dev/null 2>&1; then
		local syms s
		syms="$(nm -D --defined-only "$f" 2>/dev/null)" || return 1
		for s in "${required_symbols[@]}"; do
			grep -q " T ${s}\(@\|$\)" <<<"$syms" || {
				say "$f does not export $s"
				return 1
			}
		done
	fi
	return 0
}

lib="$dir/$LIB_NAME"
if [ -f "$lib" ] && verify_lib "$lib"; then
	echo "$lib"
	exit 0
fi

command -v "$python" >/dev/null 2>&1 || die "$python not found; it is needed (with pip) to download the ${WHEEL_PROJECT} wheel"
"$python" -m pip --version >/dev/null 2>&1 || die "pip is not available for $python; install python3-pip"

mkdir -p "$dir"
# Work in a private folder inside the cache so that a half-done run never
# leaves a partial library where Open() would find it, and the final rename
# stays on one file system.
work="$(mktemp -d "$dir/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT

say "downloading ${WHEEL_PROJECT}==${WHEEL_VERSION} (${arch}) from PyPI"
"$python" -m pip download --quiet --no-deps --only-binary=:all: \
	--platform "manylinux_2_35_${arch}" --python-version 3.11 \
	--dest "$work" "${WHEEL_PROJECT}==${WHEEL_VERSION}" >&2 ||
	die "pip download of ${WHEEL_PROJECT}==${WHEEL_VERSION} failed (is PyPI reachable?)"

wheel="$work/$wheel_name"
[ -f "$wheel" ] || die "pip did not produce $wheel_name"
got="$(sha256sum "$wheel" | cut -d' ' -f1)"
[ "$got" = "$wheel_sha256" ] || die "$wheel_name has sha256 $got, expected $wheel_sha256"

# Extract with Python's zipfile (unzip is often missing on boards) and check
# each extracted file against the sha256 the wheel's RECORD lists for it.
"$python" - "$wheel" "$work/out" "$WHEEL_VERSION" <<'PY' || die "could not extract the library from $wheel_name"
import base64, hashlib, os, sys, zipfile

wheel, out, version = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(out, exist_ok=True)
with zipfile.ZipFile(wheel) as z:
    record = z.read(f"pymicro_wakeword-{version}.dist-info/RECORD").decode()
    sums = {}
    for line in record.splitlines():
        parts = line.rsplit(",", 2)
        if len(parts) == 3 and parts[1].startswith("sha256="):
            sums[parts[0]] = parts[1][len("sha256="):]
    wanted = ["pymicro_wakeword/lib/libtensorflowlite_c.so"] + [
        n for n in z.namelist()
        if n.startswith("pymicro_wakeword/models/") and n.endswith(".tflite")
    ]
    for name in wanted:
        data = z.read(name)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        if sums.get(name) != digest:
            sys.exit(f"{name}: sha256 does not match the wheel's RECORD")
        with open(os.path.join(out, os.path.basename(name)), "wb") as f:
            f.write(data)
        print(f"fetch-tflite: extracted {os.path.basename(name)} ({len(data)} bytes)", file=sys.stderr)
PY

verify_lib "$work/out/$LIB_NAME" || die "the extracted $LIB_NAME failed verification"

for f in "$work"/out/*.tflite; do
	mv -f "$f" "$dir/"
done
mv -f "$work/out/$LIB_NAME" "$lib"
say "TensorFlow Lite C ${TFLITE_VERSION} ready"
echo "$lib"
