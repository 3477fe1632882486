"""Backbones: [0, 1] images -> logits, with normalisation inside the model."""

from lowfreq.backbones.base import IMAGENET_MEAN, IMAGENET_STD, Backbone, Normalize
from lowfreq.backbones.openclip import OpenCLIPZeroShot  # open_clip itself is imported lazily
from lowfreq.backbones.preact import PreActResNet32
from lowfreq.backbones.resnet import CIFARResNet18
from lowfreq.backbones.robustbench import RobustBenchClassifier  # robustbench itself is imported lazily
from lowfreq.backbones.simple import SimpleCNN
from lowfreq.backbones.timm import TimmClassifier
from lowfreq.backbones.torchvision import TorchvisionClassifier

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "Backbone",
    "CIFARResNet18",
    "Normalize",
    "OpenCLIPZeroShot",
    "PreActResNet32",
    "RobustBenchClassifier",
    "SimpleCNN",
    "TimmClassifier",
    "TorchvisionClassifier",
]
