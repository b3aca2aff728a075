"""Peer runtimes for `groupvit bench --peers PYTHON`: the same GroupViT image
encoder, on the same weights, timed by other people's runtimes, so that the
bench can state our speed as a ratio against them measured in the same run.

The model is train/model.py's PyTorch GroupViT (the one the trainer uses and
train/tests check against the official fixture), loaded from a Hugging Face
folder (config.json + model.safetensors) such as the bench's random preset.
What is timed is what our image graph computes: pixel_values [1, 3, S, S] ->
group embeddings, image embedding and the chained soft assignment map.

  prepare  exports that encoder to ONNX (opset 17) and its int8 twin
           (onnxruntime dynamic quantization, per-channel weights) into --work,
           and prints one JSON line: versions, file sizes, and how far the
           ONNX outputs are from eager PyTorch (an fp32 export that is not
           within FP32_MIN_COSINE of it fails).
  time     times one runtime (pytorch or onnxruntime) at each of --threads,
           printing one JSON line per row (its frame times in ms).
  gemm     times onnxruntime's fp32 MatMul and its dynamically quantized int8
           twin alone on the image encoder's Linear shapes ([M, K] x [K, N],
           default the 224 px stage-0 block's), one thread, and prints the
           arithmetic rate of each: the kernel-level number to set beside
           `groupvit inspect --profile image` (XNNPACK's rate on the same
           shapes in our int8 file).
  profile  runs onnxruntime's fp32 or int8 encoder (from prepare's --work)
           with its profiler at one thread and prints the sum of every
           node's best time over --runs, by op type: a quiet-machine
           estimate that load on a shared machine barely moves, the
           counterpart of `groupvit inspect --profile image`.

The bench runs `time` once per runtime in every round, interleaved with its
own variants, so load drift on a shared machine hits every row alike.
Threads: torch.set_num_threads / intra_op_num_threads = N, inter-op
parallelism 1. Standard library + numpy at import; torch, onnx and
onnxruntime are imported only where used. (LiteRT's own Python runtime is
timed by the bench's --python, cli/litert_peer.py.)
"""
import argparse
import json
import os
import sys
import time

import numpy as np

OPSET = 17
PIXEL_SEED = 7
# an fp32 export further than this from eager PyTorch is broken, not a peer
FP32_MIN_COSINE = 0.9999


def load_torch_model(folder):
    """train/model.py's GroupViT, wrapped to return what our image graph returns."""
    import torch
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
    from model import load_hf

    class ImageEncoder(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, pixel_values):
            image, groups, softs, _ = self.model.encode_image(pixel_values)
            chain = softs[0].transpose(1, 2)  # [B, N, G0]: patches -> first groups
            for soft in softs[1:]:
                chain = chain @ soft.transpose(1, 2)
            return groups, image, chain

    return ImageEncoder(load_hf(folder)).eval()


def pixels(size):
    return np.random.default_rng(PIXEL_SEED).standard_normal((1, 3, size, size), dtype=np.float32)


def cosine_min(a, b):
    a = a.reshape(-1, a.shape[-1]).astype(np.float64)
    b = b.reshape(-1, b.shape[-1]).astype(np.float64)
    cos = (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1) + 1e-12)
    return float(cos.min())


