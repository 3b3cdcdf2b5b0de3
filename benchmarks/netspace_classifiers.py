"""Evidence for NetSpace on a zoo of digit classifiers (thesis figs. 4.4, 4.6, table 4.1, latent optimization).

    .venv/bin/python jobs/classifier_zoo.py --config jobs/configs/digits_classifiers.yaml output.uri=/tmp/ns-digits-zoo.zarr
    .venv/bin/python benchmarks/netspace_classifiers.py --zoo /tmp/ns-digits-zoo.zarr [--single-steps 1500] [--multi-steps 1500]

1. single architecture (resnet8): NetSpace trained by KD to each input network on the train
   networks; accuracy of decoded held-out (test-split) networks against their targets; accuracy
   along the interpolation between two held-out networks in embedding space against the direct
   interpolation of their weights;
2. several architectures (lenet, plain_cnn, resnet8, resnet14; ClassId head, interpolation
   loss, the zoo's best training network as teacher): ClassId accuracy per architecture on
   held-out networks, decoded accuracy per architecture, the path between boundary embeddings
   (lenet -> resnet14) with the architecture and accuracy at each point;
3. latent-space optimization in the multi-architecture space: from the least accurate held-out
   network of each architecture, initial -> optimized test accuracy (best validation embedding);
4. sampling: networks decoded from embeddings drawn around the training embeddings.

Accuracies are on the digits test images (359) the zoo's networks never trained on; ratios are
against baselines measured in the same run. The budget (BUDGET) is far below the thesis's:
printed at the end.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time

import torch

from inrzoo.classifiers import accuracy, load_digits_splits
from inrzoo.zoo.netspace import DecoderConfig, EncoderConfig, LatentOptimizationConfig, LossConfig, NetSpace
from inrzoo.zoo.netspace import NetSpaceConfig, PrepConfig
from inrzoo.zoo.netspace.batches import classifier_batches, teacher_function
from inrzoo.zoo.netspace.data import load_zoo, one_architecture, zoo_prep_shape
from inrzoo.zoo.netspace.evaluate import decode_zoo, embedding_path, network_accuracy, sample_embeddings, weight_path
from inrzoo.zoo.netspace.latent import optimize_embedding
from inrzoo.zoo.netspace.objectives import classifier_loss

log = logging.getLogger("netspace_classifiers")

# CPU budget (thesis: embedding 4096, encoder 128-256-512, decoder 256 per row and 128/512/256,
# PRep width 10,000, Adam 1e-4, 1000 epochs over the image set with 8 (single) or 2 (multi)
# networks per step and 128 images, on a GPU). Adam 1e-3 here: at 1e-4 the decoded networks
# barely move in the few thousand steps a shared 2-core CPU affords.
EMBEDDING = 1024
BUDGET = {"embedding": EMBEDDING, "encoder_channels": [32, 64, 128], "seed_side": 32, "row_channels": 64,
          "stage_channels": [32, 128, 64], "prep_width": 2048, "images_per_step": 128, "lr": 1e-3,
          "single_networks_per_step": 8, "multi_networks_per_step": 4}


def space_config(height: int, width: int, num_archs: int, loss: LossConfig) -> NetSpaceConfig:
    return NetSpaceConfig(
        prep=PrepConfig(height=height, width=width),
        encoder=EncoderConfig(embedding_size=EMBEDDING, channels=BUDGET["encoder_channels"]),
        decoder=DecoderConfig(seed_side=BUDGET["seed_side"], row_channels=BUDGET["row_channels"],
                              stage_channels=BUDGET["stage_channels"]),
        loss=loss, num_archs=num_archs, lr=BUDGET["lr"])


def train(model: NetSpace, batches, steps: int, lr: float, archs: list, label: str) -> float:
    """Plain Adam loop over the batches (the zoo core's loop takes this over once it lands)."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    started, recent = time.perf_counter(), []
    model.train()
    for step in range(1, steps + 1):
        batch = next(batches)
        loss, metrics = classifier_loss(model, batch.preps, batch.arch_ids, archs, batch.images, batch.labels,
                                        batch.teacher_logits, model.config.loss)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        recent.append(loss.item())
        if step % 50 == 0 or step == steps:
            log.info("%s step %d/%d: loss %.4f %s (%.0fs)", label, step, steps, statistics.mean(recent[-50:]),
                     {k: round(v, 4) for k, v in metrics.items()}, time.perf_counter() - started)
    return time.perf_counter() - started


def single_architecture(uri: str, family: int, steps: int, data, device: torch.device) -> dict:
    shape = zoo_prep_shape(uri, BUDGET["prep_width"], groups=[family])
    train_zoo = one_architecture(load_zoo(uri, shape, "train", arch=family), family).to(device)
    test_zoo = one_architecture(load_zoo(uri, shape, "test", arch=family), family).to(device)
    arch = train_zoo.archs[0]
    torch.manual_seed(0)
    model = NetSpace(space_config(*shape, 1, LossConfig(teacher="input", interpolation=False))).to(device)
    batches = classifier_batches(train_zoo, data.train, networks=BUDGET["single_networks_per_step"],
                                 image_batch=BUDGET["images_per_step"],
                                 teacher="input")
    seconds = train(model, batches, steps, model.config.lr, train_zoo.archs, f"single {arch.spec.label}")
    model.eval()
    order = sorted(range(len(test_zoo)), key=lambda i: test_zoo.metrics[i]["test_accuracy"])
    a, b = order[0], order[-1]  # the least and the most accurate held-out network
    with torch.no_grad():
        emb = model.encode(test_zoo.preps[[a, b]])
    return {"arch": arch.spec.label, "prep": shape, "train_networks": len(train_zoo), "test_networks": len(test_zoo),
            "seconds": seconds, "test": decode_zoo(model, test_zoo, data.test),
            "train": decode_zoo(model, train_zoo, data.test),
            "embedding_path": embedding_path(model, emb[0], emb[1], test_zoo.archs, data.test),
            "weight_path": weight_path(test_zoo.preps[a], test_zoo.preps[b], 0, test_zoo.archs, data.test),
            "path_ends": (test_zoo.ids[a], test_zoo.ids[b])}


def multi_architecture(uri: str, steps: int, latent_steps: int, data, device: torch.device) -> dict:
    shape = zoo_prep_shape(uri, BUDGET["prep_width"])
    train_zoo, test_zoo = load_zoo(uri, shape, "train").to(device), load_zoo(uri, shape, "test").to(device)
    archs, num_archs = train_zoo.archs, len(train_zoo.archs)
    teacher = teacher_function(train_zoo, "best")
    torch.manual_seed(0)
    model = NetSpace(space_config(*shape, num_archs, LossConfig(teacher="best", interpolation=True))).to(device)
    batches = classifier_batches(train_zoo, data.train, networks=BUDGET["multi_networks_per_step"],
                                 image_batch=BUDGET["images_per_step"],
                                 teacher="best", fixed_teacher=teacher)
    seconds = train(model, batches, steps, model.config.lr, archs, "multi")
    model.eval()
    rows = decode_zoo(model, test_zoo, data.test)
    first = [i for i in range(len(test_zoo)) if int(test_zoo.arch_ids[i]) == 0]
    last = [i for i in range(len(test_zoo)) if int(test_zoo.arch_ids[i]) == num_archs - 1]
    best_of = lambda ids: max(ids, key=lambda i: test_zoo.metrics[i]["test_accuracy"])  # noqa: E731
    a, b = best_of(first), best_of(last)
    with torch.no_grad():
        emb = model.encode(test_zoo.preps[[a, b]])
        train_emb = model.encode(train_zoo.preps)
    path = embedding_path(model, emb[0], emb[1], archs, data.test, steps=3 * (num_archs - 1) + 1)
    latent = []
    cfg = LatentOptimizationConfig(steps=latent_steps, lr=1e-3, batch_size=BUDGET["images_per_step"], eval_every=25)
    for arch in range(num_archs):
        members = [i for i in range(len(test_zoo)) if int(test_zoo.arch_ids[i]) == arch]
        worst = min(members, key=lambda i: test_zoo.metrics[i]["test_accuracy"])
        with torch.no_grad():
            start = model.encode(test_zoo.preps[worst:worst + 1])[0]
        result = optimize_embedding(model, start, archs, teacher, data, target_arch=arch, cfg=cfg, loss_cfg=model.config.loss)
        latent.append({"arch": archs[arch].spec.label, "start": test_zoo.ids[worst],
                       "input_accuracy": test_zoo.metrics[worst]["test_accuracy"],
                       "initial": result.initial, "optimized": result.test_accuracy, "optimized_arch": result.arch})
    with torch.no_grad():
        decoded, logits = model.decode(sample_embeddings(train_emb, 16))
    sampled = [(int(arch), network_accuracy(prep, int(arch), archs, data.test))
               for prep, arch in zip(decoded, logits.argmax(1))]
    return {"archs": [a.spec.label for a in archs], "prep": shape, "train_networks": len(train_zoo),
            "test_networks": len(test_zoo), "seconds": seconds, "test": rows, "path": path,
            "path_ends": (test_zoo.ids[a], test_zoo.ids[b]), "latent": latent, "sampled": sampled,
            "teacher_accuracy": accuracy(teacher, data.test)}


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else float("nan")


def report_single(r: dict) -> None:
    print(f"\n== single architecture {r['arch']}: PRep {r['prep'][0]}x{r['prep'][1]}, {r['train_networks']} train / "
          f"{r['test_networks']} held-out networks, trained {r['seconds']:.0f}s")
    for split in ("train", "test"):
        rows = r[split]
        gap = _mean(abs(x.target_accuracy - x.decoded_accuracy) for x in rows)
        ratio = _mean(x.decoded_accuracy for x in rows) / _mean(x.target_accuracy for x in rows)
        print(f"  {split:5s} networks: target accuracy {_mean(x.target_accuracy for x in rows):.3f}, decoded "
              f"{_mean(x.decoded_accuracy for x in rows):.3f} (ratio {ratio:.3f}), mean |target - decoded| {gap:.3f}")
    for x in r["test"]:
        print(f"    {x.id:14s} target {x.target_accuracy:.3f}  decoded {x.decoded_accuracy:.3f}")
    emb, wts = r["embedding_path"], r["weight_path"]
    print(f"  interpolation {r['path_ends'][0]} -> {r['path_ends'][1]} (gamma 0..1, 11 points):")
    print("    embedding: " + " ".join(f"{p.accuracy:.2f}" for p in emb))
    print("    weights:   " + " ".join(f"{p.accuracy:.2f}" for p in wts))
    inner = slice(1, -1)
    print(f"    mean accuracy strictly inside the path: embedding {_mean(p.accuracy for p in emb[inner]):.3f}, "
          f"weights {_mean(p.accuracy for p in wts[inner]):.3f} (ratio "
          f"{_mean(p.accuracy for p in emb[inner]) / max(_mean(p.accuracy for p in wts[inner]), 1e-9):.2f})")


def report_multi(r: dict) -> None:
    archs = r["archs"]
    print(f"\n== {len(archs)} architectures {archs}: PRep {r['prep'][0]}x{r['prep'][1]}, {r['train_networks']} train / "
          f"{r['test_networks']} held-out networks, trained {r['seconds']:.0f}s; teacher accuracy "
          f"{r['teacher_accuracy']:.3f}")
    print("  | architecture | held-out | ClassId accuracy | target accuracy | decoded accuracy |")
    for a, name in enumerate(archs):
        rows = [x for x in r["test"] if x.arch == a]
        print(f"  | {name} | {len(rows)} | {_mean(x.decoded_arch == a for x in rows):.3f} | "
              f"{_mean(x.target_accuracy for x in rows):.3f} | {_mean(x.decoded_accuracy for x in rows):.3f} |")
    print(f"  ClassId accuracy over all held-out networks: {_mean(x.decoded_arch == x.arch for x in r['test']):.3f} "
          f"(chance {1 / len(archs):.3f})")
    print(f"  path {r['path_ends'][0]} -> {r['path_ends'][1]}: "
          + " ".join(f"g={p.gamma:.2f}:{archs[p.arch].split('-')[0]}/{p.accuracy:.2f}" for p in r["path"]))
    for x in r["latent"]:
        print(f"  latent optimization {x['arch']} from {x['start']} (input network {x['input_accuracy']:.3f}): "
              f"initial decoded {x['initial']['test_accuracy']:.3f} -> optimized {x['optimized']:.3f} "
              f"(architecture {archs[x['optimized_arch']]})")
    accs = [acc for _, acc in r["sampled"]]
    counts = {archs[a]: sum(1 for b, _ in r["sampled"] if b == a) for a in range(len(archs))}
    print(f"  16 sampled embeddings: architectures {counts}, accuracy mean {_mean(accs):.3f}, "
          f"min {min(accs):.3f}, max {max(accs):.3f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zoo", required=True, help="classifier zoo built by jobs/classifier_zoo.py")
    parser.add_argument("--single-family", type=int, default=2, help="architecture group of the single space (2 = resnet8)")
    parser.add_argument("--single-steps", type=int, default=1500)
    parser.add_argument("--multi-steps", type=int, default=1500)
    parser.add_argument("--latent-steps", type=int, default=300)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="cpu or cuda (the GPU run of the lead)")
    parser.add_argument("--skip-single", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    data = load_digits_splits().to(device)
    started = time.perf_counter()
    if not args.skip_single:
        report_single(single_architecture(args.zoo, args.single_family, args.single_steps, data, device))
    report_multi(multi_architecture(args.zoo, args.multi_steps, args.latent_steps, data, device))
    print(f"\nbudget: {json.dumps(BUDGET)}; single {args.single_steps} steps, multi {args.multi_steps} steps, latent {args.latent_steps} steps; {time.perf_counter() - started:.0f}s in all on "
          f"{args.threads} threads. Thesis: embedding 4096, PRep width 10,000, 1000 epochs of the image set "
          f"(about 390 steps each on CIFAR-10), on a GPU.")


if __name__ == "__main__":
    main()
