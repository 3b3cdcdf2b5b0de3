"""The timed loops of benchmarks/fit_speed.py (imported by it, and run in its worker processes):
the engine (GroupFitter, with the torch path or the fused kernel), the lean all-tensor loop, and
the engine through fit_batch alone; synthetic shapes; the variants' settings."""

from __future__ import annotations

import dataclasses
import resource
import time
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import torch

from inrzoo.fit import make_loss, preset
from inrzoo.inr import build, flatten_params, unflatten_params


def synthetic_shapes(k: int, n: int, pool: int = 16) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Sphere SDFs of varied radius and centre; `pool` distinct ones repeated to K (the content
    does not change the cost of a step, and K x n distinct samples would not fit in memory)."""
    points, values = [], []
    for i in range(min(k, pool)):
        rng = np.random.default_rng(i)
        pts = rng.uniform(-1, 1, (n, 3)).astype(np.float32)
        centre = rng.uniform(-0.2, 0.2, 3)
        points.append(pts)
        values.append((np.linalg.norm(pts - centre, axis=1) - rng.uniform(0.2, 0.6)).astype(np.float32))
    return [points[i % pool] for i in range(k)], [values[i % pool] for i in range(k)]


@dataclass(frozen=True)
class Variant:
    """What one timed loop runs: the engine or the lean loop; the engine's MLP kernel and the
    fused kernel's operand precision; TF32 matmuls and bf16 autocast around torch's products."""

    loop: str
    kernel: str = "torch"
    precision: str = "fp32"
    tf32: bool = False
    autocast_bf16: bool = False


VARIANTS = {
    "engine": Variant("engine"),
    "engine-fused": Variant("engine", "fused"),
    "engine-fused-tf32x3": Variant("engine", "fused", "tf32x3"),
    "engine-fused-tf32": Variant("engine", "fused", "tf32"),
    "engine-fused-bf16": Variant("engine", "fused", "bf16"),
    "engine-bf16": Variant("engine", tf32=True, autocast_bf16=True),
    "lean": Variant("lean"),
    "lean-tf32": Variant("lean", tf32=True),
    "lean-bf16": Variant("lean", tf32=True, autocast_bf16=True),
}


@dataclass(frozen=True)
class Setting:
    """One worker process's measurement (passed to it as JSON)."""

    k: int
    threads: int
    batch: int
    epoch_steps: int
    device: str
    chunk: int
    repeats: int
    method: str
    preset: str


def fit_config(s: Setting, variant: str = "engine"):
    """The preset's fit with no stopping rule (the timed loop runs as long as it is asked)."""
    v = VARIANTS[variant]
    cfg = preset(s.preset, max_epochs=0, max_steps=10**9, batch_size=s.batch, shape_chunk=s.chunk, device=s.device,
                 mlp_kernel=v.kernel, fused_precision=v.precision)
    cfg.early_stopping.enabled = False
    return cfg


def _synchronize(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _precision(variant: str, device: str):
    """TF32 matmuls and a bf16 autocast context around torch's products, as the variant says."""
    v = VARIANTS[variant]
    if device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = v.tf32
    if v.autocast_bf16:
        return torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16)
    return nullcontext()


class EngineTimer:
    """The engine's GroupFitter; each window times one epoch: its steps, then the step that
    ends it together with the epoch-end work."""

    def __init__(self, s: Setting, variant: str = "engine"):
        from inrzoo.fit.engine import GroupFitter  # the engine of this branch (see --method fit_batch)

        k, batch, epoch_steps, device = s.k, s.batch, s.epoch_steps, s.device
        cfg = fit_config(s, variant)
        points, values = synthetic_shapes(k, batch * epoch_steps)
        self.device, self.epoch_steps, self.variant = device, epoch_steps, variant
        started = time.perf_counter()
        self.fitter = GroupFitter(build(cfg.arch), points, values, list(range(k)), make_loss(cfg.loss, "sdf"), cfg)
        _synchronize(device)
        self.setup_s = time.perf_counter() - started
        self.within: list[float] = []
        self.ends: list[float] = []
        with _precision(variant, device):
            self.fitter.advance(epoch_steps)  # warm-up: allocator, kernels, the first epoch end

    def window(self) -> None:
        with _precision(self.variant, self.device):
            _synchronize(self.device)
            t0 = time.perf_counter()
            self.fitter.advance(self.epoch_steps - 1)
            _synchronize(self.device)
            t1 = time.perf_counter()
            self.fitter.advance(1)
            _synchronize(self.device)
        self.within.append((t1 - t0) / (self.epoch_steps - 1))
        self.ends.append(time.perf_counter() - t1)

    def result(self) -> dict:
        step = min(self.within)  # noise only ever adds time
        first = unflatten_params(self.fitter.rows.params[:1], self.fitter.shapes)
        return {"step_s": step, "epoch_end_s": max(min(self.ends) - step, 0.0), "setup_s": self.setup_s,
                "steps_done": self.fitter.t, "kernel": self.fitter.kernel,
                "first_params": {n: p[0].float().cpu().numpy().tolist() for n, p in first.items()}}


