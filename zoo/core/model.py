"""The model protocol of the zoo: what a model writes, and what the core asks of it.

A model is an nn.Module subclass of `ZooModel` with
  - `name`: its registry name (inrzoo.zoo.core.registry, kind "model"),
  - `config_class`: its typed config dataclass (the `model:` section of a job config, minus `name`),
  - `data_kind`: the data source that feeds it ("weights": rows of a weight dataset),
  - `__init__(config, spec)`: build from its config and the data's spec (for weight datasets the
    INR architecture, its parameter shapes, the field and the fit loss; inrzoo.zoo.core.weights),
  - `losses(batch, step)`: the loss terms of one batch; "loss" is the total that is minimized,
  - optionally `prepare(data)`: statistics from the training data before the first epoch.
What a model can do beyond training is declared by the protocols below (`Encoder`,
`FieldDecoder`): tasks ask for capabilities, never for a model's name. Everything else -
data, loop, checkpoints, Ray Train, tracking, registration, loading - is the core's.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Protocol, runtime_checkable

import numpy as np
import torch
from torch import Tensor, nn


@dataclass
class StepContext:
    """Where a training or evaluation step runs: the device, and a generator on it that makes
    every random draw of the step (queries, noise) reproducible from (seed, epoch, rank)."""

    device: torch.device
    generator: torch.Generator | None = None
    epoch: int = 0
    training: bool = True


class ZooModel(nn.Module, abc.ABC):
    name: ClassVar[str]
    config_class: ClassVar[type]
    data_kind: ClassVar[str] = "weights"

    def trains_every_parameter(self) -> bool:
        """False when some trainable parameters get no gradient in some steps (a staged schedule):
        DDP must then look for unused parameters each step, which costs a graph walk."""
        return True

    def __init__(self, config: Any, spec: Any) -> None:
        super().__init__()
        self.config = config
        self.spec = spec

    @abc.abstractmethod
    def losses(self, batch: Any, step: StepContext) -> dict[str, Tensor]:
        """Loss terms of one batch (already on step.device; batches have `.size` and `.to(device)`);
        "loss" is the total to minimize."""

    def prepare(self, data: Any) -> None:
        """Called once before the first epoch of a fresh run (not on resume) with the data source:
        statistics a model takes from its training data (e.g. input standardization) go into
        buffers, so model files and training states keep them. Must be deterministic: every
        worker computes it. Default: nothing."""

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """What the registered model serves (MLflow pyfunc predict). Default: encoders map
        flattened INR weights [B, P] in canonical order to embeddings [B, E]."""
        if not isinstance(self, Encoder):
            raise TypeError(f"model {self.name!r} serves nothing by default: override predict()")
        flat = torch.as_tensor(np.asarray(inputs, dtype=np.float32))
        with torch.no_grad():
            return self.encode(unflatten(flat, self.spec.param_shapes)).cpu().numpy()

    def example_input(self, batch: Any) -> np.ndarray:
        """An input example for the registry's signature, taken from a data batch."""
        return flatten(batch.params)[:2].cpu().numpy()


@runtime_checkable
class Encoder(Protocol):
    """Maps stacked INR parameters {name: [K, ...]} to embeddings [K, embedding_dim]."""

    embedding_dim: int

    def encode(self, params: Mapping[str, Tensor]) -> Tensor: ...


@runtime_checkable
class FieldDecoder(Protocol):
    """Decodes embeddings [K, E] at query points [K, N, 3] into the field the INRs hold
    (signed/unsigned distance or occupancy probability - 0.5, surface at level 0) -> [K, N]."""

    def decode_field(self, embeddings: Tensor, queries: Tensor) -> Tensor: ...


def flatten(params: Mapping[str, Tensor]) -> Tensor:
    """{name: [K, ...]} in canonical order -> [K, P]."""
    return torch.cat([p.reshape(p.shape[0], -1) for p in params.values()], dim=1)


def unflatten(flat: Tensor, param_shapes: Mapping[str, tuple[int, ...]]) -> dict[str, Tensor]:
    """[K, P] rows back to {name: [K, *shape]} in canonical order; P must match exactly."""
    sizes = [int(np.prod(shape)) for shape in param_shapes.values()]
    if flat.dim() != 2 or flat.shape[1] != sum(sizes):
        raise ValueError(f"expected flattened INR weights of shape [B, {sum(sizes)}], got {list(flat.shape)}")
    parts = torch.split(flat, sizes, dim=1)
    return {name: part.reshape(len(flat), *shape) for (name, shape), part in zip(param_shapes.items(), parts)}


def model_class(name: str) -> type[ZooModel]:
    from inrzoo.zoo.core.registry import resolve

    cls = resolve("model", name)
    if not (isinstance(cls, type) and issubclass(cls, ZooModel)):
        raise TypeError(f"model {name!r} is registered as {cls!r}, which is not a ZooModel")
    return cls
