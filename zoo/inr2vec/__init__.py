"""inr2vec (De Luigi et al.; thesis chapter 5): embeddings of MLP INRs and what they enable.

See README.md next to this file for the public functions the Ray jobs call.
"""

from inrzoo.zoo.inr2vec.checkpoint import load_inr2vec, save_inr2vec
from inrzoo.zoo.inr2vec.config import (
    ClassifierConfig,
    DecoderConfig,
    EncoderConfig,
    GanConfig,
    Inr2vecConfig,
    MultiTaskConfig,
    OptimizerConfig,
    SegmentationConfig,
    TeacherConfig,
    TransferConfig,
)
from inrzoo.zoo.inr2vec.model import Inr2vec, make_optimizer, reconstruction_loss
from inrzoo.zoo.inr2vec.train import embed, evaluate_epoch, train_epoch, train_step

__all__ = [
    "ClassifierConfig",
    "DecoderConfig",
    "EncoderConfig",
    "GanConfig",
    "Inr2vec",
    "Inr2vecConfig",
    "MultiTaskConfig",
    "OptimizerConfig",
    "SegmentationConfig",
    "TeacherConfig",
    "TransferConfig",
    "embed",
    "evaluate_epoch",
    "make_optimizer",
    "reconstruction_loss",
    "train_epoch",
    "train_step",
    "load_inr2vec",
    "save_inr2vec",
]