class LeanLoop:
    """K INRs as one [K, P] leaf; per step: random batch, forward, L1 per shape, backward, Adam.
    Each window times epoch_steps - 1 steps, like the engine's."""

    def __init__(self, s: Setting, variant: str = "lean"):
        k, batch, epoch_steps, device = s.k, s.batch, s.epoch_steps, s.device
        cfg = fit_config(dataclasses.replace(s, chunk=0))
        self.arch, self.batch, self.n = build(cfg.arch), batch, batch * epoch_steps
        self.device, self.epoch_steps, self.variant = device, epoch_steps, variant
        self.shapes = self.arch.param_shapes()
        started = time.perf_counter()
        points, values = synthetic_shapes(k, self.n)
        pool = len({id(p) for p in points})
        rows = torch.arange(k, device=device) % pool  # the same pool of shapes as the engine gets
        self.points = torch.from_numpy(np.stack(points[:pool])).to(device)[rows]
        self.values = torch.from_numpy(np.stack(values[:pool])).to(device)[rows]
        init = flatten_params({n: p.unsqueeze(0) for n, p in self.arch.init_params(cfg.seed).items()})
        self.flat = init.to(device).repeat(k, 1).requires_grad_(True)
        opt = cfg.optimizer
        self.adam = torch.optim.Adam([self.flat], lr=opt.lr, betas=(opt.beta1, opt.beta2), eps=opt.eps)
        _synchronize(device)
        self.setup_s = time.perf_counter() - started
        self.times: list[float] = []
        with _precision(variant, device):
            self.steps(epoch_steps)

    def steps(self, count: int) -> None:
        k = self.flat.shape[0]
        for _ in range(count):
            idx = torch.randint(0, self.n, (k, self.batch), device=self.flat.device)
            x = torch.gather(self.points, 1, idx.unsqueeze(-1).expand(-1, -1, 3))
            y = torch.gather(self.values, 1, idx)
            pred = self.arch.forward(unflatten_params(self.flat, self.shapes), x)
            loss = (pred.float() - y).abs().mean(dim=1).sum()
            self.adam.zero_grad(set_to_none=True)
            loss.backward()
            self.adam.step()

    def window(self) -> None:
        with _precision(self.variant, self.device):
            _synchronize(self.device)
            t0 = time.perf_counter()
            self.steps(self.epoch_steps - 1)
            _synchronize(self.device)
        self.times.append((time.perf_counter() - t0) / (self.epoch_steps - 1))

    def result(self) -> dict:
        return {"step_s": min(self.times), "epoch_end_s": 0.0, "setup_s": self.setup_s,
                "steps_done": self.epoch_steps + len(self.times) * (self.epoch_steps - 1)}


class FitBatchTimer:
    """The engine through fit_batch alone, so that any version of it can be timed (an older
    one: --method fit_batch with PYTHONPATH at its checkout). Each window: a fit of 4 epochs
    minus a fit of 1, so setup cancels; epoch ends stay in, at this benchmark's epoch length."""

    def __init__(self, s: Setting):
        from types import SimpleNamespace

        points, values = synthetic_shapes(s.k, s.batch * s.epoch_steps)
        self.shapes = [SimpleNamespace(points=p, values=v, field="sdf") for p, v in zip(points, values)]
        self.setting, self.k, self.epoch_steps, self.device = s, s.k, s.epoch_steps, s.device
        self.estimates: list[tuple[float, float]] = []
        self._fit(2)  # warm-up

    def _fit(self, steps: int) -> float:
        from inrzoo.fit import fit_batch

        cfg = fit_config(self.setting)
        cfg.max_steps = steps
        _synchronize(self.device)
        started = time.perf_counter()
        fit_batch(self.shapes, cfg, stream_ids=list(range(self.k)))
        _synchronize(self.device)
        return time.perf_counter() - started

    def window(self) -> None:
        short, long = self._fit(self.epoch_steps), self._fit(4 * self.epoch_steps)
        step = (long - short) / (3 * self.epoch_steps)
        self.estimates.append((step, max(short - step * self.epoch_steps, 0.0)))

    def result(self) -> dict:
        step, setup = min(self.estimates)
        return {"step_s": step, "epoch_end_s": 0.0, "setup_s": setup, "steps_done": 0}


def worker(variants: list[str], s: Setting) -> list[dict]:
    """Time `variants` in this process, their windows interleaved (so that load on a shared
    machine falls on all of them alike); memory is the first variant's peak."""
    torch.set_num_threads(s.threads)
    base_rss = _rss_kib()
    timers = []
    for variant in variants:
        if VARIANTS[variant].loop == "engine" and s.method == "fit_batch":
            timers.append(FitBatchTimer(s))
        elif VARIANTS[variant].loop == "engine":
            timers.append(EngineTimer(s, variant))
        else:
            timers.append(LeanLoop(s, variant))
        if len(timers) == 1:
            peak_mib = _peak_mib(s.device, base_rss)
    for _ in range(s.repeats):
        for timer in timers:
            timer.window()
    common = dataclasses.asdict(s)
    return [{**t.result(), **common, "variant": v, **({"peak_mib_per_inr": peak_mib / s.k} if i == 0 else {})}
            for i, (v, t) in enumerate(zip(variants, timers))]


def _peak_mib(device: str, base_rss_kib: int) -> float:
    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**20
    return max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base_rss_kib, 0) / 1024  # KiB on Linux


def _rss_kib() -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))
