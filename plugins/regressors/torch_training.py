"""The training loop, checkpointing and storage shared by the torch regressors.

Subclasses of :class:`TorchRegressor` only say how to build the network
(:meth:`TorchRegressor._build_module`). Everything written to disk is safetensors
(weights, optimizer tensors) or JSON (counters, losses, seeds): no pickle.

Determinism: the weights are initialised from ``seed`` (without touching torch's global
RNG) and the batches of epoch ``e`` are shuffled by ``numpy.random.default_rng([seed,
e])``, so the whole run is a function of (data, hyperparameters) and a resumed run
replays exactly the epochs an uninterrupted one would have run.

Uncertainty (issue 16), two hyperparameters that can be combined:

* ``n_members`` > 1: a deep ensemble. Member k is the same network trained on the same
  split with its own seed (:func:`member_seed`: member 0 uses ``seed`` itself), so the
  initial weights and the batch order differ. The prediction is the **mean of the
  members** (so with ``n_members > 1`` the value is the ensemble mean, not one network),
  and the uncertainty the members' standard deviation with Bessel's correction,
  ``sqrt(sum_k (y_k - mean)^2 / (K - 1))``. That is the spread of one member around the
  others; the error of the mean is smaller by a factor the members' correlation sets, and
  the remaining constant factor (with the small-``K`` bias of a standard deviation) is
  what the core's calibration scale on held-out points absorbs.
* ``uncertainty="gaussian"``: a heteroscedastic head, a second output ``log sigma^2``
  trained with the Gaussian negative log-likelihood. The first ``nll_warmup`` fraction of
  the epochs trains the mean alone with the MSE (the head's bias is then set to the log of
  the warm-up's training MSE); the remaining epochs minimise the beta-NLL of Seitzer et al.
  (2022), the per-point NLL weighted by ``sigma^(2 beta)`` (held constant in the gradient),
  with ``nll_beta`` = beta (0: the plain NLL; 1: the mean gets the MSE's gradient), so that
  the mean does not degrade where the head says "noisy". Early stopping and the best
  weights then count from the start of the NLL phase, on the validation NLL.
  The uncertainty is ``sigma = exp(log sigma^2 / 2)``; in an ensemble of such networks
  ``s^2`` = the members' variance plus the mean of their ``sigma^2``.

``n_members=1`` without a head is the network as before: same weights, same file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from zoo.errors import ArtifactError, ConfigError, NumericalError
from zoo.progress import get_logger, task
from zoo.regressor import Regressor

from .common import check_fitted, check_x, member_seed, stored_file, validation_split

if TYPE_CHECKING:
    from zoo.runtime.inference import Predictor
    from zoo.runtime.onnx_graph import Graph

WEIGHTS_FILE = "model.safetensors"
CHECKPOINT_FORMAT = "zoo-torch-checkpoint/1"
PREDICT_CHUNK = 4096  # rows per forward pass in predict (fastest on a 2-core CPU)

_DTYPES = {"float32": torch.float32, "float64": torch.float64}
_ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU, "tanh": nn.Tanh}
_LOSSES = {"mse": nn.MSELoss, "mae": nn.L1Loss, "huber": nn.HuberLoss}
_SCHEDULES = ("cosine", "plateau", "constant")
_UNCERTAINTIES = (None, "gaussian")
#: clamp of log sigma^2 inside the NLL (never in predictions): keeps exp finite in float32
_LOGVAR_CLAMP = 40.0


def make_activation(name: str) -> nn.Module:
    """The activation module called ``name`` (relu, gelu, silu, tanh)."""
    try:
        return _ACTIVATIONS[name]()
    except KeyError:
        raise ConfigError(
            f"unknown activation {name!r}; choose one of {', '.join(_ACTIVATIONS)}"
        ) from None


@contextlib.contextmanager
def _torch_threads(n_threads: int | None) -> Iterator[None]:
    """Temporarily set torch's intra-op thread count (no-op for None)."""
    if not n_threads:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(int(n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _data_digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(str(a.shape).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _cpu_state(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu").contiguous().clone() for k, v in module.state_dict().items()}


class Ensemble(nn.Module):
    """``members`` networks of one architecture; ``forward`` is their mean output (B, C)."""

    def __init__(self, members: list[nn.Module]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([m(x) for m in self.members]).mean(0)


class TorchRegressor(Regressor):
    """Base of the torch MLP regressors: hyperparameters, training loop, storage.

    Parameters: ``width`` and ``depth`` (meaning set by the subclass); ``activation``
    (relu|gelu|silu|tanh); ``dtype`` (float32|float64); ``device`` (auto|cpu|cuda);
    ``epochs``; ``batch_size``; ``learning_rate`` (AdamW); ``lr_schedule``
    (cosine: anneal to ``learning_rate * lr_min_factor`` over ``epochs``; plateau:
    multiply by ``lr_factor`` after ``lr_patience`` epochs without validation
    improvement; constant); ``weight_decay``; ``patience`` (early stopping on the
    validation loss, best weights restored; None disables); ``checkpoint_every``
    (epochs); ``seed``; ``loss`` (mse|mae|huber); ``n_threads`` (torch threads, None
    keeps the current setting). Uncertainty (module docstring): ``n_members`` (deep
    ensemble, 1: none), ``uncertainty`` (None | "gaussian": heteroscedastic head),
    ``nll_beta`` and ``nll_warmup`` (fraction of ``epochs`` trained on the MSE first).
    """

    version = "1"

    def __init__(
        self,
        width: int = 64,
        depth: int = 4,
        activation: str = "gelu",
        dtype: str = "float32",
        device: str = "auto",
        epochs: int = 200,
        batch_size: int = 256,
        learning_rate: float = 1e-3,
        lr_schedule: str = "cosine",
        lr_min_factor: float = 1e-2,
        lr_factor: float = 0.5,
        lr_patience: int = 10,
        weight_decay: float = 0.0,
        patience: int | None = 40,
        checkpoint_every: int = 10,
        seed: int = 0,
        loss: str = "mse",
        n_threads: int | None = None,
        n_members: int = 1,
        uncertainty: str | None = None,
        nll_beta: float = 0.5,
        nll_warmup: float = 0.3,
    ) -> None:
        self.width = width
        self.depth = depth
        self.activation = activation
        self.dtype = dtype
        self.device = device
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.lr_min_factor = lr_min_factor
        self.lr_factor = lr_factor
        self.lr_patience = lr_patience
        self.weight_decay = weight_decay
        self.patience = patience
        self.checkpoint_every = checkpoint_every
        self.seed = seed
        self.loss = loss
        self.n_threads = n_threads
        self.n_members = n_members
        self.uncertainty = uncertainty
        self.nll_beta = nll_beta
        self.nll_warmup = nll_warmup

    # ``dtype`` is both a hyperparameter and the base-class property (the precision the
    # model computes in), so it is a read-write property here.
    @property
    def dtype(self) -> str:  # type: ignore[override]
        """Precision of the weights and the arithmetic: 'float32' or 'float64'."""
        return self._dtype

    @dtype.setter
    def dtype(self, value: str) -> None:
        self._dtype = value

    # -- to implement ------------------------------------------------------------------
    def _build_module(self, n_features: int) -> nn.Module:
        """The untrained network mapping (B, n_features) to (B, 1)."""
        raise NotImplementedError

    # -- helpers -------------------------------------------------------------------------
    def _torch_dtype(self) -> torch.dtype:
        try:
            return _DTYPES[self.dtype]
        except KeyError:
            raise ConfigError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}") from None

    def _torch_device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        if self.device not in ("cpu", "cuda") and not str(self.device).startswith("cuda:"):
            raise ConfigError(f"device must be 'auto', 'cpu' or 'cuda', got {self.device!r}")
        if str(self.device).startswith("cuda") and not torch.cuda.is_available():
            raise ConfigError("device='cuda' but no CUDA device is available; use 'auto' or 'cpu'")
        return torch.device(self.device)

    def _new_module(self, n_features: int) -> nn.Module:
        """Build the network (an :class:`Ensemble` when ``n_members`` > 1) with weights
        initialised from the seeds (global RNG untouched)."""
        return self._build_module_on(n_features, self._torch_device())

    def _build_module_on(self, n_features: int, device: torch.device | str) -> nn.Module:
        members = [self._member_module(n_features, device, member_seed(int(self.seed), k))
                   for k in range(self._n_members())]
        return members[0] if len(members) == 1 else Ensemble(members).to(device=device)

    def _member_module(self, n_features: int, device: torch.device | str,
                       seed: int) -> nn.Module:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            module = self._build_module(n_features)
        return module.to(dtype=self._torch_dtype(), device=device)

    def _n_members(self) -> int:
        return int(self.n_members)

    @property
    def _n_outputs(self) -> int:
        """Outputs of one network: the value, plus log sigma^2 with the gaussian head."""
        return 2 if self.uncertainty == "gaussian" else 1

    def to_device(self, device: str) -> TorchRegressor:
        """Move the fitted network to ``device`` ('cpu', 'cuda', 'cuda:N'); returns self.

        Predictions on another device agree with the CPU's to float rounding only (the
        summation order differs), so artifacts are verified on the CPU before moving.
        """
        check_fitted(self, "model_")
        if device != "cpu" and not str(device).startswith("cuda"):
            raise ConfigError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {device!r}")
        if str(device).startswith("cuda") and not torch.cuda.is_available():
            raise ConfigError(f"device={device!r} but torch sees no CUDA device; use 'cpu'")
        self.model_ = self.model_.to(device=device)
        return self

    @property
    def device_(self) -> str:
        """Where the fitted network lives ('cpu', 'cuda:0', ...)."""
        check_fitted(self, "model_")
        return str(next(self.model_.parameters()).device)

    def _check_config(self) -> None:
        self._torch_dtype()
        make_activation(self.activation)
        if self.loss not in _LOSSES:
            raise ConfigError(f"unknown loss {self.loss!r}; choose one of {', '.join(_LOSSES)}")
        if self.lr_schedule not in _SCHEDULES:
            raise ConfigError(
                f"unknown lr_schedule {self.lr_schedule!r}; choose one of {', '.join(_SCHEDULES)}"
            )
        for key in ("width", "depth", "epochs", "batch_size", "checkpoint_every", "n_members"):
            if int(getattr(self, key)) < 1:
                raise ConfigError(f"{key} must be a positive integer, got {getattr(self, key)!r}")
        if self.uncertainty not in _UNCERTAINTIES:
            raise ConfigError(
                f"unknown uncertainty {self.uncertainty!r}; choose None (none or, with "
                "n_members > 1, the ensemble spread) or 'gaussian' (a heteroscedastic head)")
        if self.uncertainty == "gaussian":
            if not 0.0 <= float(self.nll_warmup) < 1.0:
                raise ConfigError(
                    f"nll_warmup must be a fraction of the epochs in [0, 1), got {self.nll_warmup!r}")
            if not 0.0 <= float(self.nll_beta) <= 1.0:
                raise ConfigError(f"nll_beta must be in [0, 1], got {self.nll_beta!r}")

    def _cosine_lr(self, epoch: int) -> float:
        f = float(self.lr_min_factor)
        t = epoch / max(1, int(self.epochs) - 1)
        return float(self.learning_rate) * (f + (1.0 - f) * 0.5 * (1.0 + math.cos(math.pi * t)))

    # -- fit -----------------------------------------------------------------------------
    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        *,
        x_val: np.ndarray | None = None,
        y_val: np.ndarray | None = None,
        checkpoint_dir: str | Path | None = None,
        resume: bool = False,
        progress: bool = False,
    ) -> TorchRegressor:
        """Train with AdamW; early-stop on (x_val, y_val) or a seeded 10% hold-out."""
        self._check_config()
        x, y, x_val, y_val = validation_split(x, y, x_val, y_val, int(self.seed))
        with _torch_threads(self.n_threads):
            self._fit(x, y, x_val, y_val, checkpoint_dir, resume, progress)
        return self

    def _fit(self, x, y, x_val, y_val, checkpoint_dir, resume, progress) -> None:
        """Train the ``n_members`` networks one after the other (member k checkpoints into
        ``checkpoint_dir/member-k`` when there are several)."""
        n_members = self._n_members()
        members, states = [], []
        for k in range(n_members):
            ckpt = None
            if checkpoint_dir is not None:
                ckpt = Path(checkpoint_dir)
                if n_members > 1:
                    ckpt = ckpt / f"member-{k:02d}"
            module, state = self._fit_member(x, y, x_val, y_val, ckpt, resume, progress,
                                             member_seed(int(self.seed), k))
            members.append(module)
            states.append(state)
        model = members[0] if n_members == 1 else Ensemble(members)
        model.eval()
        self.model_ = model
        self.n_features_ = int(x.shape[1])
        self.history_ = states[0]["history"]
        self.best_epoch_ = int(states[0]["best_epoch"])
        self.best_val_loss_ = float(states[0]["best_val"])
        self.n_epochs_ = int(states[0]["epoch"])
        if n_members > 1:
            self.member_best_val_loss_ = [float(st["best_val"]) for st in states]
            self.member_n_epochs_ = [int(st["epoch"]) for st in states]

    def _warmup_epochs(self) -> int:
        """Epochs trained on the MSE before the NLL (gaussian head only)."""
        if self.uncertainty != "gaussian":
            return 0
        return int(round(float(self.nll_warmup) * int(self.epochs)))

    def _fit_member(self, x, y, x_val, y_val, ckpt, resume, progress, seed):
        """Train one network from ``seed``; returns (module with its best weights, state)."""
        device, tdtype = self._torch_device(), self._torch_dtype()
        model = self._member_module(x.shape[1], device, seed)
        optimizer = torch.optim.AdamW(
            model.parameters(), lr=float(self.learning_rate), weight_decay=float(self.weight_decay)
        )
        xt = torch.as_tensor(x, dtype=tdtype, device=device)
        yt = torch.as_tensor(y, dtype=tdtype, device=device)
        xv = torch.as_tensor(x_val, dtype=tdtype, device=device)
        yv = torch.as_tensor(y_val, dtype=tdtype, device=device)

        state: dict[str, Any] = {
            "epoch": 0,  # epochs completed
            "lr": float(self.learning_rate),
            "best_val": math.inf,
            "best_epoch": 0,
            "bad_epochs": 0,
            "plateau_best": math.inf,
            "plateau_bad": 0,
            "history": {"train_loss": [], "val_loss": [], "lr": []},
        }
        best_weights = _cpu_state(model)
        digest = _data_digest(x, y, x_val, y_val) if ckpt is not None else ""
        if ckpt is not None:
            ckpt.mkdir(parents=True, exist_ok=True)
            if resume:
                loaded = self._read_checkpoint(ckpt, digest, model, optimizer)
                if loaded is not None:
                    state, best_weights = loaded

        n, bs, epochs = x.shape[0], int(self.batch_size), int(self.epochs)
        n_warm = self._warmup_epochs()
        log = get_logger(f"zoo.plugins.{type(self).__name__}")
        with task("training (torch)", total=epochs - state["epoch"], unit="epochs",
                  enabled=progress) as advance:
            patience = None if self.patience is None else int(self.patience)
            while state["epoch"] < epochs and (
                patience is None or state["bad_epochs"] < patience
            ):  # a resumed run that had already stopped early does not train on
                epoch = state["epoch"]
                nll = self.uncertainty == "gaussian" and epoch >= n_warm
                if nll and epoch == n_warm:
                    # the NLL phase starts: the head starts at the warm-up's training MSE,
                    # and the best weights and early stopping count from here
                    self._start_head(model, xt, yt)
                    state.update(best_val=math.inf, bad_epochs=0, plateau_best=math.inf,
                                 plateau_bad=0)
                if self.lr_schedule == "cosine":
                    state["lr"] = self._cosine_lr(epoch)
                for group in optimizer.param_groups:
                    group["lr"] = state["lr"]
                loss_fn = self._loss_function(nll)
                train_loss = self._train_epoch(model, optimizer, loss_fn, xt, yt, epoch, n, bs,
                                               seed=seed)
                val_loss = self._eval_loss(model, self._loss_function(nll, beta=0.0), xv, yv)
                if not (math.isfinite(train_loss) and math.isfinite(val_loss)):
                    raise NumericalError(
                        f"training diverged at epoch {epoch + 1} (loss {train_loss}); "
                        "lower learning_rate or check the target scaling"
                    )
                hist = state["history"]
                hist["train_loss"].append(train_loss)
                hist["val_loss"].append(val_loss)
                hist["lr"].append(state["lr"])
                state["epoch"] = epoch + 1
                if val_loss < state["best_val"]:
                    state.update(best_val=val_loss, best_epoch=epoch + 1, bad_epochs=0)
                    best_weights = _cpu_state(model)
                else:
                    state["bad_epochs"] += 1
                if self.lr_schedule == "plateau":
                    if val_loss < state["plateau_best"]:
                        state.update(plateau_best=val_loss, plateau_bad=0)
                    else:
                        state["plateau_bad"] += 1
                        if state["plateau_bad"] > int(self.lr_patience):
                            state.update(lr=state["lr"] * float(self.lr_factor), plateau_bad=0)
                if epoch + 1 < n_warm:  # no early stop before the head has trained
                    state["bad_epochs"] = 0
                stop = patience is not None and state["bad_epochs"] >= patience
                if ckpt is not None and (
                    state["epoch"] % int(self.checkpoint_every) == 0
                    or stop
                    or state["epoch"] == epochs
                ):
                    self._write_checkpoint(ckpt, digest, state, model, optimizer, best_weights,
                                           seed=seed)
                advance(1)
                log.debug("epoch %d: train %.3e val %.3e best %.3e lr %.2e", state["epoch"],
                          train_loss, val_loss, state["best_val"], state["lr"])
                if stop:
                    break

        model.load_state_dict(best_weights)
        model.eval()
        return model, state

    def _loss_function(self, nll: bool, beta: float | None = None):
        """``loss(out (B, C), y (B,))``: the configured loss of the value column, or with
        ``nll`` the beta-NLL of the gaussian head (``beta`` None: ``nll_beta``)."""
        if not nll:
            base = _LOSSES[self.loss]()
            return lambda out, yb: base(out[:, 0], yb)
        b = float(self.nll_beta if beta is None else beta)

        def beta_nll(out: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
            mu = out[:, 0]
            logvar = out[:, 1].clamp(-_LOGVAR_CLAMP, _LOGVAR_CLAMP)
            per_point = 0.5 * (logvar + (yb - mu) ** 2 * torch.exp(-logvar))
            if b > 0.0:
                per_point = per_point * torch.exp(b * logvar).detach()
            return per_point.mean()

        return beta_nll

    @torch.no_grad()
    def _start_head(self, model: nn.Module, xt: torch.Tensor, yt: torch.Tensor) -> None:
        """Set the bias of the log sigma^2 output to the log of the current training MSE."""
        model.eval()
        pred = torch.cat([model(xt[s : s + PREDICT_CHUNK])[:, 0]
                          for s in range(0, xt.shape[0], PREDICT_CHUNK)])
        mse = float(torch.mean((pred.to(torch.float64) - yt.to(torch.float64)) ** 2))
        out = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
        if out.bias is not None:
            out.bias[1] = math.log(max(mse, 1e-30))

    def _train_epoch(self, model, optimizer, loss_fn, xt, yt, epoch, n, bs, seed=None) -> float:
        """One pass over the shuffled training set; returns the mean training loss."""
        model.train()
        seed = int(self.seed) if seed is None else int(seed)
        perm = np.random.default_rng([seed, int(epoch)]).permutation(n)
        perm_t = torch.as_tensor(perm, device=xt.device)
        total = torch.zeros((), dtype=torch.float64, device=xt.device)
        for start in range(0, n, bs):
            idx = perm_t[start : start + bs]
            xb, yb = xt[idx], yt[idx]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.detach().to(torch.float64) * idx.shape[0]
        return float(total.item()) / n

    @torch.inference_mode()
    def _eval_loss(self, model, loss_fn, xv, yv) -> float:
        """Mean validation loss, evaluated in float64 over prediction chunks."""
        model.eval()
        pred = torch.cat(
            [model(xv[s : s + PREDICT_CHUNK]) for s in range(0, xv.shape[0], PREDICT_CHUNK)]
        )
        return float(loss_fn(pred.to(torch.float64), yv.to(torch.float64)).item())

    # -- checkpoints -------------------------------------------------------------------
    def _write_checkpoint(self, ckpt: Path, digest, state, model, optimizer, best_weights,
                          seed: int | None = None) -> None:
        """Write ckpt-<epoch>.safetensors then ckpt-<epoch>.json (the commit marker)."""
        seed = int(self.seed) if seed is None else int(seed)
        stem = f"ckpt-{state['epoch']:06d}"
        tensors = {f"model/{k}": v for k, v in _cpu_state(model).items()}
        tensors.update({f"best/{k}": v.contiguous() for k, v in best_weights.items()})
        for idx, pstate in optimizer.state_dict()["state"].items():
            for key, value in pstate.items():
                if torch.is_tensor(value):
                    tensors[f"optim/{idx}/{key}"] = value.detach().to("cpu").contiguous().clone()
        tmp = ckpt / f"{stem}.safetensors.tmp"
        save_file(tensors, str(tmp), metadata={"format": CHECKPOINT_FORMAT})
        os.replace(tmp, ckpt / f"{stem}.safetensors")
        meta = {
            "format": CHECKPOINT_FORMAT,
            "regressor": self.name,
            "params": self.get_params(),
            "data_sha256": digest,
            "epoch": state["epoch"],
            "lr": state["lr"],
            "best_val": _finite_or_none(state["best_val"]),
            "best_epoch": state["best_epoch"],
            "bad_epochs": state["bad_epochs"],
            "plateau_best": _finite_or_none(state["plateau_best"]),
            "plateau_bad": state["plateau_bad"],
            "history": state["history"],
            # batches of epoch e are shuffled by numpy.random.default_rng([seed, e])
            "rng": {
                "init_seed": seed,
                "next_shuffle_seed": [seed, state["epoch"]],
            },
        }
        tmp = ckpt / f"{stem}.json.tmp"
        tmp.write_text(json.dumps(meta, indent=1))
        os.replace(tmp, ckpt / f"{stem}.json")
        for old in ckpt.glob("ckpt-*.json"):  # keep only the newest committed checkpoint
            if old.stem != stem:
                old.unlink(missing_ok=True)
                (ckpt / f"{old.stem}.safetensors").unlink(missing_ok=True)

    def _read_checkpoint(self, ckpt: Path, digest, model, optimizer):
        """Restore the newest complete checkpoint; None when there is none."""
        for meta_path in sorted(ckpt.glob("ckpt-*.json"), reverse=True):
            weights_path = meta_path.with_suffix(".safetensors")
            if not weights_path.is_file():
                continue
            meta = json.loads(meta_path.read_text())
            if meta.get("format") != CHECKPOINT_FORMAT:
                raise ArtifactError(f"{meta_path} is not a {CHECKPOINT_FORMAT} checkpoint")
            if meta["params"] != json.loads(json.dumps(self.get_params())):
                raise ConfigError(
                    f"checkpoint {meta_path} was written with other hyperparameters; "
                    "resume with the same ones or use another checkpoint_dir"
                )
            if meta["data_sha256"] != digest:
                raise ConfigError(
                    f"checkpoint {meta_path} was written for other training data; "
                    "resume with the same data (and validation set) or start afresh"
                )
            tensors = load_file(str(weights_path))
            model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model/")})
            best = {k[5:]: v for k, v in tensors.items() if k.startswith("best/")}
            opt_state = optimizer.state_dict()
            restored: dict[int, dict[str, torch.Tensor]] = {}
            for key, value in tensors.items():
                if key.startswith("optim/"):
                    _, idx, name = key.split("/", 2)
                    restored.setdefault(int(idx), {})[name] = value
            opt_state["state"] = restored
            optimizer.load_state_dict(opt_state)
            inf = math.inf
            state = {
                "epoch": int(meta["epoch"]),
                "lr": float(meta["lr"]),
                "best_val": inf if meta["best_val"] is None else float(meta["best_val"]),
                "best_epoch": int(meta["best_epoch"]),
                "bad_epochs": int(meta["bad_epochs"]),
                "plateau_best": inf
                if meta["plateau_best"] is None
                else float(meta["plateau_best"]),
                "plateau_bad": int(meta["plateau_bad"]),
                "history": meta["history"],
            }
            return state, best
        return None

    # -- predict / storage -------------------------------------------------------------
    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predict in inference mode, in chunks of 4096 rows; returns (N,) float64 (with
        ``n_members`` > 1 the members' mean)."""
        return self._evaluate(x, sigma=False)[0]

    @property
    def has_uncertainty(self) -> bool:
        """True for a fitted ensemble (``n_members`` > 1) or gaussian-head network."""
        return getattr(self, "model_", None) is not None and (
            self._n_members() > 1 or self.uncertainty == "gaussian")

    def predict_uncertainty(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(predict(x), s)``: ``s^2`` = the members' variance (Bessel-corrected, with
        ``n_members`` > 1) + the mean of the members' ``exp(log sigma^2)`` (gaussian head),
        in the regressor's output space (module docstring)."""
        if not self.has_uncertainty:
            return super().predict_uncertainty(x)
        y, s = self._evaluate(x, sigma=True)
        return y, s

    def _members(self) -> list[nn.Module]:
        model = self.model_
        return list(model.members) if isinstance(model, Ensemble) else [model]

    def _evaluate(self, x: np.ndarray, *, sigma: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """(value, s or None), both (N,) float64, from the members' outputs in float64."""
        check_fitted(self, "model_")
        x = check_x(x, self.n_features_)
        members = self._members()
        n_members = len(members)
        param = next(self.model_.parameters())
        out = np.empty(x.shape[0], dtype=np.float64)
        s_out = np.empty(x.shape[0], dtype=np.float64) if sigma else None
        self.model_.eval()
        with _torch_threads(self.n_threads), torch.inference_mode():
            for s in range(0, x.shape[0], PREDICT_CHUNK):
                xb = torch.as_tensor(
                    x[s : s + PREDICT_CHUNK], dtype=param.dtype, device=param.device
                )
                outs = np.stack([m(xb).to("cpu", torch.float64).numpy() for m in members])
                value = outs[0, :, 0] if n_members == 1 else outs[:, :, 0].mean(axis=0)
                out[s : s + PREDICT_CHUNK] = value
                if s_out is None:
                    continue
                var = np.zeros(value.shape[0], dtype=np.float64)
                if n_members > 1:
                    var += ((outs[:, :, 0] - value) ** 2).sum(axis=0) / (n_members - 1)
                if outs.shape[2] > 1:
                    var += np.exp(outs[:, :, 1]).mean(axis=0)
                s_out[s : s + PREDICT_CHUNK] = np.sqrt(var)
        return out, s_out

    def save(self, directory: Path) -> list[str]:
        """Write ``model.safetensors`` (weights in the trained dtype)."""
        check_fitted(self, "model_")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        meta = {
            "regressor": self.name,
            "version": self.version,
            "n_features": str(self.n_features_),
            "n_members": str(self._n_members()),
            "uncertainty": str(self.uncertainty),
        }
        save_file(_cpu_state(self.model_), str(directory / WEIGHTS_FILE), metadata=meta)
        return [WEIGHTS_FILE]

    @classmethod
    def load(cls, directory: Path, params: dict[str, Any]) -> TorchRegressor:
        """Rebuild the network from ``params`` and load ``model.safetensors``."""
        path = stored_file(directory, WEIGHTS_FILE)
        reg = cls(**params)
        try:
            with safe_open(str(path), framework="pt") as f:
                meta = f.metadata() or {}
            n_features = int(meta["n_features"])
            weights = load_file(str(path))
        except (KeyError, ValueError, OSError) as exc:
            raise ArtifactError(f"cannot read {path}: {exc}") from exc
        # on the ``device`` of params (auto: a GPU when present), on the CPU when it names a
        # GPU this machine lacks (a model trained on a GPU loads anywhere); reference points
        # are recorded and re-predicted on the CPU (``Model.predict_on_cpu``)
        if str(reg.device).startswith("cuda") and not torch.cuda.is_available():
            model = reg._build_module_on(n_features, "cpu")
        else:
            model = reg._new_module(n_features)
        for key, value in weights.items():
            if value.dtype != reg._torch_dtype():
                raise ArtifactError(
                    f"{path}: tensor {key} is {value.dtype}, but params say dtype={reg.dtype!r}"
                )
        try:
            model.load_state_dict(weights, strict=True)
        except RuntimeError as exc:
            raise ArtifactError(f"{path} does not match the architecture in params: {exc}") from exc
        model.eval()
        reg.model_ = model
        reg.n_features_ = n_features
        return reg

    # -- ONNX form and fast path (:mod:`.network`, :mod:`.network_fast`) ------------------
    def onnx_nodes(self, graph: Graph, x: str) -> str:
        """The network's layers (MatMul/Add/activations in the trained dtype): (N, 1)."""
        from .network import onnx_nodes

        return onnx_nodes(self, graph, x)

    def onnx_uncertainty_nodes(self, graph: Graph, x: str) -> str:
        """sigma (N, 1) float64 from the same member subgraphs as :meth:`onnx_nodes`
        (:func:`.network.onnx_uncertainty_nodes`)."""
        if not self.has_uncertainty:
            return super().onnx_uncertainty_nodes(graph, x)
        from .network import onnx_uncertainty_nodes

        return onnx_uncertainty_nodes(self, graph, x)

    def fast_predictor(self, *, backend: str = "auto", n_threads: int | None = None,
                       chunk: int | None = None) -> Predictor:
        """ONNX Runtime / chunked torch / numba by batch size; backends ``onnxruntime``,
        ``numpy``, ``torch`` and ``native`` on request (:func:`.network_fast.fast_predictor`)."""
        if getattr(self, "model_", None) is None:
            return super().fast_predictor(backend=backend, n_threads=n_threads, chunk=chunk)
        from zoo.runtime.inference import CHUNK

        from .network_fast import fast_predictor

        return fast_predictor(self, backend=backend, n_threads=n_threads,
                              chunk=CHUNK if chunk is None else chunk)

    @property
    def n_parameters(self) -> int:
        model = getattr(self, "model_", None)
        return 0 if model is None else int(sum(p.numel() for p in model.parameters()))


