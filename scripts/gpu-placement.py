#!/usr/bin/env python3
"""gpu-placement.py — which ops of an exported .tflite the LiteRT GPU accelerator takes.

Asks Google's LiteRT runtime itself (the ai-edge-litert wheel's Python API),
not a hand-kept op list. For every signature of the file (groupvit-edge
exports have "image" and "text") it writes a copy of the model that holds
only that signature's subgraph, then compiles it twice in child processes:

  GPU|CPU   the runtime logs how many ops the GPU accelerator took and which
            ops it refused, with its reason ("GATHER: Only support 1D
            indices"); this is what a user of --delegate auto gets;
  GPU       a GPU-only compile, which succeeds only when every op is on the
            GPU: the proof behind "all on GPU".

It refuses to report anything when the GPU accelerator is not registered or
no Vulkan/WebGPU adapter was found, because a GPU|CPU compile then succeeds
silently on the CPU.

Usage:
  python scripts/gpu-placement.py [--swiftshader] [--json] [--run] MODEL.tflite...

  --swiftshader  when VK_ICD_FILENAMES is unset, use the SwiftShader Vulkan
                 that Debian's chromium package ships (a copy of its ICD json
                 with an absolute library path, in a temporary folder)
  --json         one JSON object per model on stdout instead of a table
  --run          also run each signature once on GPU|CPU and on the CPU with
                 the same inputs (a short token row inside the graph's
                 vocabulary, a fixed pseudo-random image) and print the
                 largest output difference: a GPU-only compile proves the
                 placement, not the numbers
  --verbose      print the runtime's log lines about placement

Needs a Python with ai-edge-litert (2.3.0 is what this was written against):
  python3.11 -m venv ~/litert-venv && ~/litert-venv/bin/pip install ai-edge-litert==2.3.0
  ~/litert-venv/bin/python scripts/gpu-placement.py --swiftshader model.tflite

Exit status: 0 when every signature compiled GPU-only, 1 when some op stays
on the CPU, 2 on a usage, runtime or device problem.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

CHROMIUM_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json"


def fail(msg):
    print("gpu-placement: " + msg, file=sys.stderr)
    sys.exit(2)


def schema():
    try:
        from ai_edge_litert import schema_py_generated as s  # pylint: disable=import-outside-toplevel
    except ImportError as e:
        fail(f"ai-edge-litert is not installed in {sys.executable} ({e}); see the usage in this file")
    return s


def op_names(s):
    return {v: k for k, v in vars(s.BuiltinOperator).items() if not k.startswith("_")}


def split(path, tmp):
    """Writes one single-subgraph model per signature; returns [(key, file, ops, vocab)]."""
    import flatbuffers  # pylint: disable=import-outside-toplevel

    s = schema()
    names = op_names(s)
    with open(path, "rb") as f:
        model = s.ModelT.InitFromPackedBuf(f.read(), 0)
    sigs = model.signatureDefs or []
    if not sigs:
        fail(f"{path}: the model has no signatures")
    out = []
    for sig in sigs:
        key = sig.signatureKey.decode() if isinstance(sig.signatureKey, bytes) else sig.signatureKey
        sg = model.subgraphs[sig.subgraphIndex]
        codes = model.operatorCodes
        ops = []
        vocab = None  # rows of the smallest table looked up: ids must stay below
        for op in sg.operators or []:
            c = codes[op.opcodeIndex]
            name = names.get(max(c.builtinCode, c.deprecatedBuiltinCode), str(c.builtinCode))
            ops.append(name)
            table = {"GATHER": 0, "EMBEDDING_LOOKUP": 1}.get(name)
            if table is not None:
                rows = int(sg.tensors[op.inputs[table]].shape[0])
                vocab = rows if vocab is None else min(vocab, rows)
        # Repack the same model object with only this subgraph; buffers are
        # shared, the other subgraph's constants just go unused.
        keep_sgs, keep_sigs, keep_idx = model.subgraphs, model.signatureDefs, sig.subgraphIndex
        model.subgraphs, model.signatureDefs, sig.subgraphIndex = [sg], [sig], 0
        b = flatbuffers.Builder(1 << 20)
        b.Finish(model.Pack(b), file_identifier=b"TFL3")
        file = os.path.join(tmp, f"{key}.tflite")
        with open(file, "wb") as f:
            f.write(b.Output())
        model.subgraphs, model.signatureDefs, sig.subgraphIndex = keep_sgs, keep_sigs, keep_idx
        out.append((key, file, ops, vocab))
    return out


# Runtime log lines (LiteRT 2.3.0, WebGPU accelerator).
RE_COUNT = re.compile(r"(\d+) operations will run on the GPU, and the remaining (\d+) operations will run on the CPU")
RE_REFUSED = re.compile(r"^([A-Z][A-Z0-9_]+): (.*)$")
RE_ADAPTER = re.compile(r"Selected adapter: (.*)")
RE_GPU_REGISTERED = re.compile(r"RegisterAccelerator: .*name=GPU")


def compile_child(file, accel):
    """Runs this script as a child that compiles file; returns (ok, log)."""
    p = subprocess.run([sys.executable, __file__, "--child-compile", accel, file],
                       capture_output=True, text=True, timeout=1800, check=False)
    return p.returncode == 0, p.stdout + p.stderr


def child_compile(accel, file):
    from ai_edge_litert.compiled_model import CompiledModel  # pylint: disable=import-outside-toplevel
    from ai_edge_litert.hardware_accelerator import HardwareAccelerator as HA  # pylint: disable=import-outside-toplevel

    acc = {"gpu": HA.GPU, "gpu|cpu": HA.GPU | HA.CPU}[accel]
    try:
        CompiledModel.from_file(file, hardware_accel=acc)
    except Exception as e:  # the runtime raises RuntimeError with its status
        print(f"compile failed: {e}", file=sys.stderr)
        sys.exit(1)
    print("compiled", file=sys.stderr)


def placement(key, file, ops, verbose):
    ok_mixed, log = compile_child(file, "gpu|cpu")
    if verbose:
        for line in log.splitlines():
            if "GPU" in line or "adapter" in line or RE_REFUSED.match(line):
                print(f"  [{key}] {line}", file=sys.stderr)
    if not RE_GPU_REGISTERED.search(log):
        fail("the runtime registered no GPU accelerator (is libLiteRtWebGpuAccelerator.so beside libLiteRt.so?)")
    if "No adapters found" in log or not RE_ADAPTER.search(log):
        fail("no Vulkan device for WebGPU (on a machine without a GPU pass --swiftshader); runtime said:\n"
             + "\n".join(l for l in log.splitlines() if "dapter" in l or "rror" in l))
    if not ok_mixed:
        fail(f"{key}: even the GPU|CPU compile failed:\n{log[-2000:]}")
    adapter = RE_ADAPTER.search(log).group(1)
    refused = {}
    in_list = False
    for line in log.splitlines():
        if "Following operations are not supported" in line:
            in_list = True
            continue
        m = RE_REFUSED.match(line)
        if in_list and m:
            refused[m.group(1)] = m.group(2).strip()
            continue
        in_list = False
    m = RE_COUNT.search(log)
    gpu, cpu = (int(m.group(1)), int(m.group(2))) if m else (len(ops), 0)
    ok_gpu, glog = compile_child(file, "gpu")
    reason = ""
    if not ok_gpu:
        fails = [l for l in glog.splitlines() if "compile failed" in l or "ERROR" in l]
        reason = fails[-1] if fails else glog.strip().splitlines()[-1]
    count = {}
    for o in ops:
        count[o] = count.get(o, 0) + 1
    return {
        "signature": key, "ops": len(ops), "gpu_ops": gpu, "cpu_ops": cpu,
        "refused": {op: {"count": count.get(op, 0), "reason": r} for op, r in refused.items()},
        "gpu_only_compile": ok_gpu, "gpu_only_error": reason, "adapter": adapter,
    }


def run_compare(key, file, vocab):
    p = subprocess.run([sys.executable, __file__, "--child-run", file, str(vocab or 0)], capture_output=True,
                       text=True, timeout=3600, check=False)
    res = [l for l in p.stdout.splitlines() if l.startswith("RESULT ")]
    if p.returncode != 0 or not res:
        err = [l for l in (p.stdout + p.stderr).splitlines() if "Error" in l or "error" in l]
        return "run failed: " + (err[-1] if err else f"exit status {p.returncode}")
    return res[-1][len("RESULT "):]


def child_run(file, vocab):
    import numpy as np  # pylint: disable=import-outside-toplevel
    from ai_edge_litert.compiled_model import CompiledModel  # pylint: disable=import-outside-toplevel
    from ai_edge_litert.hardware_accelerator import HardwareAccelerator as HA  # pylint: disable=import-outside-toplevel

    outs = {}
    for name, acc in (("gpu", HA.GPU | HA.CPU), ("cpu", HA.CPU)):
        m = CompiledModel.from_file(file, hardware_accel=acc)
        key, io = next(iter(m.get_signature_list().items()))
        ind, outd = m.get_input_tensor_details(key), m.get_output_tensor_details(key)
        # Buffers come in the signature's order.
        ins = m.create_input_buffers(0)
        rng = np.random.default_rng(1)
        for buf, iname in zip(ins, io["inputs"]):
            shape, dt = ind[iname]["shape"], np.dtype(ind[iname]["dtype"])
            if dt == np.int32:
                # start token, a few words, end token (the largest id): CLIP's
                # ids, or the same pattern inside a smaller vocabulary
                x = np.zeros(shape, np.int32)
                v = vocab or 49408
                row = [v - 2, 1, 2, 3, v - 1] if v < 49408 else [49406, 320, 1125, 539, 49407]
                x.flat[:len(row)] = row[: x.size]
            else:
                x = rng.standard_normal(shape).astype(dt)
            buf.write(x)
        outb = m.create_output_buffers(0)
        m.run_by_index(0, ins, outb)
        outs[name] = [(o, buf.read(int(np.prod(outd[o]["shape"])), np.dtype(outd[o]["dtype"])))
                      for buf, o in zip(outb, io["outputs"])]
    parts = [f"{n} {float(np.max(np.abs(g.astype(np.float64) - c))):.3g}"
             for (n, g), (_, c) in zip(outs["gpu"], outs["cpu"])]
    print("RESULT max|GPU-CPU|: " + ", ".join(parts))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--child-compile":
        child_compile(sys.argv[2], sys.argv[3])
        return
    if len(sys.argv) == 4 and sys.argv[1] == "--child-run":
        child_run(sys.argv[2], int(sys.argv[3]))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--swiftshader", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--run", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="gpu-placement-")
    if a.swiftshader and not os.environ.get("VK_ICD_FILENAMES"):
        if not os.path.exists(CHROMIUM_ICD):
            fail(f"--swiftshader: {CHROMIUM_ICD} not found (install Debian's chromium package)")
        with open(CHROMIUM_ICD) as f:
            icd = json.load(f)
        lib = icd["ICD"]["library_path"]
        icd["ICD"]["library_path"] = os.path.normpath(os.path.join(os.path.dirname(CHROMIUM_ICD), lib))
        os.environ["VK_ICD_FILENAMES"] = os.path.join(tmp, "vk_swiftshader_icd.json")
        with open(os.environ["VK_ICD_FILENAMES"], "w") as f:
            json.dump(icd, f)
    if not os.environ.get("XDG_RUNTIME_DIR"):
        os.environ["XDG_RUNTIME_DIR"] = tmp
    worst = 0
    for path in a.models:
        if not os.path.isfile(path):
            fail(f"{path}: no such file")
        sub = tempfile.mkdtemp(dir=tmp)
        rows = []
        for key, file, ops, vocab in split(path, sub):
            r = placement(key, file, ops, a.verbose)
            if a.run:
                r["gpu_vs_cpu"] = run_compare(key, file, vocab)
            rows.append(r)
            if not r["gpu_only_compile"]:
                worst = 1
        if a.json:
            print(json.dumps({"model": path, "signatures": rows}))
            continue
        print(f"{path} (adapter: {rows[0]['adapter']})")
        for r in rows:
            left = ", ".join(f"{op} ({v['count']} in the graph; {v['reason'] or 'no reason given'})"
                             for op, v in r["refused"].items()) or "-"
            only = "GPU-only compile OK" if r["gpu_only_compile"] else "GPU-only compile FAILS"
            print(f"  {r['signature']:6s} {r['gpu_ops']}/{r['ops']} ops on GPU; {only}; left on CPU: {left}")
            if r.get("gpu_vs_cpu"):
                print(f"         GPU|CPU vs CPU run, {r['gpu_vs_cpu']}")
    sys.exit(worst)


if __name__ == "__main__":
    main()
