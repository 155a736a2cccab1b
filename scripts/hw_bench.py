"""The hardware benchmark: gpu-dae's GPU steps against PyTorch on the same GPU, one table.

On a Linux machine with a GPU whose Vulkan driver `gpu-dae devices` lists, and PyTorch with
CUDA:

    cargo build --release
    python3 scripts/hw_bench.py --out runs/hw-bench

runs `gpu-dae bench --backend gpu --model M --json` for the dA, cA, ReLU-DAE and SdA at their
tutorial batches and one other, and scripts/torch_reference.py's PyTorch steps of the same
shapes (eager, and CUDA graphs; float32, TF32 off), then prints one Markdown table: ms per step
for each, PyTorch's time over gpu-dae's (above 1: gpu-dae is faster), gpu-dae's GFLOP/s as a
share of the GPU's FP32 peak and its minimum bytes per step as a share of the memory bandwidth.
The peaks are the datasheet's for the H100 and H200 (by the CUDA device name) or --peak-tflops
and --peak-tbs. Writes OUT/hw_bench.md and OUT/hw_bench.json (every raw number, gpu-dae's
per-kernel profiles included), and a second table: the dA step with every GEMM forced to each
kernel family (GPU_DAE_GEMM), which says whether the choice by shape is right on this GPU, the
SdA's batch-1 steps with and without subgroup row sums (GPU_DAE_SUBGROUPS=off), the dA's,
ReLU-DAE's and SdA's batch-20 steps with and without the fused minibatch kernels
(GPU_DAE_FUSE=off), and one real `gpu-dae train` epoch of the dA and the cA (checkpoint and outputs included) beside
what the bench's ms/step predicts.

--torch-device cpu checks the script where there is no CUDA (eager only, nothing to compare
against a GPU: for testing the script, not for figures).
"""

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# (model, batches) as gpu-dae bench takes them; torch_reference.py times the same cases.
MODELS = [("da", "20,128"), ("cae", "10,128"), ("relu-dae", "1,20"), ("sda", "1,20")]

# Datasheet FP32 (non-tensor) TFLOP/s and memory TB/s by CUDA device name, first match wins.
PEAKS = [("H200", 67.0, 4.8), ("H100 PCIe", 51.0, 2.0), ("H100", 67.0, 3.35)]

SDA_SIZES = [784, 1000, 1000, 1000]
SOFTMAX = (1000, 10)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gpu-dae", default=os.path.join(HERE, "..", "target", "release", "gpu-dae"))
    ap.add_argument("--out", default="runs/hw-bench")
    ap.add_argument("--seconds", type=float, default=1.0, help="time per case (each engine), about")
    ap.add_argument("--torch-device", default="cuda")
    ap.add_argument("--adapter", help="gpu-dae's --adapter NAME")
    ap.add_argument("--peak-tflops", type=float, help="FP32 peak, TFLOP/s (default: by device name)")
    ap.add_argument("--peak-tbs", type=float, help="memory bandwidth, TB/s (default: by device name)")
    ap.add_argument("--train-limit", type=int,
                    help="the train epochs on the first N images only (gpu-dae train --limit N, "
                         "which cuts the 10 000-image test file too: N ≤ 10 000), to check the "
                         "script on a slow adapter; default: all")
    return ap.parse_args()


def run(cmd, env=None):
    """`cmd`'s stdout, with `env` added to the environment; exits on failure."""
    shown = " ".join(f"{k}={v}" for k, v in (env or {}).items())
    print("$ " + (shown + " " if shown else "") + " ".join(cmd), file=sys.stderr, flush=True)
    done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=dict(os.environ, **(env or {})))
    if done.returncode != 0:
        sys.exit(f"hw_bench: {' '.join(cmd)} exited with {done.returncode}")
    return done.stdout


