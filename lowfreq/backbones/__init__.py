"""Backbones: [0, 1] images -> logits, with normalisation inside the model."""

from lowfreq.backbones.base import IMAGENET_MEAN, IMAGENET_STD, Backbone, Normalize
from lowfreq.backbones.resnet import CIFARResNet18
from lowfreq.backbones.torchvision import TorchvisionClassifier

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "Backbone", "Normalize", "CIFARResNet18", "TorchvisionClassifier"]
