"""The zoo core: what every model of the zoo shares (docs/architecture.md, zoo/README.md).

A model writes its network, losses, config and own tasks (a `ZooModel` subclass registered by
name); the core does the rest: data sources, the training loop, checkpoints, Ray Train wiring,
the tracked job, registration and a loader that unpickles nothing.
"""

from inrzoo.zoo.core.data import DataSection, DataSource, SplitSection, open_data
from inrzoo.zoo.core.job_config import OptimizerConfig, TrainJobConfig, load_job_config
from inrzoo.zoo.core.model import Encoder, FieldDecoder, StepContext, ZooModel, flatten, model_class, unflatten
from inrzoo.zoo.core.registry import names, register, resolve

__all__ = [
    "DataSection",
    "DataSource",
    "Encoder",
    "FieldDecoder",
    "OptimizerConfig",
    "SplitSection",
    "StepContext",
    "TrainJobConfig",
    "ZooModel",
    "flatten",
    "load_job_config",
    "model_class",
    "names",
    "open_data",
    "register",
    "resolve",
    "unflatten",
]
