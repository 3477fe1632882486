"""Lightning modules and what they need to train: classifier, mask probe, front-end fitting, checkpoint I/O.

``FrontEndClassifier`` is a front-end before a backbone; ``FourierMaskProbe`` learns P004's dataset mask on a frozen
network; ``FrontEndFitting`` fits a front-end (e.g. PCA) before training; ``checkpoints`` reads and checks files.
"""

from lowfreq.training.classifier import FrontEndClassifier
from lowfreq.training.fitting import FrontEndFitting
from lowfreq.training.probe import FourierMaskProbe

__all__ = ["FourierMaskProbe", "FrontEndClassifier", "FrontEndFitting"]
