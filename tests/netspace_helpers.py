"""Tiny NetSpace configurations for tests (embedding 64 = 4 x 4 x 4)."""

from inrzoo.zoo.netspace import DecoderConfig, EncoderConfig, NetSpaceConfig, PrepConfig


def tiny_space_config(height: int = 4, width: int = 64, num_archs: int = 1, embedding: int = 64) -> NetSpaceConfig:
    return NetSpaceConfig(
        prep=PrepConfig(height=height, width=width),
        encoder=EncoderConfig(embedding_size=embedding, channels=[8, 16, 32]),
        decoder=DecoderConfig(seed_side=4, row_channels=8, stage_channels=[4, 4, 8]),
        num_archs=num_archs,
    )


def classifier_zoo(uri: str, instances: int = 5, max_epochs: int = 2, families=("lenet", "resnet8")) -> str:
    """A small real classifier zoo (digits), trained in-process."""
    from inrzoo.classifiers import FamilySection, build_classifier_zoo, load_zoo_config

    cfg = load_zoo_config(None, [f"output.uri={uri}", "runtime.executor=local", "output.chunk_rows=4"])
    cfg.families = [FamilySection(name, batch_norm=name.startswith("resnet"), instances=instances, min_epochs=1,
                                  max_epochs=max_epochs) for name in families]
    build_classifier_zoo(cfg)
    return uri
