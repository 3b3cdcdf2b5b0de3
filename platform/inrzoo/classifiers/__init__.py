"""Zoos of trained image classifiers (NetSpace's second kind of zoo): data, training with batch
norm folded afterwards, and the Ray job that stores a zoo as a weight dataset.

    data = load_digits_splits()                       # scikit-learn digits, fixed splits
    trained = train_instance(spec.replace(norm="batch"), seed, epochs, data)
    fused, fused_spec = fuse_batchnorm(net, spec)     # conv + BN -> conv
    build_classifier_zoo(load_zoo_config("jobs/configs/digits_classifiers.yaml", ["output.uri=..."]))

The architectures themselves (ClassifierSpec, modules, batched forward) live in `inrzoo.inr`,
next to the INRs, so a stored zoo is read like any weight dataset.
"""

from inrzoo.classifiers.digits import ImageSplit, ImageSplits, accuracy, load_digits_splits, minibatches
from inrzoo.classifiers.fusion import fold_batchnorm, fuse_batchnorm
from inrzoo.classifiers.training import InstanceTraining, TrainedInstance, train_instance
from inrzoo.classifiers.zoo import ClassifierZooConfig, FamilySection, build_classifier_zoo, load_zoo_config

__all__ = [
    "ClassifierZooConfig",
    "FamilySection",
    "ImageSplit",
    "ImageSplits",
    "InstanceTraining",
    "TrainedInstance",
    "accuracy",
    "build_classifier_zoo",
    "fold_batchnorm",
    "fuse_batchnorm",
    "load_digits_splits",
    "load_zoo_config",
    "minibatches",
    "train_instance",
]
