"""The classic baselines people start with, reproduced faithfully so the comparison is fair.

They are trained with exactly the same data, split, augmentation and schedule as our own
models; only the architecture differs.
"""

from __future__ import annotations

from torch import nn

from traffic_signs.models.layers import Normalize
from traffic_signs.models.registry import register


@register(
    "keras-basic",
    source="The Sequential CNN of the common Keras GTSRB tutorials: Conv(32,5x5)x2, MaxPool, "
    "Dropout(0.25), Conv(64,3x3)x2, MaxPool, Dropout(0.25), Dense(256), Dropout(0.5), Dense(43).",
)
def keras_basic(num_classes: int) -> nn.Module:
    """Keras-tutorial Sequential CNN: two conv-conv-pool-dropout blocks and a dense head."""
    return nn.Sequential(
        Normalize(),
        nn.Conv2d(3, 32, 5), nn.ReLU(),
        nn.Conv2d(32, 32, 5), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Conv2d(32, 64, 3), nn.ReLU(),
        nn.Conv2d(64, 64, 3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Flatten(),
        nn.Linear(64 * 4 * 4, 256), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(256, num_classes),
    )


@register(
    "lenet5",
    source="LeNet-5 (LeCun et al., 1998) as used in the Udacity Self-Driving-Car GTSRB project "
    "and its Keras ports: Conv(6,5x5), MaxPool, Conv(16,5x5), MaxPool, FC 120, FC 84, FC 43.",
)
def lenet5(num_classes: int) -> nn.Module:
    """LeNet-5 on 32x32 RGB input, ReLU activations and max pooling as in the tutorials."""
    return nn.Sequential(
        Normalize(),
        nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, num_classes),
    )


class TorchCNN(nn.Module):
    """The CNN a PyTorch beginner writes: three conv+ReLU+pool stages and two linear layers."""

    def __init__(self, num_classes: int):
        super().__init__()
        self.normalize = Normalize()
        self.conv1 = nn.Conv2d(3, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.conv3 = nn.Conv2d(64, 128, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.relu = nn.ReLU()
        self.fc1 = nn.Linear(128 * 4 * 4, 256)
        self.dropout = nn.Dropout(0.5)
        self.fc2 = nn.Linear(256, num_classes)

    def forward(self, x):
        x = self.normalize(x)
        x = self.pool(self.relu(self.conv1(x)))
        x = self.pool(self.relu(self.conv2(x)))
        x = self.pool(self.relu(self.conv3(x)))
        x = x.flatten(1)
        return self.fc2(self.dropout(self.relu(self.fc1(x))))


@register(
    "torch-cnn",
    source="A plain nn.Module in the style of the PyTorch 'Training a classifier' tutorial, "
    "widened to 32/64/128 channels as GTSRB blog posts do.",
)
def torch_cnn(num_classes: int) -> nn.Module:
    """Plain PyTorch CNN: conv(32)-conv(64)-conv(128), each ReLU + max-pool, FC 256, dropout."""
    return TorchCNN(num_classes)