def flops_and_bytes(model, batch, step):
    """Useful FLOPs of one step (the GEMMs) and its minimum bytes: the parameters read, those it
    updates written too, and the minibatch read once."""
    if model in ("da", "cae", "relu-dae"):
        v, h = 784, (225 if model == "relu-dae" else 500)
        mats = 2 if model == "relu-dae" else 1
        params = mats * v * h + v + h
        return 10 * batch * v * h, 4 * (2 * params + batch * v)
    layers = list(zip(SDA_SIZES[:-1], SDA_SIZES[1:]))
    if step.startswith("pretrain"):
        k = int(step[len("pretrain L"):])
        below = layers[:k]
        n_in, n_out = layers[k]
        flops = 2 * batch * sum(i * o for i, o in below) + 10 * batch * n_in * n_out
        read = sum(i * o + o for i, o in below)
        return flops, 4 * (read + 2 * (n_in * n_out + n_in + n_out) + batch * 784)
    every = layers + [SOFTMAX]
    flops = 6 * batch * sum(i * o for i, o in every)
    return flops, 4 * (2 * sum(i * o + o for i, o in every) + batch * 784)


def gpu_dae_cases(args):
    cases = {}
    raw = {}
    for model, batches in MODELS:
        cmd = [args.gpu_dae, "bench", "--backend", "gpu", "--model", model, "--batch", batches,
               "--seconds", str(args.seconds), "--json"]
        if args.adapter:
            cmd += ["--adapter", args.adapter]
        doc = json.loads(run(cmd))
        raw[model] = doc
        for case in doc["cases"]:
            step = case.get("step", "step")
            cases[(model, case["batch"], step)] = case
    return cases, raw


def kernel_families(args):
    """The dA step at batch 1, 20 and 128 with every GEMM forced to one kernel family
    (GPU_DAE_GEMM): ms per step, by family."""
    out = {}
    for family in ("", "tiled", "split", "rows", "outer"):
        cmd = [args.gpu_dae, "bench", "--backend", "gpu", "--model", "da", "--batch", "1,20,128",
               "--seconds", str(args.seconds), "--json"]
        if args.adapter:
            cmd += ["--adapter", args.adapter]
        doc = json.loads(run(cmd, env={"GPU_DAE_GEMM": family}))
        out[family or "by shape"] = {c["batch"]: c["ms_per_step"] for c in doc["cases"]}
    return out


def subgroup_paths(args):
    """The SdA's batch-1 steps with the subgroup row sums (where the device has them) and with
    their workgroup-memory fallback forced (GPU_DAE_SUBGROUPS=off): ms per step, by step."""
    out = {}
    for setting in ("", "off"):
        cmd = [args.gpu_dae, "bench", "--backend", "gpu", "--model", "sda", "--batch", "1",
               "--seconds", str(args.seconds), "--json"]
        if args.adapter:
            cmd += ["--adapter", args.adapter]
        doc = json.loads(run(cmd, env={"GPU_DAE_SUBGROUPS": setting}))
        out["subgroups off" if setting else "default"] = {
            c.get("step", "step"): c["ms_per_step"] for c in doc["cases"]}
    return out


def fused_paths(args):
    """The dA's, ReLU-DAE's and SdA's batch-20 steps with the fused minibatch kernels (load_gemm,
    gemm_xent, gemm_sq_err, gemm_corrupt) and with each run as the ops it fuses
    (GPU_DAE_FUSE=off): ms per step and dispatches per step, by (model, step)."""
    out = {}
    for setting in ("", "off"):
        by_step = {}
        for model in ("da", "relu-dae", "sda"):
            cmd = [args.gpu_dae, "bench", "--backend", "gpu", "--model", model, "--batch", "20",
                   "--seconds", str(args.seconds), "--json"]
            if args.adapter:
                cmd += ["--adapter", args.adapter]
            doc = json.loads(run(cmd, env={"GPU_DAE_FUSE": setting}))
            for c in doc["cases"]:
                step = c.get("gpu", {}).get("step", {})
                by_step[f"{model} {c.get('step', 'step')}"] = (
                    c["ms_per_step"], step.get("dispatches_per_step"))
        out["unfused" if setting else "fused"] = by_step
    return out


