"""GPU figures: sk-DNN inference throughput by batch size, a pretrained amplitude on the
GPU, and training throughput (seconds per epoch).

    python scripts/bench_gpu.py [--max-batch 10000000] [--only infer,pretrained,train]

Needs a CUDA device (exits with a message otherwise). The network is the issue's sk-DNN
(width 50, depth 7, gelu, 54.6k parameters), initialised but untrained: the timing does not
depend on the weights. "host" figures include the host->device copy of float64 input and
the copy back (what ``zoo.load(...).predict`` pays); "device" figures keep x on the GPU
(what a generator running on the GPU would pay). Prints markdown tables.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_inference import _latency_us, _timeit  # noqa: E402

D = 8


def _sync():
    import torch

    torch.cuda.synchronize()


def _rate(fn, n_points: int, min_time: float = 0.3, repeat: int = 3) -> float:
    """Points per second of ``fn()`` with a device synchronisation after every call (best
    of ``repeat`` runs of at least ``min_time``: bench_inference's timer)."""
    return _timeit(lambda: (fn(), _sync()), n_points, min_time, repeat)


def _net(dtype: str, device: str):
    from zoo.plugins.regressors.torch_models import SkDNNRegressor

    reg = SkDNNRegressor(width=50, depth=7, activation="gelu", dtype=dtype, device=device)
    reg.model_ = reg._new_module(D)
    reg.n_features_ = D
    return reg


def bench_infer(max_batch: int) -> None:
    import torch

    from zoo.plugins.regressors.network_fast import TorchNet
    from zoo.runtime.inference import fast_predictor

    sizes = [s for s in (1, 100, 10_000, 100_000, 1_000_000, 10_000_000) if s <= max_batch]
    x_all = np.random.default_rng(0).random((max(sizes), D))
    print("\n### sk-DNN 50x7 gelu on the GPU: points/s by batch size\n")
    print("| dtype | path | " + " | ".join(f"{s:g}" for s in sizes) + " |")
    print("|---" * (len(sizes) + 2) + "|")
    for dtype in ("float32", "float64"):
        reg = _net(dtype, "cuda")
        tdt = getattr(torch, dtype)
        paths = {
            "zoo engine (auto: torch on CUDA, chunks of 2^20), host in/out": fast_predictor(reg),
            "torch, chunks of 65536, host in/out": TorchNet(reg, chunk=65_536),
        }
        for name, fn in paths.items():
            row = []
            for s in sizes:
                x = x_all[:s]
                row.append(f"{_rate(lambda fn=fn, x=x: fn(x), s) / 1e6:.3f} M")
            print(f"| {dtype} | {name} | " + " | ".join(row) + " |")
        module = reg.model_.eval()
        row = []
        for s in sizes:
            xt = torch.as_tensor(x_all[:s], dtype=tdt, device="cuda")

            def dev(xt=xt, module=module):
                with torch.inference_mode():
                    return module(xt)

            row.append(f"{_rate(dev, s) / 1e6:.3f} M")
        print(f"| {dtype} | torch forward, x resident on the GPU, one call | " + " | ".join(row) + " |")
    # single point: the predictor's .one stays on the CPU kernel; a GPU round trip for one
    # point is shown for comparison
    reg = _net("float32", "cuda")
    pred = fast_predictor(reg)
    x1 = x_all[:1]
    tn = TorchNet(reg)
    print(f"\nsingle point, float32: predictor(x[None]) "
          f"{_latency_us(lambda: pred(x1), 2000):.1f} us (CPU numba kernel, also on a GPU "
          f"machine); one point through the GPU {_latency_us(lambda: tn(x1), 500):.1f} us")


def bench_pretrained() -> None:
    import zoo
    from zoo.transform import Batch

    print("\n### a bundled pretrained amplitude on the GPU (zoo.load picks CUDA when present)\n")
    print("| label | regressor device | points | regressor alone (M points/s) | "
          "amp.predict, exact f00 and transforms on the CPU included (M points/s) |")
    print("|---|---|---|---|---|")
    # the bundle's sk-DNN (the default of this label is a qqzz-factorised model, on the CPU)
    for label in ("qqbar-zz-4l/8d/f11/RRL@1",):
        amp = zoo.load(label)
        dev = next(amp.model.regressor.model_.parameters()).device
        n = 1_000_000 if amp.dimension == 8 else 100_000
        x = np.random.default_rng(5).random((n, amp.dimension))
        amp.predict(x[:100])  # warm the process kernels
        batch, _ = amp.model.chain.forward_with_inputs(
            Batch(x=amp.resolution.coord_map(x)), amp.model.context)
        fn = amp.model._predictor()
        r_reg = _rate(lambda fn=fn, xb=batch.x: fn(xb), n)
        t0 = time.perf_counter()
        amp.predict(x)
        r_full = n / (time.perf_counter() - t0)
        print(f"| {label} | {dev} | {n:,} | {r_reg / 1e6:.3f} | {r_full / 1e6:.3f} |")


def bench_train() -> None:
    import torch

    from zoo.plugins.regressors.torch_models import SkDNNRegressor

    print("\n### training throughput on the GPU (sk-DNN 64x4, 8D, 2M points, AdamW)\n")
    print("| dtype | batch | s / epoch | M samples/s |")
    print("|---|---|---|---|")
    rng = np.random.default_rng(0)
    n = 2_000_000
    x = rng.random((n, D))
    y = np.sin(3 * x).sum(axis=1) + x[:, 0] * x[:, 1]
    for dtype in ("float32", "float64"):
        for bs in (1024, 4096, 16384):
            reg = SkDNNRegressor(width=64, depth=4, dtype=dtype, device="cuda", epochs=2,
                                 batch_size=bs, patience=None, seed=0)
            t0 = time.perf_counter()
            reg.fit(x[: n - n // 10], y[: n - n // 10],
                    x_val=x[n - n // 10 :], y_val=y[n - n // 10 :])
            torch.cuda.synchronize()
            dt = (time.perf_counter() - t0) / 2
            print(f"| {dtype} | {bs} | {dt:.2f} | {(n - n // 10) / dt / 1e6:.2f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-batch", type=int, default=10_000_000)
    ap.add_argument("--only", default="infer,pretrained,train")
    args = ap.parse_args()
    import torch

    if not torch.cuda.is_available():
        sys.exit("bench_gpu.py needs a CUDA device; none is visible to torch")
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name(0)}")
    only = set(args.only.split(","))
    if "infer" in only:
        bench_infer(args.max_batch)
    if "pretrained" in only:
        bench_pretrained()
    if "train" in only:
        bench_train()


if __name__ == "__main__":
    main()
