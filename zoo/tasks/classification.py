"""Classification of INRs from their embeddings (thesis C.5), next to two baselines.

The head (Linear+BatchNorm+ReLU+Dropout stages 1024-512-256, then the class layer; the first
size follows the input) is trained with cross entropy, AdamW and a OneCycle schedule over all
steps; the weights with the best validation accuracy are kept. The task reports held-out
accuracy on the embeddings, on the standardized raw weights with the same head (the baseline
an encoder must beat) and of always answering the majority class.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inrzoo.zoo.core.model import Encoder
from inrzoo.zoo.core.tasks import Task, TaskContext, TaskOutcome
from inrzoo.zoo.tasks.embedding import SplitData, embed_split, standardize
from inrzoo.zoo.tasks.training import check_pairs, fit_minibatches, one_cycle


@dataclass
class ClassifierConfig:
    """Thesis C.5: Linear+BatchNorm+ReLU+Dropout stages 1024-512-256, then the class layer."""

    layers_dim: list[int] = field(default_factory=lambda: [1024, 512, 256])
    dropout: float = 0.5
    lr: float = 1e-4
    weight_decay: float = 1e-2
    epochs: int = 150
    batch_size: int = 256
    seed: int = 0


@dataclass
class ClassificationSettings:
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
    raw_weight_baseline: bool = True  # the same head on the standardized flattened weights
    batch_size: int = 64  # INRs per embedding batch


class Classifier(nn.Module):
    def __init__(self, layers_dim: list[int], num_classes: int, dropout: float = 0.5) -> None:
        super().__init__()
        if not layers_dim:
            raise ValueError("classifier layers_dim must start with the embedding size")
        stages: list[nn.Module] = []
        for a, b in zip(layers_dim[:-1], layers_dim[1:]):
            stages += [nn.Linear(a, b), nn.BatchNorm1d(b), nn.ReLU(), nn.Dropout(dropout)]
        stages.append(nn.Linear(layers_dim[-1], num_classes))
        self.net = nn.Sequential(*stages)
        self.num_classes = num_classes

    def forward(self, embeddings: Tensor) -> Tensor:
        return self.net(embeddings)


@torch.no_grad()
def apply_in_batches(model: nn.Module, x: Tensor, batch_size: int = 1024,
                     post: Callable[[Tensor], Tensor] = lambda t: t) -> Tensor:
    """model(x) in eval mode, batch by batch, gathered on the CPU."""
    model.eval()
    device = next(model.parameters()).device
    return torch.cat([post(model(x[i : i + batch_size].to(device).float())).cpu() for i in range(0, len(x), batch_size)])


def predict(model: Classifier, embeddings: Tensor) -> Tensor:
    """Predicted class ids [N] (eval mode)."""
    return apply_in_batches(model, embeddings, post=lambda logits: logits.argmax(-1))


def accuracy(model: Classifier, embeddings: Tensor, labels: Tensor) -> float:
    """Fraction of correctly classified embeddings."""
    check_pairs(embeddings, labels, "accuracy")
    return float((predict(model, embeddings) == labels.cpu().long()).float().mean())


def sized_for(cfg: ClassifierConfig, width: int) -> ClassifierConfig:
    """The classifier with its first stage sized to the input (embeddings or raw weights)."""
    return dataclasses.replace(cfg, layers_dim=[width, *cfg.layers_dim[1:]])


def train_classifier(train_x: Tensor, train_y: Tensor, num_classes: int, config: ClassifierConfig | None = None,
                     val_x: Tensor | None = None, val_y: Tensor | None = None,
                     device: torch.device | str = "cpu") -> tuple[Classifier, dict[str, list[float]]]:
    """Train a classifier on inputs [N, E] with labels [N] in [0, num_classes).

    Returns the model with the best validation accuracy (the last one without validation data)
    and the per-epoch history {"loss", "val_accuracy"}.
    """
    config = config or ClassifierConfig()
    check_pairs(train_x, train_y, "train_classifier")
    if int(train_y.max()) >= num_classes or int(train_y.min()) < 0:
        raise ValueError(f"train_classifier: labels must lie in [0, {num_classes}), got {int(train_y.min())}..{int(train_y.max())}")
    dims = list(config.layers_dim)
    if dims[0] != train_x.shape[1]:
        raise ValueError(f"train_classifier: layers_dim starts with {dims[0]} but inputs have {train_x.shape[1]} values")
    torch.manual_seed(config.seed)
    model = Classifier(dims, num_classes, config.dropout).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = one_cycle(optimizer, config.lr, config.epochs, len(train_x), config.batch_size, min_size=2)

    def batch_loss(idx: Tensor) -> Tensor:
        return F.cross_entropy(model(train_x[idx].to(device)), train_y[idx].to(device).long())

    validate = None if val_x is None or val_y is None else (lambda: accuracy(model, val_x, val_y))
    history = fit_minibatches(model, len(train_x), batch_loss, optimizer, epochs=config.epochs,
                              batch_size=config.batch_size, seed=config.seed, scheduler=scheduler, min_size=2,
                              validate=validate)
    return model, {"loss": history["loss"], "val_accuracy": history["val"]}


def classification_task(train_x: Tensor, train_y: Tensor, test_x: Tensor, test_y: Tensor, num_classes: int,
                        config: ClassifierConfig | None = None, val_x: Tensor | None = None,
                        val_y: Tensor | None = None, device: torch.device | str = "cpu") -> dict[str, float]:
    """Train on the train split (model selection on val when given) and report held-out accuracy."""
    model, history = train_classifier(train_x, train_y, num_classes, config, val_x, val_y, device)
    result = {"test_accuracy": accuracy(model, test_x, test_y), "train_accuracy": accuracy(model, train_x, train_y)}
    if history["val_accuracy"]:
        result["best_val_accuracy"] = max(history["val_accuracy"])
    return result


# Inverse regularization strengths tried by `linear_probe`, the best on the val split kept (our choice).
PROBE_STRENGTHS = (0.01, 0.1, 1.0, 10.0)


def linear_probe(train_x: Tensor, train_y: Tensor, test_x: Tensor, test_y: Tensor, val_x: Tensor, val_y: Tensor
                 ) -> dict[str, float]:
    """Multinomial logistic regression on features standardized with the train split's statistics,
    solved to convergence (L-BFGS), its L2 strength chosen on val: a classifier whose result does not
    hang on a training budget, so embeddings and raw weights are compared on what they carry."""
    from sklearn.linear_model import LogisticRegression

    train, test, val = (t.double().numpy() for t in standardize(train_x.double(), test_x.double(), val_x.double()))
    best = None
    for strength in PROBE_STRENGTHS:
        probe = LogisticRegression(C=strength, max_iter=5000).fit(train, train_y.numpy())
        val_accuracy = float((probe.predict(val) == val_y.numpy()).mean())
        if best is None or val_accuracy > best[0]:
            best = (val_accuracy, strength, probe)
    val_accuracy, strength, probe = best
    return {"test_accuracy": float((probe.predict(test) == test_y.numpy()).mean()), "val_accuracy": val_accuracy,
            "strength": strength}


def chance_accuracy(train_labels: Tensor, test_labels: Tensor) -> float:
    """Accuracy of always answering the most frequent training class."""
    return float((test_labels == int(torch.bincount(train_labels).argmax())).float().mean())


def classification_metrics(train: SplitData, test: SplitData, num_classes: int, cfg: ClassifierConfig,
                           val: SplitData | None = None, raw_weights: bool = False) -> dict[str, float]:
    """Held-out accuracy of the head on embeddings (and on raw weights), next to chance."""
    has_val = val is not None and len(val) > 0
    emb = classification_task(train.embeddings, train.labels, test.embeddings, test.labels, num_classes,
                              sized_for(cfg, train.embeddings.shape[1]), *((val.embeddings, val.labels) if has_val else (None, None)))
    metrics = {"accuracy": emb["test_accuracy"], "train_accuracy": emb["train_accuracy"],
               "chance_accuracy": chance_accuracy(train.labels, test.labels)}
    if raw_weights:
        if train.flat is None or test.flat is None:
            raise ValueError("the raw-weight baseline needs splits embedded with with_flat=True")
        scaled = standardize(train.flat, test.flat, *([val.flat] if has_val and val.flat is not None else []))
        val_raw = (scaled[2], val.labels) if len(scaled) > 2 else (None, None)
        raw = classification_task(scaled[0], train.labels, scaled[1], test.labels, num_classes,
                                  sized_for(cfg, train.flat.shape[1]), *val_raw)
        metrics["raw_weights_accuracy"] = raw["test_accuracy"]
    return metrics


class ClassificationTask(Task):
    name = "classification"
    config_class = ClassificationSettings
    requires = (Encoder,)

    def run(self, ctx: TaskContext, cfg: ClassificationSettings) -> TaskOutcome:
        views = ctx.data.views
        data = {k: embed_split(ctx.model, v, cfg.batch_size, with_flat=cfg.raw_weight_baseline) for k, v in views.items()}
        if len(data["test"]) < 2 or bool((data["train"].labels < 0).any()) or bool((data["test"].labels < 0).any()):
            raise ValueError(f"{ctx.data.section.uri}: classification needs labelled train and test rows")
        num_classes = max(len(views["train"].label_names), int(torch.cat([data["train"].labels, data["test"].labels]).max()) + 1)
        metrics = classification_metrics(data["train"], data["test"], num_classes, cfg.classifier, data.get("val"),
                                         raw_weights=cfg.raw_weight_baseline)
        return TaskOutcome(metrics)
