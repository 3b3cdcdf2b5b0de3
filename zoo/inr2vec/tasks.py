"""Supervised tasks on inr2vec embeddings: classification (thesis C.5) and transfer.

Classification: a Classifier (Linear+BatchNorm+ReLU+Dropout stages, then the class layer)
trained with cross entropy, AdamW and a OneCycle schedule over all steps; the weights with the
best validation accuracy are kept and accuracy is reported on the held-out split.

Transfer between two embedding spaces (e.g. point-cloud INRs -> mesh INRs): a TransferNet
(Linear layers with BatchNorm+ReLU between them) trained with MSE and AdamW on pairs of
embeddings of the same shapes; the transferred codes go to the target space's decoder, so
evaluate.reconstruction_quality on the target model scores them as shapes.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inrzoo.zoo.inr2vec.config import ClassifierConfig, TransferConfig
from inrzoo.zoo.inr2vec.head_training import check_pairs, fit_minibatches, one_cycle
from inrzoo.zoo.inr2vec.heads import Classifier, TransferNet


@torch.no_grad()
def _apply(model: nn.Module, x: Tensor, batch_size: int = 1024, post: Callable[[Tensor], Tensor] = lambda t: t) -> Tensor:
    """model(x) in eval mode, batch by batch, gathered on the CPU."""
    model.eval()
    device = next(model.parameters()).device
    return torch.cat([post(model(x[i : i + batch_size].to(device).float())).cpu() for i in range(0, len(x), batch_size)])


def predict(model: Classifier, embeddings: Tensor) -> Tensor:
    """Predicted class ids [N] (eval mode)."""
    return _apply(model, embeddings, post=lambda logits: logits.argmax(-1))


def accuracy(model: Classifier, embeddings: Tensor, labels: Tensor) -> float:
    """Fraction of correctly classified embeddings."""
    check_pairs(embeddings, labels, "accuracy")
    return float((predict(model, embeddings) == labels.cpu().long()).float().mean())


def train_classifier(train_x: Tensor, train_y: Tensor, num_classes: int, config: ClassifierConfig | None = None,
                     val_x: Tensor | None = None, val_y: Tensor | None = None,
                     device: torch.device | str = "cpu") -> tuple[Classifier, dict[str, list[float]]]:
    """Train a classifier on embeddings [N, E] with labels [N] in [0, num_classes).

    Returns the model with the best validation accuracy (the last one without validation data)
    and the per-epoch history {"loss", "val_accuracy"}.
    """
    config = config or ClassifierConfig()
    check_pairs(train_x, train_y, "train_classifier")
    if int(train_y.max()) >= num_classes or int(train_y.min()) < 0:
        raise ValueError(f"train_classifier: labels must lie in [0, {num_classes}), got {int(train_y.min())}..{int(train_y.max())}")
    dims = list(config.layers_dim)
    if dims[0] != train_x.shape[1]:
        raise ValueError(f"train_classifier: layers_dim starts with {dims[0]} but embeddings have {train_x.shape[1]} values")
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


def transfer_embeddings(net: TransferNet, source: Tensor) -> Tensor:
    """Map source embeddings [N, E] into the target space (eval mode)."""
    return _apply(net, source)


def transfer_mse(net: TransferNet, source: Tensor, target: Tensor) -> float:
    check_pairs(source, target, "transfer_mse")
    return float(F.mse_loss(transfer_embeddings(net, source), target.float()))


def train_transfer(source: Tensor, target: Tensor, config: TransferConfig | None = None,
                   val_source: Tensor | None = None, val_target: Tensor | None = None,
                   device: torch.device | str = "cpu") -> tuple[TransferNet, dict[str, list[float]]]:
    """Train source [N, E] -> target [N, E]; keeps the weights with the lowest validation MSE."""
    config = config or TransferConfig()
    check_pairs(source, target, "train_transfer")
    if source.shape[1] != target.shape[1]:
        raise ValueError(f"train_transfer: source size {source.shape[1]} differs from target size {target.shape[1]}")
    torch.manual_seed(config.seed)
    net = TransferNet(source.shape[1], config.num_layers).to(device)
    optimizer = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)

    def batch_loss(idx: Tensor) -> Tensor:
        return F.mse_loss(net(source[idx].to(device).float()), target[idx].to(device).float())

    validate = None if val_source is None or val_target is None else (lambda: transfer_mse(net, val_source, val_target))
    history = fit_minibatches(net, len(source), batch_loss, optimizer, epochs=config.epochs,
                              batch_size=config.batch_size, seed=config.seed, min_size=2, validate=validate,
                              higher_is_better=False)
    return net, {"loss": history["loss"], "val_mse": history["val"]}
