"""Fitting speed of the davies preset (8x32 ReLU + tanh, L1, Adam 1e-4): the fit engine against
a lean all-tensor loop of the same math, per step and as shapes per hour at Davies' budget.

Engine: inrzoo.fit.engine.GroupFitter, as fit_batch runs it (counter-based sample streams,
per-shape epochs, schedules and stop decisions on the device, the synchronization points of a
real fit). Its steady-state time per step is measured inside an epoch (the best of --repeats
epochs, after one warm-up epoch; the machine is noisy and noise only ever adds time); the
epoch-end work (read back, stop decisions, next permutations) is timed on its own and spread
over the steps of a Davies epoch (1M samples per shape / batch). Shapes per hour then follow
from Davies' budget: 100 epochs of 1M samples in batches of 2048 = 48,800 steps per shape.

Lean loop: the same architecture, initialization, loss and torch.optim.Adam on one [K, P]
parameter tensor, batches drawn with torch.randint, nothing else (no epochs, no stopping
rules, no per-shape learning rates): the floor a fit engine can approach. `ratio` is the
engine's time per step over the lean loop's, measured in the same run. Extras (--extras, CUDA):
the lean loop with TF32 matmuls and with bf16 autocast, and the engine under bf16 autocast,
reported for information only (the fit path runs float32; lower precision must first be shown
not to change surface errors). Each K runs in its own process(es), so that one that fails (out
of memory) does not stop the others; peak memory is that of the process's first variant.

    .venv/bin/python benchmarks/fit_speed.py                                 # CPU: K 16, 64; 1 and 2 threads
    .venv/bin/python benchmarks/fit_speed.py --ks 1024 --batch 16 --threads 1
    python benchmarks/fit_speed.py --device cuda --extras --json out.json    # K 1, 64, 512, 2048, 8192

Needs torch and numpy only (plus the repository: PYTHONPATH=platform without an install).
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from contextlib import nullcontext

import numpy as np
import torch

from inrzoo.fit import make_loss, preset
from inrzoo.inr import build, flatten_params, unflatten_params

DAVIES_SAMPLES = 1_000_000
DAVIES_STEPS_PER_SHAPE = 100 * (DAVIES_SAMPLES // 2048)
CUDA_KS = [1, 64, 512, 2048, 8192]


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


def _config(batch: int, device: str, chunk: int):
    cfg = preset("davies", max_epochs=0, max_steps=10**9, batch_size=batch, shape_chunk=chunk, device=device)
    cfg.early_stopping.enabled = False
    return cfg


def _synchronize(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _precision(variant: str, device: str):
    """TF32 matmuls for the tf32/bf16 extras; a bf16 autocast context for the bf16 ones."""
    if device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = variant.endswith(("tf32", "bf16"))
    if variant.endswith("bf16"):
        return torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16)
    return nullcontext()


class EngineTimer:
    """The engine's GroupFitter; each window times one epoch: its steps, then the step that
    ends it together with the epoch-end work."""

    def __init__(self, k: int, batch: int, epoch_steps: int, device: str, chunk: int, variant: str = "engine"):
        from inrzoo.fit.engine import GroupFitter  # the engine of this branch (see --method fit_batch)

        cfg = _config(batch, device, chunk)
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
                "steps_done": self.fitter.t,
                "first_params": {n: p[0].float().cpu().numpy().tolist() for n, p in first.items()}}


class LeanLoop:
    """K INRs as one [K, P] leaf; per step: random batch, forward, L1 per shape, backward, Adam.
    Each window times epoch_steps - 1 steps, like the engine's."""

    def __init__(self, k: int, batch: int, epoch_steps: int, device: str, variant: str = "lean"):
        cfg = _config(batch, device, 0)
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

    def __init__(self, k: int, batch: int, epoch_steps: int, device: str, chunk: int):
        from types import SimpleNamespace

        points, values = synthetic_shapes(k, batch * epoch_steps)
        self.shapes = [SimpleNamespace(points=p, values=v, field="sdf") for p, v in zip(points, values)]
        self.k, self.batch, self.epoch_steps, self.device, self.chunk = k, batch, epoch_steps, device, chunk
        self.estimates: list[tuple[float, float]] = []
        self._fit(2)  # warm-up

    def _fit(self, steps: int) -> float:
        from inrzoo.fit import fit_batch

        cfg = _config(self.batch, self.device, self.chunk)
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


