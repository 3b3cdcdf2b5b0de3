"""The fit engine on a CUDA device: the same sample streams as on CPU, the same fit within
float tolerance, and steps that never wait for the device. Skipped where there is no GPU
(benchmarks/gpu_check.sh runs them on one)."""

import dataclasses

import numpy as np
import pytest
import torch
from fit.fit_helpers import diverging_schedules, sphere_samples, tiny_config

from inrzoo.fit import LossConfig, fit_batch, make_loss
from inrzoo.fit.config import PlateauConfig
from inrzoo.fit.engine import CHECK_EVERY, GroupFitter
from inrzoo.fit.streams import permutations
from inrzoo.inr import ArchSpec, build

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def test_sample_orders_on_cuda_equal_those_on_cpu():
    for n in (5, 700, 70_000, 1_000_000):
        args = (3, np.array([0, 7, 2**40 + 1], dtype=np.uint64), np.array([0, 1, 9]), n)
        assert torch.equal(permutations(*args, device="cuda").cpu(), permutations(*args))


def test_a_fit_on_cuda_follows_the_fit_on_cpu():
    cfg, shapes = diverging_schedules(max_epochs=6)
    cpu = fit_batch(shapes, cfg, stream_ids=[10, 11, 12])
    gpu = fit_batch(shapes, dataclasses.replace(cfg, device="cuda"), stream_ids=[10, 11, 12])
    assert gpu.status == cpu.status and gpu.stop_reasons == cpu.stop_reasons
    for a, b in zip(cpu.metrics, gpu.metrics):
        assert (a["steps"], a["epochs"], a["lr"]) == (b["steps"], b["epochs"], b["lr"])
        assert b["loss"] == pytest.approx(a["loss"], rel=1e-3)
    for a, b in zip(cpu.shape_params, gpu.shape_params):
        for name in a:
            assert b[name].device.type == "cuda"
            torch.testing.assert_close(b[name].cpu(), a[name], rtol=1e-3, atol=1e-4)


CONFIGS = {
    "l1-relu": tiny_config(),
    "curriculum-plateau-per_shape": tiny_config(loss=LossConfig(name="curriculum"), init="per_shape",
                                                plateau=PlateauConfig(enabled=True, patience=0)),
    "bce-siren-eikonal": tiny_config(arch=ArchSpec.default("siren", hidden=[32] * 2),
                                     loss=LossConfig(name="bce", eikonal_weight=0.1)),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_steps_never_wait_for_the_device(name):
    cfg = dataclasses.replace(CONFIGS[name], device="cuda", max_epochs=2)
    shapes = [sphere_samples(0.3 + 0.1 * i, 4096, i) for i in range(3)]  # 64 steps per epoch of 64
    fitter = GroupFitter(build(cfg.arch), [s.points for s in shapes], [s.values for s in shapes], [0, 1, 2],
                         make_loss(cfg.loss, "sdf"), cfg)
    fitter.advance(2)  # first use of cuBLAS and the allocator
    steps = min(60, CHECK_EVERY - 3)  # no epoch end, no failure check: nothing may synchronize
    torch.cuda.set_sync_debug_mode("error")
    try:
        fitter.advance(steps)
    finally:
        torch.cuda.set_sync_debug_mode(0)
    result = fitter.run()
    assert [r.steps for r in result.records] == [128] * 3 and all(np.isfinite(r.loss) for r in result.records)
