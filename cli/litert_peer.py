"""Times a groupvit-edge .tflite file on LiteRT's own Python runtime.

`groupvit bench --python PYTHON` runs this (fed on stdin) as the peer of its
own LiteRT rows: the same file, the same thread count, the same number of
warm-up and timed runs, and prints the same JSON sample a bench child
prints. Inputs are random: the speed of a dense network does not depend on
the values.
"""
import argparse
import json
import resource
import time

import numpy as np


def vmhwm_bytes():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def timed(runs, warmup, fn):
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1e3)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--api", choices=["interpreter", "compiled"], default="interpreter")
    a = ap.parse_args()
    rng = np.random.default_rng(7)
    t0 = time.perf_counter()
    if a.api == "interpreter":
        from ai_edge_litert.interpreter import Interpreter
        it = Interpreter(model_path=a.model, num_threads=a.threads)
        img, txt = it.get_signature_runner("image"), it.get_signature_runner("text")
        pshape = img.get_input_details()["patches"]["shape"]
        ishape = txt.get_input_details()["input_ids"]["shape"]
        patches = rng.standard_normal(pshape).astype(np.float32)
        ids = np.zeros(ishape, np.int32)
        load = (time.perf_counter() - t0) * 1e3
        frame = timed(a.runs, a.warmup, lambda: img(patches=patches))
        text = timed(a.runs, a.warmup, lambda: txt(input_ids=ids))
        name = "ai_edge_litert.interpreter (XNNPACK, %d threads)" % a.threads
    else:
        from ai_edge_litert.compiled_model import CompiledModel
        from ai_edge_litert.cpu_options import CpuOptions
        from ai_edge_litert.hardware_accelerator import HardwareAccelerator
        from ai_edge_litert.options import Options
        opts = Options(hardware_accelerators=HardwareAccelerator.CPU, cpu_options=CpuOptions(num_threads=a.threads))
        cm = CompiledModel.from_file(a.model, options=opts)
        runs = {}
        for key in ("image", "text"):
            i = cm.get_signature_index(key)
            runs[key] = (i, cm.create_input_buffers(i), cm.create_output_buffers(i))
        i, ins, outs = runs["image"]
        req = cm.get_input_buffer_requirements(0, i)
        n = req["buffer_size"] // 4
        ins[0].write(rng.standard_normal(n).astype(np.float32))
        load = (time.perf_counter() - t0) * 1e3

        def run(key):
            i, ins, outs = runs[key]
            cm.run_by_index(i, ins, outs)

        frame = timed(a.runs, a.warmup, lambda: run("image"))
        text = timed(a.runs, a.warmup, lambda: run("text"))
        name = "ai_edge_litert CompiledModel (CPU, %d threads)" % a.threads
    print(json.dumps({"runtime": name, "load_ms": load, "frame_ms": frame, "text_ms": text, "vmhwm_bytes": vmhwm_bytes()}))


if __name__ == "__main__":
    main()
