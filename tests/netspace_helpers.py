"""Tiny NetSpace configurations and small real classifier zoos for tests (embedding 64 = 4 x 4 x 4)."""

from inrzoo.inr import ArchSpec, default_spec
from inrzoo.zoo.netspace import DecoderConfig, EncoderConfig, NetSpaceConfig, PrepConfig
from inrzoo.zoo.netspace.data import NetZooSpec


def tiny_space_config(height: int = 0, width: int = 64, embedding: int = 64, **loss) -> NetSpaceConfig:
    from inrzoo.zoo.netspace import LossConfig

    return NetSpaceConfig(
        prep=PrepConfig(height=height, width=width),
        encoder=EncoderConfig(embedding_size=embedding, channels=[8, 16, 32]),
        decoder=DecoderConfig(seed_side=4, row_channels=8, stage_channels=[4, 4, 8]),
        loss=LossConfig(**loss),
    )


def classifier_spec(*presets: str) -> NetZooSpec:
    return NetZooSpec(archs=[default_spec(p).to_dict() for p in presets], kind="classifier", images="digits")


def sdf_spec(hidden=(8, 8, 8)) -> NetZooSpec:
    return NetZooSpec(archs=[ArchSpec.default("relu_mlp", hidden=list(hidden)).to_dict()], kind="sdf")


def classifier_zoo(uri: str, instances: int = 5, max_epochs: int = 2, families=("lenet", "resnet8")) -> str:
    """A small real classifier zoo (digits), trained in-process."""
    from inrzoo.classifiers import FamilySection, build_classifier_zoo, load_zoo_config

    cfg = load_zoo_config(None, [f"output.uri={uri}", "runtime.executor=local", "output.chunk_rows=4"])
    cfg.families = [FamilySection(name, batch_norm=name.startswith("resnet"), instances=instances, min_epochs=1,
                                  max_epochs=max_epochs) for name in families]
    build_classifier_zoo(cfg)
    return uri
