"""Typed configuration of inr2vec (the `model:` section of its zoo configs).

Defaults are the sizes of the thesis (chapter 5, appendix C.3-C.5) and of the released inr2vec
configs: encoder stages 512-512-1024-1024 into a 1024-value embedding, implicit decoder with
63-value positional encoding and 4 hidden layers of 512 around one skip. Training settings
(AdamW lr 1e-4, weight decay 1e-2, 300 epochs, batch 16) live in the job's `train:` section;
the downstream tasks' settings in `tasks:`. Every size can be shrunk for tests.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from dataclasses import field as _field
from typing import Literal

from inrzoo.zoo.components.implicit_decoder import DecoderConfig
from inrzoo.zoo.tasks.classification import ClassifierConfig
from inrzoo.zoo.tasks.segmentation import SegmentationConfig


@dataclass
class EncoderConfig:
    hidden_dims: list[int] = _field(default_factory=lambda: [512, 512, 1024, 1024])
    embedding_dim: int = 1024
    # "hidden": the stacked hidden-to-hidden layers (the paper); "all": also the first and
    # the last layer of the INR (the variant of thesis C.8).
    layers: Literal["hidden", "all"] = "hidden"
    # "standardize" (an option tried for issue 17; not in the thesis): every entry of the input matrix is
    # standardized by its mean and deviation over the training INRs (`Inr2vec.fit_input_normalization`).
    # Measured on KiCad (24 classes, 64-wide SIRENs from a shared init; linear probe on the
    # embeddings, benchmarks/results/weightspace_kicad_slice_24_8_2_4.json): it hurts, 0.135
    # against 0.427 for the input as stored (0.120 against 0.396 untrained). As stored, the shared
    # init fixes which row wins each max-pooled feature, so the embedding follows the weights'
    # deltas; standardized rows are noise-like and the winning row changes from INR to INR.
    # "tensor_scale" and "centered" (options for issue 17, mine, not in the thesis) keep what makes the
    # stored input work, each row's identity, and take away the scale imbalance between tensors (a
    # hidden bias row is ~13x the weight rows in a SIREN: untrained, on KiCad, the 3 bias rows of 195
    # win 75% of the max-pooled features, 3.6% with "tensor_scale"):
    # "tensor_scale": every tensor's rows divided by that tensor's root mean square over the train INRs;
    # "centered": each row as [(w - mean) / delta scale, mean / mean scale], scales per tensor, width 2H.
    # Measured on the same slice (benchmarks/inr2vec_diagnosis.py, 40 epochs): both lower the val
    # reconstruction KL (0.127 and 0.123 against 0.130) but not the probe (0.313, 0.276 against 0.354).
    input_normalization: Literal["none", "standardize", "tensor_scale", "centered"] = "none"


@dataclass
class TeacherConfig:
    """How queries are drawn and how the input INR's output becomes a supervision target.

    field / inr_loss / inr_delta say what the input INRs were fitted to and with which inrzoo.fit
    loss (its `decode` turns their raw output into the field, e.g. sigmoid of BCE logits back
    to distances). Left empty they come from the weight dataset (`resolved`); set, they must
    agree with it."""

    field: Literal["", "sdf", "udf", "occupancy"] = ""
    inr_loss: Literal["", "l1", "clamped_l1", "curriculum", "bce", "focal", "sal"] = ""
    inr_delta: float = 0.0  # 0: the dataset's fit loss delta (the distance BCE normalized to 1)
    clamp: float = 0.1  # inr2vec targets: distances clamped to [-clamp, clamp] (signed) / [0, clamp]
    num_queries: int = 10_000
    near_fraction: float = 0.8  # the rest are uniform in [-1, 1]^3
    pool_factor: int = 4  # uniform candidates per near-surface query
    beta: float = 30.0  # importance weight exp(-beta * |distance|) picks candidates near the surface
    stds: list[float] = _field(default_factory=lambda: [0.003, 0.01, 0.1])  # jitter around picks

    def resolved(self, field: str, fit_loss: dict, source: str = "the weight dataset") -> "TeacherConfig":
        """Blanks filled from the data's field and fit loss; a set value that contradicts them is an error."""
        data = {"field": field, "inr_loss": str(fit_loss.get("name") or "l1"), "inr_delta": float(fit_loss.get("delta", 0.1))}
        mine = {"field": self.field, "inr_loss": self.inr_loss, "inr_delta": self.inr_delta}
        for key, value in mine.items():
            if value and value != data[key]:
                raise ValueError(f"model.teacher.{key} is {value!r} but the INRs of {source} were fitted with "
                                 f"{key.replace('inr_', '')} {data[key]!r}; leave it empty to take the dataset's")
        return replace(self, **data)


@dataclass
class Inr2vecConfig:
    encoder: EncoderConfig = _field(default_factory=EncoderConfig)
    decoder: DecoderConfig = _field(default_factory=DecoderConfig)
    teacher: TeacherConfig = _field(default_factory=TeacherConfig)
    loss: Literal["bce", "mse"] = "bce"


@dataclass
class MultiTaskConfig:
    """Costain & Prisacariu: reconstruction trained jointly with classification and segmentation
    (inr2vec's own task `multitask`; held-out protocol with `holdout`)."""

    reconstruction_weight: float = 1.0
    classification_weight: float = 1.0
    segmentation_weight: float = 1.0
    classifier: ClassifierConfig = _field(default_factory=ClassifierConfig)
    segmentation: SegmentationConfig = _field(default_factory=SegmentationConfig)
    epochs: int = 100  # joint training epochs from the trained inr2vec's weights (our choice)
    batch_size: int = 16
    lr: float = 1e-4
    weight_decay: float = 1e-2
    holdout: Literal["", "classification", "segmentation"] = ""
    points_per_shape: int = 2048  # labelled points per shape for segmentation