def worker(variants: list[str], k: int, threads: int, batch: int, epoch_steps: int, device: str, chunk: int,
           repeats: int, method: str) -> list[dict]:
    """Time `variants` in this process, their windows interleaved (so that load on a shared
    machine falls on all of them alike); memory is the first variant's peak."""
    torch.set_num_threads(threads)
    base_rss = _rss_kib()
    timers = []
    for variant in variants:
        if variant.startswith("engine") and method == "fit_batch":
            timers.append(FitBatchTimer(k, batch, epoch_steps, device, chunk))
        elif variant.startswith("engine"):
            timers.append(EngineTimer(k, batch, epoch_steps, device, chunk, variant))
        else:
            timers.append(LeanLoop(k, batch, epoch_steps, device, variant))
        if len(timers) == 1:
            peak_mib = _peak_mib(device, base_rss)
    for _ in range(repeats):
        for timer in timers:
            timer.window()
    common = {"k": k, "threads": threads, "batch": batch, "epoch_steps": epoch_steps, "chunk": chunk,
              "device": device, "method": method}
    return [{**t.result(), **common, "variant": v, **({"peak_mib_per_inr": peak_mib / k} if i == 0 else {})}
            for i, (v, t) in enumerate(zip(variants, timers))]


def _peak_mib(device: str, base_rss_kib: int) -> float:
    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**20
    return max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base_rss_kib, 0) / 1024  # KiB on Linux


def _rss_kib() -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))


def run_group(variants: list[str], k: int, threads: int, args) -> dict[str, dict]:
    """One process timing `variants` together; {variant: row}, rows with "error" if it failed."""
    cmd = [sys.executable, __file__, "--worker", ",".join(variants), str(k), str(threads), str(args.batch),
           str(args.epoch_steps), args.device, str(args.chunk), str(args.repeats), args.method]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return {v: {"variant": v, "k": k, "threads": threads, "error": tail[0][:160]} for v in variants}
    return {row["variant"]: row for row in json.loads(done.stdout.strip().splitlines()[-1])}


