"""Adam over stacked rows and the per-shape schedules, against torch's own implementations."""

import math

import torch

from inrzoo.fit.config import EarlyStoppingConfig, AdamConfig, PlateauConfig
from inrzoo.fit.optim import EarlyStopping, PlateauSchedule, adam_update


def test_adam_rows_equal_torch_adam_with_a_shared_or_per_row_learning_rate():
    torch.manual_seed(0)
    start = torch.randn(3, 20)
    cfg = AdamConfig(lr=1e-2, eps=1e-8)
    rates = [1e-2, 1e-2, 5e-3]
    shared, per_row = start.clone(), start.clone()
    m1, v1, m2, v2 = (torch.zeros_like(start) for _ in range(4))
    refs = [torch.nn.Parameter(start[i].clone()) for i in range(3)]
    opts = [torch.optim.Adam([refs[i]], lr=rates[i], eps=1e-8, foreach=False) for i in range(3)]
    for step in range(1, 6):
        grad = torch.randn(3, 20)
        adam_update(shared, grad, m1, v1, step, cfg.lr, cfg)
        adam_update(per_row, grad, m2, v2, step, torch.tensor(rates, dtype=torch.float64), cfg)
        for i in range(3):
            refs[i].grad = grad[i].clone()
            opts[i].step()
    for i in range(2):
        torch.testing.assert_close(shared[i], refs[i].detach(), rtol=0, atol=0)
    for i in range(3):
        torch.testing.assert_close(per_row[i], refs[i].detach(), rtol=1e-6, atol=1e-7)
    assert not torch.equal(per_row[2], shared[2])


def test_plateau_schedule_matches_torch_reduce_lr_on_plateau_and_masked_rows_stay():
    cfg = PlateauConfig(enabled=True, factor=0.5, patience=2, threshold=1e-3, cooldown=1)
    metrics = [1.0, 0.9, 0.95, 0.91, 0.92, 0.93, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=0.1)
    ref = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2, threshold=1e-3, cooldown=1)
    ours = PlateauSchedule(cfg, 2, torch.device("cpu"))
    lr = torch.tensor([0.1, 0.1], dtype=torch.float64)
    only_first = torch.tensor([True, False])
    for m in metrics:
        ref.step(m)
        ours.update(only_first, torch.tensor([m, 10.0 * m], dtype=torch.float64), lr)
        assert float(lr[0]) == opt.param_groups[0]["lr"]
    assert float(lr[1]) == 0.1 and float(lr[0]) < 0.1
    assert ours.best[1] == math.inf and ours.bad[1] == 0


def test_early_stopping_patience_min_delta_and_compaction():
    stop = EarlyStopping(EarlyStoppingConfig(enabled=True, patience=2, min_delta=0.01), 2, torch.device("cpu"))
    seen = []
    for m in [1.0, 0.5, 0.495, 0.49, 0.3]:
        out = stop.update(torch.tensor([True, False]), torch.tensor([m, m], dtype=torch.float64))
        seen.append(bool(out[0]))
        assert not out[1]
    assert seen == [False, False, False, True, False]
    stop.select(torch.tensor([1]))
    assert stop.best.tolist() == [math.inf] and stop.wait.tolist() == [0]
