"""PyTorch reference of gpu-dae's training steps, for scripts/hw_bench.py.

Each step is the one gpu-dae runs (DESIGN.md's formulas): the minibatch sliced from a training
set resident on the device, the corruption drawn on the device, the forward pass, the loss, the
backward pass by autograd and the SGD update in place. Timed two ways on CUDA: eager (one
Python call per step) and as a CUDA graph of the whole step (replayed; the minibatch index is
a device tensor the graph advances itself). float32 throughout with TF32 off; a warm-up before
timing; CUDA events around the timed steps, synchronised.

Prints one JSON document: {"device", "cases": [{"model", "batch", "step", "eager_ms",
"graph_ms"}]}. `--device cpu` runs the same steps eagerly (graph_ms null), to check the script
where there is no GPU.
"""

import argparse
import json
import math
import time

import torch

N_TRAIN = 50_000
N_VIS = 784


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--seconds", type=float, default=1.0, help="time per case and mode, about")
    ap.add_argument("--cases", default="all", help="comma-separated model names, or all")
    return ap.parse_args()


def uniform_init(n_in, n_out, gen, device):
    bound = 4.0 * math.sqrt(6.0 / (n_in + n_out))
    return (torch.rand(n_in, n_out, generator=gen, device="cpu") * 2 - 1).mul_(bound).to(device)


class Batches:
    """The training set on the device and a device-side minibatch counter: `next()` gathers
    rows [i·B, (i + 1)·B) and advances i, with no host round trip (graph-safe)."""

    def __init__(self, data, batch):
        self.data = data
        self.batch = batch
        self.n_batches = data.shape[0] // batch
        self.i = torch.zeros((), dtype=torch.long, device=data.device)
        self.offsets = torch.arange(batch, device=data.device)

    def next(self):
        rows = self.i * self.batch + self.offsets
        x = self.data.index_select(0, rows)
        self.i.add_(1).remainder_(self.n_batches)
        return x


def xent(z, x):
    return -(x * torch.log(z) + (1 - x) * torch.log(1 - z)).sum(dim=1).mean()


def sgd(params, lr):
    with torch.no_grad():
        for p in params:
            p.sub_(lr * p.grad)
            p.grad = None


def da_step_fn(batches, n_hid, lr, corruption, contraction, gen, device):
    """dA (mask noise) or cA (contraction > 0, no noise): tied W, sigmoid, cross-entropy."""
    W = uniform_init(N_VIS, n_hid, gen, device).requires_grad_()
    b = torch.zeros(n_hid, device=device, requires_grad=True)
    bp = torch.zeros(N_VIS, device=device, requires_grad=True)

    def step():
        x = batches.next()
        xt = x * (torch.rand_like(x) >= corruption) if corruption > 0 else x
        h = torch.sigmoid(xt @ W + b)
        z = torch.sigmoid(h @ W.t() + bp)
        cost = xent(z, x)
        if contraction > 0:
            jac = ((h * (1 - h)) ** 2 @ (W**2).sum(dim=0)).mean()
            cost = cost + contraction * jac
        cost.backward()
        sgd((W, b, bp), lr)

    return step


def relu_dae_step_fn(batches, n_hid, lr, sigma, gen, device):
    """ReLU-DAE: Gaussian noise, ReLU encoder, untied linear decoder, ½ squared error."""
    W = (torch.randn(N_VIS, n_hid, generator=gen) * 0.01).to(device).requires_grad_()
    V = (torch.randn(n_hid, N_VIS, generator=gen) * 0.01).to(device).requires_grad_()
    B = torch.full((n_hid,), 0.5, device=device, requires_grad=True)
    C = torch.zeros(N_VIS, device=device, requires_grad=True)

    def step():
        x = batches.next()
        xt = x + sigma * torch.randn_like(x)
        z = torch.relu(xt @ W + B)
        y = z @ V + C
        (0.5 * ((y - x) ** 2).sum(dim=1).mean()).backward()
        sgd((W, V, B, C), lr)

    return step


def sda_params(gen, device, hidden=(1000, 1000, 1000), n_out=10):
    sizes = (N_VIS,) + tuple(hidden)
    layers = []
    for n_in, n_out_k in zip(sizes[:-1], sizes[1:]):
        W = uniform_init(n_in, n_out_k, gen, device).requires_grad_()
        b = torch.zeros(n_out_k, device=device, requires_grad=True)
        bp = torch.zeros(n_in, device=device, requires_grad=True)
        layers.append((W, b, bp))
    Ws = torch.zeros(sizes[-1], n_out, device=device, requires_grad=True)
    bs = torch.zeros(n_out, device=device, requires_grad=True)
    return layers, (Ws, bs)