def summarize(row: dict, lean: dict | None, alone: dict | None) -> dict:
    """Per-step time at a Davies epoch (1M samples / batch steps), shapes/hour, ratio to the lean loop."""
    davies_epoch = max(DAVIES_SAMPLES // row["batch"], 1)
    per_step = row["step_s"] + row["epoch_end_s"] / davies_epoch
    out = {**row, "ms_per_step": 1000 * per_step, "shapes_per_hour": 3600 * row["k"] / (per_step * DAVIES_STEPS_PER_SHAPE)}
    if lean and "error" not in lean and row is not lean:
        out["ratio_to_lean"] = per_step / lean["step_s"]
    if alone and "first_params" in row and "first_params" in alone and alone["steps_done"] == row["steps_done"]:
        out["max_abs_dw_vs_k1"] = max(
            float(np.max(np.abs(np.asarray(row["first_params"][n]) - np.asarray(alone["first_params"][n]))))
            for n in alone["first_params"])
    out.pop("first_params", None)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu", help="cpu or cuda (default K then 1 64 512 2048 8192)")
    ap.add_argument("--ks", type=int, nargs="+")
    ap.add_argument("--threads", type=int, nargs="+", help="torch CPU threads (default 1 2 on CPU, 1 on CUDA)")
    ap.add_argument("--batch", type=int, default=2048)
    ap.add_argument("--epoch-steps", type=int, default=32, help="samples per shape = batch x this")
    ap.add_argument("--chunk", type=int, default=-1, help="FitConfig.shape_chunk (-1 auto, 0 all K at once)")
    ap.add_argument("--repeats", type=int, default=3, help="timed epochs per configuration; the best counts")
    ap.add_argument("--extras", action="store_true", help="also TF32 / bf16-autocast variants (reported only)")
    ap.add_argument("--separate", action=argparse.BooleanOptionalAction, default=None,
                    help="engine variants and lean-loop variants in two processes (default on CUDA: memory) "
                         "instead of all interleaved in one (default on CPU: a shared machine's load falls on "
                         "all alike)")
    ap.add_argument("--json", help="also write every row to this JSON file")
    ap.add_argument("--method", choices=["steps", "fit_batch"], default="steps",
                    help="engine timing: steps (GroupFitter, epoch ends timed apart) or fit_batch (long fit minus "
                         "short fit, works with any engine version)")
    ap.add_argument("--worker", nargs=9, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        variants, k, threads, batch, epoch_steps, device, chunk, repeats, method = args.worker
        print(json.dumps(worker(variants.split(","), int(k), int(threads), int(batch), int(epoch_steps), device,
                                int(chunk), int(repeats), method)))
        return
    cuda = args.device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        sys.exit(f"--device {args.device}: torch {torch.__version__} sees no CUDA device")
    ks = args.ks or (CUDA_KS if cuda else [16, 64])
    threads = args.threads or ([1] if cuda else [1, 2])
    variants = ["engine", "lean"] + (["lean-tf32", "lean-bf16", "engine-bf16"] if args.extras else [])
    name = torch.cuda.get_device_name() if cuda else "cpu"
    print(f"davies preset on {name}, torch {torch.__version__}; batch {args.batch}, {args.batch * args.epoch_steps:,} "
          f"samples per shape ({args.epoch_steps} steps per epoch); epoch ends spread over a Davies epoch of "
          f"{DAVIES_SAMPLES // args.batch} steps; {DAVIES_STEPS_PER_SHAPE:,} steps per shape", flush=True)
    print(f"{'threads':>7} {'variant':>11} {'K':>5} {'step ms':>9} {'epoch-end ms':>12} {'ms/step':>9} "
          f"{'shapes/hour':>11} {'ratio':>6} {'setup s':>7} {'MiB/INR':>8} {'|dw| vs K=1':>11}", flush=True)
    separate = cuda if args.separate is None else args.separate
    engines = [v for v in variants if v.startswith("engine")]
    groups = [engines, [v for v in variants if v not in engines]] if separate else [variants]
    rows = []
    for t in threads:
        alone = run_group(["engine"], 1, t, args)["engine"] if ks[0] != 1 else None  # batched = alone check
        for k in ks:
            measured = {v: row for group in groups for v, row in run_group(group, k, t, args).items()}
            if k == 1:
                alone = measured["engine"]
            for variant in variants:
                row = measured[variant]
                if "error" in row:
                    print(f"{t:>7} {variant:>11} {k:>5} failed: {row['error']}", flush=True)
                    rows.append(row)
                    continue
                row = summarize(row, measured["lean"], alone)
                rows.append(row)
                ratio = f"{row['ratio_to_lean']:>5.2f}x" if "ratio_to_lean" in row else f"{'-':>6}"
                dw = f"{row['max_abs_dw_vs_k1']:>11.1e}" if "max_abs_dw_vs_k1" in row else f"{'-':>11}"
                setup = f"{row['setup_s']:>7.2f}" if variant.startswith("engine") else f"{'-':>7}"
                mib = f"{row['peak_mib_per_inr']:>8.2f}" if "peak_mib_per_inr" in row else f"{'-':>8}"
                print(f"{t:>7} {variant:>11} {k:>5} {1000 * row['step_s']:>9.3f} {1000 * row['epoch_end_s']:>12.2f} "
                      f"{row['ms_per_step']:>9.3f} {row['shapes_per_hour']:>11,.0f} {ratio} {setup} "
                      f"{mib} {dw}", flush=True)
            if args.json:  # after every K: a run cut short keeps what it measured
                with open(args.json, "w") as fh:
                    json.dump({"device": name, "torch": torch.__version__, "args": vars(args), "rows": rows}, fh,
                              indent=1)


if __name__ == "__main__":
    main()
