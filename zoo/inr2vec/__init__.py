"""inr2vec (De Luigi et al.; thesis chapter 5): embeddings of MLP INRs and what they enable.

What is inr2vec's own: the encoder over weight matrices (encoder.py), the teacher that turns
input INRs into training targets (teacher.py), the model (model.py), its config (config.py) and
its own task, multi-task training (multitask.py, multitask_task.py). Training, checkpoints,
registration and the shared downstream tasks come from inrzoo.zoo.core and inrzoo.zoo.tasks.
See README.md next to this file.
"""

from inrzoo.zoo.inr2vec.config import EncoderConfig, Inr2vecConfig, MultiTaskConfig, TeacherConfig
from inrzoo.zoo.inr2vec.model import Inr2vec, reconstruction_loss

__all__ = ["EncoderConfig", "Inr2vec", "Inr2vecConfig", "MultiTaskConfig", "TeacherConfig", "reconstruction_loss"]
