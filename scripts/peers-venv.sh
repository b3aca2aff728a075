#!/bin/sh
# Builds the peers venv that `make bench` times our model against (make
# peers-venv): PyTorch (eager), onnxruntime and Google's LiteRT Python runtime,
# pinned with hashes in scripts/peers-requirements.txt, outside the repo.
# Never part of CI's install: the bench skips the peers, with a note, without it.
#
#   scripts/peers-venv.sh VENV_DIR
#
# PyPI's torch for Linux x86_64 is the CUDA build, whose nvidia-* wheels
# (cuBLAS, cuDNN, NCCL, ...) are ~4 GB installed. torch is installed with
# --no-deps instead, its pure-Python dependencies pinned beside it, and the
# CUDA libraries it links are replaced by stubs (scripts/cuda_stubs.py; needs
# cc and readelf), so `import torch` works and runs on the CPU with its own
# MKL and oneDNN. The venv is built in VENV_DIR.partial and renamed when it
# has passed its checks, so a half-built one is never used.
set -eu

die() { echo "peers-venv: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 VENV_DIR"
venv=$1
here=$(cd "$(dirname "$0")" && pwd)
py=${PEERS_PYTHON:-python3.11}

[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] ||
	die "the pinned wheels are for Linux x86_64; this is $(uname -s)-$(uname -m)"
command -v "$py" >/dev/null 2>&1 ||
	die "$py not found: the pinned wheels (ai-edge-litert 2.3.0, torch) are for CPython 3.11 (Debian 12: apt-get install python3 python3-venv; or PEERS_PYTHON=/path/to/python3.11)"
"$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' ||
	die "$py is Python $("$py" -c 'import platform; print(platform.python_version())'), not 3.11: set PEERS_PYTHON to a Python 3.11"
for tool in cc readelf; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found: the CUDA stubs need it (apt-get install gcc binutils)"
done

rm -rf "$venv.partial"
mkdir -p "$(dirname "$venv")"
"$py" -m venv "$venv.partial" || die "$py -m venv failed (Debian: apt-get install python3-venv)"
"$venv.partial/bin/python" -m pip install --quiet --no-deps --require-hashes --only-binary=:all: \
	-r "$here/peers-requirements.txt"
"$venv.partial/bin/python" "$here/cuda_stubs.py" "$venv.partial/lib/python3.11/site-packages/torch/lib"

# The checks: torch imports without CUDA and multiplies matrices with MKL;
# the other runtimes import.
"$venv.partial/bin/python" - <<'EOF'
import time

import ai_edge_litert.interpreter  # noqa: F401
import onnx
import onnxruntime
import torch

assert not torch.cuda.is_available(), "the stubbed torch claims a GPU"
assert torch.backends.mkl.is_available() and torch.backends.mkldnn.is_available(), "torch without MKL/oneDNN"
torch.set_num_threads(1)
a, b = torch.randn(512, 512), torch.randn(512, 512)
a @ b
t0, n = time.perf_counter(), 20
for _ in range(n):
    a @ b
gflops = 2 * 512**3 * n / (time.perf_counter() - t0) / 1e9
print(f"peers-venv: torch {torch.__version__} (CPU; MKL, oneDNN), onnxruntime {onnxruntime.__version__}, "
      f"onnx {onnx.__version__}; a 512x512 matmul on 1 thread: {gflops:.1f} GFLOP/s")
EOF

rm -rf "$venv"
mv "$venv.partial" "$venv"
echo "peers-venv: $venv ($(du -sh "$venv" | cut -f1) installed)"