def sda_pretrain_step_fn(batches, layer, lr, corruption, gen, device):
    """Layer `layer`'s dA step on the clean output of the layers below."""
    layers, _ = sda_params(gen, device)
    W, b, bp = layers[layer]

    def step():
        x = batches.next()
        with torch.no_grad():
            for Wl, bl, _ in layers[:layer]:
                x = torch.sigmoid(x @ Wl + bl)
        xt = x * (torch.rand_like(x) >= corruption)
        h = torch.sigmoid(xt @ W + b)
        z = torch.sigmoid(h @ W.t() + bp)
        xent(z, x).backward()
        sgd((W, b, bp), lr)

    return step


def sda_finetune_step_fn(batches, labels, lr, gen, device):
    """The whole network: sigmoid layers, softmax, mean NLL, SGD on every layer's W and b."""
    layers, (Ws, bs) = sda_params(gen, device)
    params = [p for W, b, _ in layers for p in (W, b)] + [Ws, bs]

    def step():
        i = batches.i.clone()
        x = batches.next()
        rows = i * batches.batch + batches.offsets
        y = labels.index_select(0, rows)
        for W, b, _ in layers:
            x = torch.sigmoid(x @ W + b)
        logits = x @ Ws + bs
        torch.nn.functional.cross_entropy(logits, y).backward()
        sgd(params, lr)

    return step


def time_steps(step, seconds, device):
    """ms per step: eager, after a warm-up, over about `seconds`."""
    for _ in range(20):
        step()
    sync(device)
    t = time.perf_counter()
    for _ in range(20):
        step()
    sync(device)
    per = (time.perf_counter() - t) / 20
    n = max(20, int(seconds / max(per, 1e-6)))
    if device.type == "cuda":
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(n):
            step()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / n
    t = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - t) / n * 1e3


def time_graph(step, seconds):
    """ms per step of the step captured as one CUDA graph and replayed."""
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):
            step()
    torch.cuda.current_stream().wait_stream(s)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step()
    return time_steps(graph.replay, seconds, torch.device("cuda"))


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def cases(device, gen, data, labels):
    """(model, batch, step name, step builder) of every case hw_bench.py compares."""
    def b(batch):
        return Batches(data, batch)

    out = []
    for batch in (20, 128):
        out.append(("da", batch, "step", lambda batch=batch: da_step_fn(b(batch), 500, 0.1, 0.3, 0.0, gen, device)))
    for batch in (10, 128):
        out.append(("cae", batch, "step", lambda batch=batch: da_step_fn(b(batch), 500, 0.01, 0.0, 0.1, gen, device)))
    for batch in (1, 20):
        out.append(("relu-dae", batch, "step", lambda batch=batch: relu_dae_step_fn(b(batch), 225, 0.0005, 1.0, gen, device)))
    for batch in (1, 20):
        for layer, corruption in enumerate((0.1, 0.2, 0.3)):
            out.append(("sda", batch, f"pretrain L{layer}",
                        lambda batch=batch, layer=layer, c=corruption: sda_pretrain_step_fn(b(batch), layer, 0.001, c, gen, device)))
        out.append(("sda", batch, "finetune", lambda batch=batch: sda_finetune_step_fn(b(batch), labels, 0.1, gen, device)))
    return out


def main():
    args = parse_args()
    device = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    gen = torch.Generator().manual_seed(1)
    # Uniform pixels stand in for MNIST: a step's time does not depend on the values.
    data = torch.rand(N_TRAIN, N_VIS, generator=gen).to(device)
    labels = torch.randint(0, 10, (N_TRAIN,), generator=gen).to(device)
    wanted = None if args.cases == "all" else set(args.cases.split(","))
    results = []
    for model, batch, step_name, build in cases(device, gen, data, labels):
        if wanted is not None and model not in wanted:
            continue
        eager = time_steps(build(), args.seconds, device)
        graph = time_graph(build(), args.seconds) if device.type == "cuda" else None
        results.append({"model": model, "batch": batch, "step": step_name, "eager_ms": eager, "graph_ms": graph})
        print(f"torch {model} batch {batch} {step_name}: eager {eager:.4f} ms, graph {graph}", flush=True, file=__import__("sys").stderr)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(json.dumps({"device": name, "torch": torch.__version__, "cases": results}, indent=1))


if __name__ == "__main__":
    main()
