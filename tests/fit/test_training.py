"""Every loss and architecture path trains: its loss goes down on an analytic sphere."""

import pytest
from fit.fit_helpers import sphere_samples, tiny_config

from inrzoo.fit import LossConfig, fit_batch
from inrzoo.inr import ArchSpec

CASES = [
    ("l1", "sdf", ArchSpec.default("relu_mlp", hidden=[16] * 3), 0.0),
    ("clamped_l1", "sdf", ArchSpec.default("relu_mlp", hidden=[16] * 3, encoding="positional", frequencies=2), 0.0),
    ("curriculum", "sdf", ArchSpec.default("relu_mlp", hidden=[16] * 3, skip=[2]), 0.0),
    ("l1", "sdf", ArchSpec.default("relu_mlp", hidden=[16] * 3, encoding="fourier", fourier_features=8, fourier_sigma=1.0), 0.1),
    ("bce", "udf", ArchSpec.default("siren", hidden=[32] * 2), 0.0),
    ("bce", "sdf", ArchSpec.default("siren", hidden=[32] * 2), 0.0),
    ("focal", "occupancy", ArchSpec.default("siren", hidden=[32] * 2), 0.0),
    ("sal", "udf", ArchSpec.default("lightsal", hidden=[16, 16, 32, 16, 16, 32]), 0.0),
]


@pytest.mark.parametrize("loss,field,arch,eikonal", CASES, ids=[f"{c[0]}-{c[2].label}" for c in CASES])
def test_loss_decreases(loss, field, arch, eikonal):
    cfg = tiny_config(arch=arch, max_epochs=8, loss=LossConfig(name=loss, eikonal_weight=eikonal))
    result = fit_batch([sphere_samples(0.5, n=512, field=field)], cfg)
    losses = result.metrics[0]
    assert result.status == ["ok"], result.errors
    first = fit_batch([sphere_samples(0.5, n=512, field=field)], tiny_config(arch=arch, max_epochs=1, loss=cfg.loss))
    assert losses["loss"] < first.metrics[0]["loss"]
