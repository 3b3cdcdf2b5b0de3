"""Classifier architectures in the registry: specs, canonical order, batched forward, store round trip."""

import json

import pytest
import torch

from inrzoo.inr import ClassifierSpec, build, classifier_module, default_spec, spec_from_dict, stack_params
from inrzoo.store import ArchLayout, RowResult, create_weights, open_weights


def test_presets_grow_in_parameter_count_like_the_thesis_families():
    counts = [build(name).num_params for name in ("lenet", "plain_cnn", "resnet8", "resnet14")]
    assert counts == sorted(counts) and len(set(counts)) == 4
    assert default_spec("resnet8").depth == 8 and default_spec("resnet14").depth == 14


def test_canonical_order_is_weight_then_bias_per_layer():
    names = list(build("resnet8").param_shapes())
    assert names[:2] == ["stem.conv.weight", "stem.conv.bias"]
    assert names[-2:] == ["fc.weight", "fc.bias"]
    assert all(a.endswith("weight") and b.endswith("bias") and a[:-6] == b[:-4]
               for a, b in zip(names[::2], names[1::2]))


@pytest.mark.parametrize("preset", ["lenet", "plain_cnn", "resnet8"])
def test_batched_forward_equals_each_module_with_its_own_parameters(preset):
    arch = build(preset)
    params = stack_params([arch.init_params(seed) for seed in range(3)])
    images = torch.randn(3, 6, 1, 8, 8)
    batched = arch.forward(params, images)
    for k in range(3):
        module = arch.as_module({n: p[k] for n, p in params.items()})
        torch.testing.assert_close(batched[k], module(images[k]), rtol=1e-5, atol=1e-6)
    shared = arch.forward(params, images[0])
    torch.testing.assert_close(shared[1], arch.as_module({n: p[1] for n, p in params.items()})(images[0]),
                               rtol=1e-5, atol=1e-6)


def test_specs_round_trip_through_json_and_dispatch_on_name():
    spec = default_spec("resnet14")
    again = spec_from_dict(json.loads(spec.to_json()))
    assert isinstance(again, ClassifierSpec) and again == spec
    with pytest.raises(ValueError, match="strides"):
        ClassifierSpec(name="resnet", channels=[8, 8, 16], strides=[1])
    with pytest.raises(KeyError, match="unknown architecture"):
        spec_from_dict({"name": "transformer"})


def test_unfolded_batchnorm_specs_cannot_be_stored():
    with pytest.raises(ValueError, match="folded"):
        build(default_spec("resnet8").replace(norm="batch"))


def test_init_params_follow_the_seed_without_touching_global_rng():
    arch = build("lenet")
    torch.manual_seed(5)
    before = torch.rand(1)
    a, b = arch.init_params(1), arch.init_params(1)
    torch.manual_seed(5)
    assert torch.equal(torch.rand(1), before)
    assert all(torch.equal(a[n], b[n]) for n in a)
    assert not torch.equal(a["fcs.0.weight"], arch.init_params(2)["fcs.0.weight"])


def test_weight_dataset_of_classifiers_describes_and_runs_its_rows(tmp_path):
    specs = [default_spec("lenet"), default_spec("resnet8")]
    uri = str(tmp_path / "zoo.zarr")
    listing = [{"id": f"n{i}", "label": "x", "split": "train"} for i in range(4)]
    writer = create_weights(uri, listing, specs, chunk_rows=4)
    modules = [classifier_module(specs[i % 2], seed=i) for i in range(4)]
    writer.write(range(0, 4), [RowResult(row=i, params=dict(m.named_parameters()), arch=specs[i % 2])
                               for i, m in enumerate(modules)])
    ds = open_weights(uri)
    assert ArchLayout.from_spec(specs[1]).key == ds.groups[1].layout.key
    assert isinstance(ds.arch_spec(1), ClassifierSpec)
    images = torch.randn(5, 1, 8, 8)
    for i in range(4):
        assert torch.equal(ds.module(i)(images), modules[i].eval()(images))