def train_epochs(args):
    """One real epoch of `gpu-dae train` (checkpoint and outputs included) for the dA and the
    cA at their tutorial settings: the seconds metrics.csv records for it, beside what the
    bench's ms/step makes of ⌊50 000 / batch⌋ steps."""
    out = {}
    for model in ("da", "cae"):
        run_dir = os.path.join(args.out, f"train-{model}")
        cmd = [args.gpu_dae, "train", "--model", model, "--epochs", "1", "--backend", "gpu",
               "--out", run_dir]
        if args.adapter:
            cmd += ["--adapter", args.adapter]
        if args.train_limit:
            cmd += ["--limit", str(args.train_limit)]
        run(cmd)
        with open(os.path.join(run_dir, "metrics.csv")) as f:
            rows = [line.strip().split(",") for line in f if line.strip()]
        out[model] = float(rows[1][rows[0].index("seconds")])
    return out


def train_images(args):
    """Training images of an epoch: train --limit N keeps N − ⌊N/6⌋ (the rest validates)."""
    n = args.train_limit
    return 50_000 if not n else n - n // 6


def fmt(v, spec):
    return "—" if v is None else format(v, spec)


def save(args, lines, devices, doc):
    """Writes OUT/hw_bench.md and OUT/hw_bench.json with what is measured so far, so a run
    stopped at a time limit leaves every table it finished (each file whole: written beside,
    then renamed over the last)."""
    md = "\n".join(lines) + "\n\n`gpu-dae devices`:\n\n```\n" + devices + "```\n"
    for name, text in (("hw_bench.md", md), ("hw_bench.json", json.dumps(dict(doc, devices=devices), indent=1))):
        path = os.path.join(args.out, name)
        with open(path + ".part", "w") as f:
            f.write(text)
        os.replace(path + ".part", path)


