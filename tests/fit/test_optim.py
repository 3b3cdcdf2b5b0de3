"""Batched Adam and per-shape schedules against torch's own implementations."""

import torch

from inrzoo.fit.config import EarlyStoppingConfig, OptimizerConfig, PlateauConfig
from inrzoo.fit.optim import BatchedAdam, EarlyStopping, PlateauSchedule


def test_batched_adam_rows_equal_torch_adam_and_frozen_rows_do_not_move():
    torch.manual_seed(0)
    start = torch.randn(3, 20)
    cfg = OptimizerConfig(lr=1e-2, eps=1e-8)
    flat = start.clone()
    adam = BatchedAdam(flat, cfg, torch.tensor([1e-2, 1e-2, 5e-3]))
    refs = [torch.nn.Parameter(start[i].clone()) for i in range(2)]
    opts = [torch.optim.Adam([refs[0]], lr=1e-2, eps=1e-8), torch.optim.Adam([refs[1]], lr=1e-2, eps=1e-8)]
    for step in range(5):
        grad = torch.randn(3, 20)
        active = torch.tensor([True, step % 2 == 0, False])
        adam.step(grad, active)
        for i in range(2):
            if active[i]:
                refs[i].grad = grad[i].clone()
                opts[i].step()
    for i in range(2):
        torch.testing.assert_close(flat[i], refs[i].detach())
    assert torch.equal(flat[2], start[2]) and adam.steps.tolist() == [5, 3, 0]


def test_plateau_schedule_matches_torch_reduce_lr_on_plateau():
    cfg = PlateauConfig(enabled=True, factor=0.5, patience=2, threshold=1e-3, cooldown=1)
    metrics = [1.0, 0.9, 0.95, 0.91, 0.92, 0.93, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=0.1)
    ref = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2, threshold=1e-3, cooldown=1)
    ours = PlateauSchedule(cfg, 2)
    lr = torch.tensor([0.1, 0.1], dtype=torch.float64)
    for m in metrics:
        ref.step(m)
        ours.update(0, m, lr)
        assert float(lr[0]) == opt.param_groups[0]["lr"]
    assert float(lr[1]) == 0.1 and float(lr[0]) < 0.1


def test_early_stopping_patience_and_min_delta():
    stop = EarlyStopping(EarlyStoppingConfig(enabled=True, patience=2, min_delta=0.01), 1)
    seen = [stop.should_stop(0, m) for m in [1.0, 0.5, 0.495, 0.49, 0.3]]
    assert seen == [False, False, False, True, False]
