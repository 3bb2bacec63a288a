"""Why the engine measured 0.60 M points/s at 10^5 rows (BENCHMARKS.md, section 4).

Alternating blocks, quiet: the engine at 10^5 rows right after an ONNX Runtime call (as in
the size sweep of bench_inference.py), ONNX Runtime at 10^4 and torch alone at 10^5, with
ONNX Runtime's thread spinning on and off.

    python scripts/bench_engine_warmup.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_inference import _net, _timeit  # noqa: E402

from zoo.plugins.regressors.network import network_model, network_spec  # noqa: E402
from zoo.runtime.inference import fast_predictor  # noqa: E402


def _session(model_bytes: bytes, spin: bool) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = os.cpu_count() or 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.log_severity_level = 3
    opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    return ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])


def main() -> None:
    reg = _net("float32")
    x = np.random.default_rng(0).random((100_000, 8))
    engine = fast_predictor(reg)
    torch_only = fast_predictor(reg, backend="torch")
    small = engine._fn.small  # the engine's ONNX Runtime path (batches below 32,768 rows)
    model_bytes = network_model(network_spec(reg)).SerializeToString()
    for block in range(2):
        for spin in (True, False):
            small._sess = _session(model_bytes, spin)
            rates = []
            for _ in range(3):
                small(x[:10_000])
                rates.append(_timeit(lambda: engine(x), 100_000, 0.3, 1))
            r_ort = _timeit(lambda: engine(x[:10_000]), 10_000, 0.3, 2)
            r_torch = _timeit(lambda: torch_only(x), 100_000, 0.3, 2)
            print(f"block {block} ORT spinning={spin}: engine at 10^5 {max(rates) / 1e6:.3f} M; "
                  f"engine at 10^4 (ORT) {r_ort / 1e6:.3f} M; torch alone at 10^5 "
                  f"{r_torch / 1e6:.3f} M", flush=True)


if __name__ == "__main__":
    main()
