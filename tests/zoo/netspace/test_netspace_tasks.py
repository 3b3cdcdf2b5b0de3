"""NetSpace's task units on a real classifier zoo and on a small SDF zoo (mechanics and metrics;
the figures of the thesis come from benchmarks/netspace_*.py)."""

from pathlib import Path

import pytest
import torch

from inrzoo.inr import ArchSpec, build
from inrzoo.store import RowResult, create_weights
from inrzoo.zoo.core.data import DataSection
from inrzoo.zoo.core.job_config import TaskSettings
from inrzoo.zoo.core.tasks import TaskContext, run_tasks
from inrzoo.zoo.netspace.data import NetZooData
from inrzoo.zoo.netspace.model import NetSpace
from inrzoo.zoo.netspace.evaluate import split_networks
from inrzoo.zoo.netspace.sdf_evaluate import (
    distinct_pairs, has_surface, mlp_values, nearest_network_errors, shared_queries,
)
from netspace_helpers import tiny_space_config

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _settings():
    return TaskSettings.__config_from__({
        "netspace_interpolation": {"steps": 5, "pairs": 1, "resolution": 16, "sdf_queries": 500},
        "netspace_decoding": {"sdf_queries": 500},
        "netspace_sampling": {"count": 3},
        "netspace_latent": {"optimization": {"steps": 4, "lr": 0.01, "batch_size": 32, "eval_every": 2}},
    }, "tasks", "test")


def test_classifier_space_tasks_report_metrics_and_a_strip(digits_zoo, tmp_path):
    torch.manual_seed(0)
    data = NetZooData(DataSection(uri=digits_zoo))
    model = NetSpace(tiny_space_config(width=1024, teacher="best"), data.spec())
    names = ["netspace_decoding", "netspace_interpolation", "netspace_sampling", "netspace_latent"]
    outcome = run_tasks(names, TaskContext(model, data, _settings(), tmp_path))
    m = outcome.metrics
    for key in ("decoded_accuracy", "target_accuracy", "class_id_accuracy", "arch2_class_id_accuracy",
                "embedding_path_accuracy", "path_arch_changes", "sampled_accuracy", "sampled_arch0_share",
                "arch0_initial_accuracy", "arch0_optimized_accuracy", "optimized_accuracy"):
        assert 0.0 <= m[key] <= max(1.0, m[key]), key
    assert sum(m[f"sampled_arch{a}_share"] for a in range(3)) == pytest.approx(1.0)
    assert [Path(f).name for f in outcome.files] == ["netspace_decoding.csv", "netspace_interpolation.png"]
    assert Path(outcome.files[1]).stat().st_size > 1000
    lines = Path(outcome.files[0]).read_text().splitlines()
    assert lines[0].startswith("id,arch,decoded_arch") and len(lines) == 1 + 3


def test_single_architecture_interpolation_compares_with_the_weight_path(digits_zoo, tmp_path):
    data = NetZooData(DataSection(uri=digits_zoo, options={"groups": [0]}))
    model = NetSpace(tiny_space_config(width=1024), data.spec())
    settings = TaskSettings.__config_from__({"netspace_interpolation": {"split": "train", "steps": 5}}, "tasks", "test")
    m = run_tasks(["netspace_interpolation"], TaskContext(model, data, settings, tmp_path)).metrics
    assert {"embedding_path_accuracy", "weight_path_accuracy", "weight_path_min_accuracy"} <= set(m)


def _sdf_zoo(uri: str, n: int = 8) -> str:
    """MLPs of spheres of different radii, each from its own initialization (an SDF zoo in miniature)."""
    spec = ArchSpec.default("relu_mlp", hidden=[16, 16])
    arch = build(spec)
    listing = [{"id": f"sphere{i}", "split": "train" if i < n - 2 else "test"} for i in range(n)]
    writer = create_weights(uri, listing, [spec], chunk_rows=n)
    results = []
    for i in range(n):
        params = {k: v.clone().requires_grad_(True) for k, v in arch.init_params(seed=100 + i).items()}
        opt = torch.optim.Adam(params.values(), lr=1e-2)
        radius = 0.3 + 0.05 * i
        for _ in range(150):
            x = torch.rand(1, 512, 3) * 2 - 1
            loss = (arch.forward({k: v[None] for k, v in params.items()}, x)[0] - (x[0].norm(dim=1) - radius)).abs().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        results.append(RowResult(row=i, params={k: v.detach() for k, v in params.items()}, arch=spec))
    writer.write(range(0, n), results)
    return uri


def test_sdf_space_tasks_report_path_errors_and_draw_both_paths(tmp_path):
    torch.manual_seed(0)
    data = NetZooData(DataSection(uri=_sdf_zoo(str(tmp_path / "sdf.zarr"))))
    assert data.spec().kind == "sdf"
    model = NetSpace(tiny_space_config(width=512), data.spec())
    outcome = run_tasks(["netspace_decoding", "netspace_interpolation", "netspace_sampling"],
                        TaskContext(model, data, _settings(), tmp_path))
    m = outcome.metrics
    assert {"decoded_error", "embedding_path_error", "weight_path_error", "embedding_end_error",
            "sampled_with_surface"} <= set(m)
    # an untrained decoder gives near-zero parameters (final bias ~ U(0, 1e-2)): a positive constant field
    assert m["decoded_with_surface"] == 0.0
    assert has_surface(model, model.preps(split_networks(data, "test").flat)[0])  # the input sphere MLPs have one
    assert m["weight_path_error"] >= 0 and Path(outcome.files[0]).name == "netspace_interpolation.png"
    with pytest.raises(ValueError, match="optimizes classifiers"):
        run_tasks(["netspace_latent"], TaskContext(model, data, _settings(), tmp_path))


def test_interpolation_pairs_join_two_different_shapes_never_a_shape_and_its_copy():
    ids = ["kicad/a.ply", "kicad/a.ply#aug1", "kicad/b.ply", "kicad/b.ply#aug1", "classic/c.off"]
    pairs = distinct_pairs(ids, 200, torch.Generator().manual_seed(0))
    assert len(pairs) == 200 and all(ids[a].split("#")[0] != ids[b].split("#")[0] for a, b in pairs)
    assert {frozenset(p) for p in pairs} >= {frozenset((0, 2)), frozenset((1, 4))}  # copies take part too
    with pytest.raises(ValueError, match="2\\+ different shapes.*'kicad/a.ply'"):
        distinct_pairs(ids[:2], 1, torch.Generator().manual_seed(0))


def test_nearest_training_mlp_is_the_best_of_the_gallery_at_the_held_out_queries(tmp_path):
    data = NetZooData(DataSection(uri=_sdf_zoo(str(tmp_path / "sdf.zarr"))))
    model = NetSpace(tiny_space_config(width=512), data.spec())
    train, test = split_networks(data, "train").flat, split_networks(data, "test").flat
    assert nearest_network_errors(model, test, torch.cat([train, test]), n=500).abs().max() < 1e-6  # itself
    nearest = nearest_network_errors(model, test, train, n=500, chunk=4)
    queries = shared_queries(model, model.preps(test), 500, torch.Generator().manual_seed(0))
    for k in range(len(test)):
        target = mlp_values(model, model.preps(test[k:k + 1]), queries[k])[0]
        each = (mlp_values(model, model.preps(train), queries[k]) - target).abs().mean(dim=1)
        assert nearest[k] == pytest.approx(float(each.min()), rel=1e-5) and nearest[k] > 1e-3