def main():
    args = parse_args()
    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()
    devices = run([args.gpu_dae, "devices"])
    print(devices, file=sys.stderr)
    ours, raw = gpu_dae_cases(args)
    save(args, ["gpu-dae's cases measured (hw_bench.json); PyTorch's not yet."], devices,
         {"gpu_dae": raw})
    torch_doc = json.loads(run([sys.executable, os.path.join(HERE, "torch_reference.py"),
                                "--device", args.torch_device, "--seconds", str(args.seconds)]))
    name = torch_doc["device"]
    peak = next(((f, b) for key, f, b in PEAKS if key in name), (None, None))
    tflops = args.peak_tflops or peak[0]
    tbs = args.peak_tbs or peak[1]
    backend = next(iter(ours.values()))["backend"] if ours else "—"
    lines = [
        f"gpu-dae: `{backend}`; PyTorch {torch_doc['torch']} on {name}; "
        f"peaks: {fmt(tflops, '.1f')} TFLOP/s FP32, {fmt(tbs, '.2f')} TB/s",
        "",
        "| model | batch | step | gpu-dae ms | torch eager ms | torch graph ms | eager / gpu-dae "
        "| graph / gpu-dae | gpu-dae GFLOP/s | % FP32 peak | % memory BW | dispatches |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows = []
    for t in torch_doc["cases"]:
        key = (t["model"], t["batch"], t["step"])
        mine = ours.get(key)
        ms = mine["ms_per_step"] if mine else None
        flops, nbytes = flops_and_bytes(*key)
        gflops = flops / ms / 1e6 if ms else None
        gbs = nbytes / ms / 1e6 if ms else None
        share = lambda rate, top, scale: None if rate is None or top is None else 100 * rate / (top * scale)
        dispatches = mine["gpu"]["step"]["dispatches_per_step"] if mine and "gpu" in mine else None
        row = {
            "model": key[0], "batch": key[1], "step": key[2], "gpu_dae_ms": ms,
            "torch_eager_ms": t["eager_ms"], "torch_graph_ms": t["graph_ms"],
            "eager_ratio": t["eager_ms"] / ms if ms else None,
            "graph_ratio": t["graph_ms"] / ms if ms and t["graph_ms"] else None,
            "gflops": gflops, "fp32_peak_pct": share(gflops, tflops, 1e3),
            "bandwidth_pct": share(gbs, tbs, 1e3), "dispatches": dispatches,
        }
        rows.append(row)
        lines.append(
            f"| {key[0]} | {key[1]} | {key[2]} | {fmt(ms, '.4f')} | {t['eager_ms']:.4f} "
            f"| {fmt(t['graph_ms'], '.4f')} | {fmt(row['eager_ratio'], '.2f')} "
            f"| {fmt(row['graph_ratio'], '.2f')} | {fmt(gflops, '.1f')} "
            f"| {fmt(row['fp32_peak_pct'], '.2f')} | {fmt(row['bandwidth_pct'], '.2f')} "
            f"| {fmt(dispatches, '.0f')} |"
        )
    doc = {"rows": rows, "gpu_dae": raw, "torch": torch_doc}
    save(args, lines, devices, doc)
    epochs = train_epochs(args)
    images = train_images(args)
    lines += ["", f"One real `gpu-dae train` epoch of {images} images (its checkpoint and outputs "
              "included), s:", ""]
    lines += ["| model | batch | train epoch s | bench ms/step × steps, s |", "|---|---:|---:|---:|"]
    for model, batch in (("da", 20), ("cae", 10)):
        mine = ours.get((model, batch, "step"))
        est = mine["ms_per_step"] * (images // batch) / 1e3 if mine else None
        lines.append(f"| {model} | {batch} | {epochs[model]:.2f} | {fmt(est, '.2f')} |")
    doc["train_epoch_seconds"] = epochs
    save(args, lines, devices, doc)
    families = kernel_families(args)
    lines += [
        "",
        "dA step (784-500), ms, with every GEMM forced to one kernel family (GPU_DAE_GEMM):",
        "",
        "| GEMM kernels | batch 1 | batch 20 | batch 128 |",
        "|---|---:|---:|---:|",
    ]
    for family, by_batch in families.items():
        cells = " | ".join(fmt(by_batch.get(b), ".4f") for b in (1, 20, 128))
        lines.append(f"| {family} | {cells} |")
    doc["kernel_families"] = families
    save(args, lines, devices, doc)
    subgroups = subgroup_paths(args)
    steps = list(next(iter(subgroups.values())))
    lines += [
        "",
        "SdA step at batch 1, ms, with the adapter's subgroups (where it has them) and with their",
        "workgroup-memory fallback (GPU_DAE_SUBGROUPS=off: dense_update's row sums, the rows kernel's last K-lane levels):",
        "",
        "| row sums | " + " | ".join(steps) + " |",
        "|---|" + "---:|" * len(steps),
    ]
    for setting, by_step in subgroups.items():
        lines.append(f"| {setting} | " + " | ".join(fmt(by_step.get(k), ".4f") for k in steps) + " |")
    doc["subgroup_paths"] = subgroups
    save(args, lines, devices, doc)
    fused = fused_paths(args)
    steps = list(next(iter(fused.values())))
    lines += [
        "",
        "Batch-20 steps, ms (dispatches), with the fused minibatch kernels and with each run as",
        "the ops it fuses (GPU_DAE_FUSE=off):",
        "",
        "| kernels | " + " | ".join(steps) + " |",
        "|---|" + "---:|" * len(steps),
    ]
    for setting, by_step in fused.items():
        cells = []
        for k in steps:
            ms, dispatches = by_step.get(k, (None, None))
            cells.append(f"{fmt(ms, '.4f')} ({fmt(dispatches, '.2f')})")
        lines.append(f"| {setting} | " + " | ".join(cells) + " |")
    lines += ["", f"{len(rows)} cases in {time.time() - t0:.0f} s."]
    doc["fused_paths"] = fused
    save(args, lines, devices, doc)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