def ort_session(path, threads):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def prepare(args):
    import onnxruntime as ort
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    os.makedirs(args.work, exist_ok=True)
    fp32, int8 = os.path.join(args.work, "image-fp32.onnx"), os.path.join(args.work, "image-int8.onnx")
    enc = load_torch_model(args.model)
    x = torch.from_numpy(pixels(args.size))
    t0 = time.perf_counter()
    with torch.inference_mode():
        want = [t.numpy() for t in enc(x)]
        # dynamo=False: the TorchScript exporter needs no onnxscript, and this
        # graph has fixed shapes, which is all it handles
        torch.onnx.export(enc, (x,), fp32, opset_version=OPSET, dynamo=False,
                          input_names=["pixel_values"], output_names=["group_embeds", "image_embeds", "soft_map"])
    export_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    # MatMul/Gemm are the linear layers (weights as initializers): per-channel
    # int8 weights, activations quantized per tensor at run time
    quantize_dynamic(fp32, int8, per_channel=True, weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul", "Gemm"])
    quant_ms = (time.perf_counter() - t0) * 1000
    check = {}
    for name, path in (("onnxruntime-fp32", fp32), ("onnxruntime-int8", int8)):
        got = ort_session(path, 1).run(None, {"pixel_values": x.numpy()})
        check[name] = {"group_embeds_max_abs_diff": float(np.abs(got[0] - want[0]).max()),
                       "group_embeds_min_cosine": cosine_min(got[0], want[0])}
    if check["onnxruntime-fp32"]["group_embeds_min_cosine"] < FP32_MIN_COSINE:
        sys.exit(f"the ONNX export does not compute what PyTorch does: {check['onnxruntime-fp32']}")
    print(json.dumps({"prepared": {"onnx_fp32": fp32, "onnx_int8": int8},
                      "versions": {"torch": torch.__version__, "onnxruntime": ort.__version__},
                      "bytes": {"onnx_fp32": os.path.getsize(fp32), "onnx_int8": os.path.getsize(int8)},
                      "export_ms": round(export_ms, 1), "quantize_ms": round(quant_ms, 1), "vs_pytorch": check}))


def timed(fn, runs, warmup):
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(round((time.perf_counter() - t0) * 1000, 3))
    return out


def row(engine, precision, threads, runtime, load_ms, frame_ms, model_bytes=0):
    print(json.dumps({"name": f"{engine}-{precision}-t{threads}", "engine": engine, "precision": precision,
                      "threads": threads, "runtime": runtime, "load_ms": round(load_ms, 1),
                      "frame_ms": frame_ms, "model_bytes": model_bytes}), flush=True)


def time_pytorch(args, threads):
    import torch
    torch.set_num_interop_threads(1)
    t0 = time.perf_counter()
    enc = load_torch_model(args.model)
    load_ms = (time.perf_counter() - t0) * 1000
    x = torch.from_numpy(pixels(args.size))
    name = f"PyTorch {torch.__version__.split('+')[0]} eager"
    for n in threads:
        torch.set_num_threads(n)
        with torch.inference_mode():
            ms = timed(lambda: enc(x), args.runs, args.warmup)
        row("pytorch", "fp32", n, name, load_ms, ms)


def time_onnxruntime(args, threads):
    import onnxruntime as ort
    x = pixels(args.size)
    for prec in ("fp32", "int8"):
        path = os.path.join(args.work, f"image-{prec}.onnx")
        for n in threads:
            t0 = time.perf_counter()
            sess = ort_session(path, n)
            load_ms = (time.perf_counter() - t0) * 1000
            ms = timed(lambda: sess.run(None, {"pixel_values": x}), args.runs, args.warmup)
            kind = " (dynamic quantization)" if prec == "int8" else ""
            row("onnxruntime", prec, n, f"onnxruntime {ort.__version__}{kind}", load_ms, ms, os.path.getsize(path))
            del sess


def gemm(args):
    """fp32 and int8 (dynamic) MatMul alone, per shape: best-of-runs GOP/s."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
    from onnxruntime.quantization import QuantType, quantize_dynamic
    os.makedirs(args.work, exist_ok=True)
    rng = np.random.default_rng(PIXEL_SEED)
    for spec in args.shapes.split(","):
        m, k, n = (int(v) for v in spec.split("x"))
        fp32 = os.path.join(args.work, f"matmul-{m}x{k}x{n}.onnx")
        int8 = fp32.replace(".onnx", "-int8.onnx")
        w = numpy_helper.from_array((rng.standard_normal((k, n)) * 0.05).astype(np.float32), "w")
        graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "matmul",
                                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, m, k])],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, m, n])], [w])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
        model.ir_version = 8
        onnx.save(model, fp32)
        # what prepare does to the whole encoder
        quantize_dynamic(fp32, int8, per_channel=True, weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"])
        x = rng.standard_normal((1, m, k), dtype=np.float32)
        for prec, path in (("fp32", fp32), ("int8", int8)):
            sess = ort_session(path, 1)
            best = min(timed(lambda: sess.run(None, {"x": x}), args.runs, args.warmup))
            print(json.dumps({"runtime": f"onnxruntime {ort.__version__}", "precision": prec, "shape": spec,
                              "threads": 1, "best_ms": best, "gops": round(2 * m * k * n / best / 1e6, 1)}), flush=True)


def profile(args):
    """Per-node best kernel times of one onnxruntime encoder, summed by op type."""
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.enable_profiling = True
    so.profile_file_prefix = os.path.join(args.work, "ort-profile")
    sess = ort.InferenceSession(os.path.join(args.work, f"image-{args.precision}.onnx"), so, providers=["CPUExecutionProvider"])
    x = pixels(args.size)
    for _ in range(args.runs):
        sess.run(None, {"pixel_values": x})
    trace = sess.end_profiling()
    with open(trace) as f:
        events = json.load(f)
    os.remove(trace)
    best, kind = {}, {}
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            best[e["name"]] = min(best.get(e["name"], float("inf")), e["dur"])
            kind[e["name"]] = e["args"]["op_name"]
    by = {}
    for name, us in best.items():
        by[kind[name]] = by.get(kind[name], 0) + us / 1000
    total = sum(by.values())
    print(f"onnxruntime {ort.__version__} {args.precision}, 1 thread: {len(best)} nodes, their best times over "
          f"{args.runs} runs sum to {total:.2f} ms")
    for k, ms in sorted(by.items(), key=lambda kv: -kv[1]):
        print(f"  {k:28s} {ms:8.2f} ms  {100 * ms / total:5.1f} %")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare", help="export the image encoder to ONNX fp32 and int8")
    p.add_argument("--model", required=True, help="Hugging Face folder: config.json + model.safetensors")
    p.add_argument("--size", type=int, required=True, help="input size in pixels")
    p.add_argument("--work", required=True, help="folder for the .onnx files")
    t = sub.add_parser("time", help="time one runtime at each thread count")
    t.add_argument("--runtime", required=True, choices=["pytorch", "onnxruntime"])
    t.add_argument("--model", help="Hugging Face folder (pytorch)")
    t.add_argument("--size", type=int, help="input size in pixels (pytorch, onnxruntime)")
    t.add_argument("--work", help="the folder prepare wrote (onnxruntime)")
    t.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    t.add_argument("--runs", type=int, default=5)
    t.add_argument("--warmup", type=int, default=1)
    g = sub.add_parser("gemm", help="time onnxruntime's fp32 and int8 MatMul alone on the encoder's shapes")
    g.add_argument("--work", required=True, help="folder for the one-MatMul .onnx files")
    g.add_argument("--shapes", default="260x384x384,260x384x1536,260x1536x384",
                   help="comma-separated MxKxN (default: a 224 px stage-0 block's q/k/v/out, fc1, fc2)")
    g.add_argument("--runs", type=int, default=30)
    g.add_argument("--warmup", type=int, default=3)
    pr = sub.add_parser("profile", help="onnxruntime's per-node best times at one thread, by op type")
    pr.add_argument("--work", required=True, help="the folder prepare wrote")
    pr.add_argument("--size", type=int, required=True, help="input size in pixels")
    pr.add_argument("--precision", choices=["fp32", "int8"], default="int8")
    pr.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    if args.cmd == "prepare":
        return prepare(args)
    if args.cmd == "gemm":
        return gemm(args)
    if args.cmd == "profile":
        return profile(args)
    threads = [int(s) for s in args.threads.split(",")]
    if args.runtime == "pytorch" and not (args.model and args.size):
        ap.error("--runtime pytorch needs --model and --size")
    if args.runtime == "onnxruntime" and not (args.work and args.size):
        ap.error("--runtime onnxruntime needs --work (the folder prepare wrote) and --size")
    {"pytorch": time_pytorch, "onnxruntime": time_onnxruntime}[args.runtime](args, threads)


if __name__ == "__main__":
    main()
