"""A batched fit equals K independent fits, also when shapes stop, fail or change lr at
different times, and does not depend on which shapes share the batch."""

import numpy as np
import torch
from fit.fit_helpers import diverging_schedules, sphere_samples, tiny_config

from inrzoo.fit import fit_batch


def _assert_same(a: dict, b: dict) -> None:
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-5, atol=1e-6)


def test_batched_fit_equals_each_shape_fitted_alone_with_masked_schedules():
    cfg, shapes = diverging_schedules()
    batched = fit_batch(shapes, cfg, stream_ids=[10, 11, 12])
    reasons = set(batched.stop_reasons)
    assert len({m["epochs"] for m in batched.metrics}) > 1 or len(reasons) > 1, "schedules never diverged"
    for i, shape in enumerate(shapes):
        alone = fit_batch([shape], cfg, stream_ids=[10 + i])
        _assert_same(batched.shape_params[i], alone.shape_params[0])
        assert batched.metrics[i]["steps"] == alone.metrics[0]["steps"]
        assert batched.metrics[i]["lr"] == alone.metrics[0]["lr"]
        assert batched.stop_reasons[i] == alone.stop_reasons[0]
        assert batched.metrics[i]["epochs"] == alone.metrics[0]["epochs"]


def test_result_does_not_depend_on_batch_composition():
    cfg = tiny_config(max_epochs=3)
    a, b, c = sphere_samples(0.5, seed=0), sphere_samples(0.3, seed=1), sphere_samples(0.7, seed=2)
    with_b = fit_batch([a, b], cfg, stream_ids=[5, 6])
    with_c = fit_batch([c, a], cfg, stream_ids=[7, 5])
    _assert_same(with_b.shape_params[0], with_c.shape_params[1])
    # A different stream id is a different sample order, hence different weights.
    other = fit_batch([a], cfg, stream_ids=[99])
    assert not torch.allclose(other.shape_params[0]["output.weight"], with_b.shape_params[0]["output.weight"])


def test_same_seed_gives_the_same_weights_and_all_start_from_the_shared_init():
    cfg = tiny_config(max_epochs=1, max_steps=1)
    shapes = [sphere_samples(0.5, seed=0), sphere_samples(0.4, seed=1)]
    r1, r2 = fit_batch(shapes, cfg), fit_batch(shapes, cfg)
    _assert_same(r1.params, r2.params)
    cfg.optimizer.lr = 0.0  # no movement: both rows are exactly the shared initialization
    r0 = fit_batch(shapes, cfg)
    init = r0.arch[0]
    from inrzoo.inr import build

    expected = build(init).init_params(cfg.seed)
    for row in r0.shape_params:
        _assert_same(row, expected)


def test_float64_fit_runs_and_learns_the_sphere():
    cfg = tiny_config(max_epochs=40, dtype="float64")
    cfg.optimizer.lr = 1e-2
    result = fit_batch([sphere_samples(0.5, 1024, 0)], cfg)
    assert result.params["output.weight"].dtype == torch.float64
    first_epoch_loss_bound = 0.05
    assert result.status == ["ok"] and result.metrics[0]["loss"] < first_epoch_loss_bound
    assert np.isfinite(result.metrics[0]["seconds"])


def test_shape_chunks_do_not_change_the_result():
    shapes = [sphere_samples(0.3 + 0.1 * i, seed=i) for i in range(3)]
    whole = fit_batch(shapes, tiny_config(max_epochs=2, shape_chunk=0))
    chunked = fit_batch(shapes, tiny_config(max_epochs=2, shape_chunk=2))
    for i in range(3):
        _assert_same(whole.shape_params[i], chunked.shape_params[i])


def test_per_shape_init_gives_each_shape_its_own_start_whatever_its_group():
    from inrzoo.fit.rows import shape_init_seed
    from inrzoo.inr import build

    cfg = tiny_config(max_epochs=1, max_steps=1, init="per_shape")
    cfg.optimizer.lr = 0.0  # no movement: the rows are the initializations
    a, b, c = sphere_samples(0.5, seed=0), sphere_samples(0.3, seed=1), sphere_samples(0.7, seed=2)
    first = fit_batch([a, b], cfg, stream_ids=[5, 6])
    second = fit_batch([c, a], cfg, stream_ids=[7, 5])
    _assert_same(first.shape_params[0], second.shape_params[1])
    arch = build(cfg.arch)
    for sid, row in ((5, first.shape_params[0]), (6, first.shape_params[1])):
        _assert_same(row, arch.init_params(shape_init_seed(cfg.seed, sid)))
    assert not torch.equal(first.shape_params[0]["layers.0.weight"], first.shape_params[1]["layers.0.weight"])
    shared = arch.init_params(cfg.seed)
    assert not torch.equal(first.shape_params[0]["layers.0.weight"], shared["layers.0.weight"])
    # Another fit seed, other starts; a trained per-shape fit still equals the shape alone.
    assert shape_init_seed(1, 5) != shape_init_seed(0, 5) != shape_init_seed(0, 6)
    trained = tiny_config(max_epochs=2, init="per_shape")
    together = fit_batch([a, b], trained, stream_ids=[5, 6])
    _assert_same(together.shape_params[1], fit_batch([b], trained, stream_ids=[6]).shape_params[0])


def test_shapes_failing_mid_epoch_leave_the_group_without_changing_the_others(monkeypatch):
    from inrzoo.fit import engine
    from inrzoo.sampling import Samples

    monkeypatch.setattr(engine, "CHECK_EVERY", 3)  # read failures back well inside the 8-step epoch
    cfg = tiny_config(max_epochs=2)
    good = sphere_samples(0.4, seed=0)
    bad = sphere_samples(0.5, seed=4)
    bad = Samples(bad.points, np.full(len(bad.values), 3.0e38, dtype=np.float32) * np.sign(bad.values), "sdf")
    result = fit_batch([bad, good], cfg, stream_ids=[1, 2])
    assert result.status == ["failed", "ok"] and result.errors[0] == "loss diverged: non-finite loss at step 1"
    assert result.metrics[0]["steps"] == 0 and result.metrics[1]["steps"] == 16
    alone = fit_batch([good], cfg, stream_ids=[2])
    _assert_same(result.shape_params[1], alone.shape_params[0])


def test_the_host_reads_back_only_at_epoch_ends_and_records_every_epoch(monkeypatch):
    from inrzoo.fit import engine, make_loss
    from inrzoo.inr import build

    synced = []
    original = engine.GroupFitter._synchronize

    def spy(self, ended, last):
        synced.append(self.t)
        return original(self, ended, last)

    monkeypatch.setattr(engine.GroupFitter, "_synchronize", spy)
    cfg = tiny_config(max_epochs=3)
    shapes = [sphere_samples(0.4, 512, 0), sphere_samples(0.6, 768, 1)]  # 8 and 12 steps per epoch
    group = engine.fit_group(build(cfg.arch), [s.points for s in shapes], [s.values for s in shapes], [0, 1],
                             make_loss(cfg.loss, "sdf"), cfg)
    assert synced == [8, 12, 16, 24, 36]
    for rec, steps in zip(group.records, (24, 36)):
        assert rec.steps == steps and rec.epochs == 3 and rec.stop_reason == "max_epochs"
        assert len(rec.epoch_losses) == 3 and rec.loss == rec.epoch_losses[-1]
        assert rec.epoch_losses[-1] < rec.epoch_losses[0]
