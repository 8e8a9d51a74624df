"""SignNet: our own architecture, designed for accuracy per CPU-second on 32x32 signs.

Design choices, each aimed at the small CPU this product trains and runs on:

* Early downsampling: one narrow 3x3 conv at full 32x32 resolution, then max-pooling after
  every conv, so each stage costs about the same and the deep, wide layers run at 8x8 and 4x4.
* Batch normalisation after every conv: trains fast with large learning rates and folds into
  the conv weights at export time, so it is free at inference.
* Widths double as resolution halves (VGG/ResNet rule); depth is only four convs because on
  two CPU cores per-layer overhead, not MACs, dominates small models (see docs/design.md,
  *SignNet*, for what deeper variants cost).
* Global average + max pooling head: position-tolerant and robust to partial occlusion; its
  gradients have a closed form, so Grad-CAM maps are part of the exported graph.
* ReLU, plain convs, channels-last friendly: the fastest primitives on oneDNN and ONNX Runtime.

``signnet-s`` halves every width (about a quarter of the MACs): the fast model.
``signnet-l`` doubles the two early widths instead, at 2.3x SignNet's MACs: of the wider and
deeper variants tried, widening the early stages is the one that raised test accuracy (docs/design.md,
*SignNet*, has the figures).
``convs_per_stage=2`` (two convs at 32, 16 and 8 pixels, VGG style, 2.9x the MACs) is the
body of ``signnet-stn-deep`` (models/stn.py): behind a spatial transformer it is our most
accurate single model.
"""

from __future__ import annotations

import torch
from torch import nn

from traffic_signs.models.layers import Normalize
from traffic_signs.models.registry import register


def conv_bn(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


def stage(c_in: int, c_out: int, convs: int) -> list[nn.Module]:
    """``convs`` conv-BN-ReLU blocks at one resolution, the first changing the width."""
    return [conv_bn(c_in, c_out)] + [conv_bn(c_out, c_out) for _ in range(convs - 1)]


class SignNet(nn.Module):
    """Four conv-BN-ReLU stages at 32, 16, 8 and 4 pixels, then avg+max pooling and a linear."""

    def __init__(self, widths: tuple[int, int, int, int], num_classes: int, dropout: float = 0.2,
                 convs_per_stage: int = 1):
        super().__init__()
        w0, w1, w2, w3 = widths
        self.features = nn.Sequential(
            Normalize(),
            *stage(3, w0, convs_per_stage), nn.MaxPool2d(2),   # 32x32: edges and colour blobs
            *stage(w0, w1, convs_per_stage), nn.MaxPool2d(2),  # 16x16: rims and strokes
            *stage(w1, w2, convs_per_stage), nn.MaxPool2d(2),  # 8x8: pictogram parts
            conv_bn(w2, w3),                                   # 4x4: whole-sign features
        )
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(2 * w3, num_classes)

    @staticmethod
    def pool(features: torch.Tensor) -> torch.Tensor:
        """Global average and max of every channel, side by side: N x 2C."""
        return torch.cat([features.mean(dim=(2, 3)), features.amax(dim=(2, 3))], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(self.pool(self.features(x))))

    def class_activation_maps(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits and the Grad-CAM map of every class (N x C x 4 x 4), in one forward pass.

        Grad-CAM weighs each last-stage channel A_k by the position-average of d logit_c / d A_k.
        With this head the gradient is known in closed form: the average pool contributes
        w_avg[c, k] / hw at every position and the max pool w_max[c, k] at one, so the weight is
        (w_avg[c, k] + w_max[c, k]) / hw and the maps are a 1x1 convolution of the features.
        That lets the torch-free runtime draw Grad-CAM from the exported graph (dropout is off
        in evaluation, so the logits equal ``forward``'s).
        """
        features = self.features(x)
        channels, positions = features.shape[1], features.shape[2] * features.shape[3]
        weight = self.classifier.weight
        alpha = (weight[:, :channels] + weight[:, channels:]) / positions
        return self.classifier(self.pool(features)), nn.functional.conv2d(features, alpha[:, :, None, None])


_SOURCE = "Designed for this product (see traffic_signs/models/signnet.py)."


@register("signnet", source=_SOURCE, ours=True)
def signnet(num_classes: int) -> nn.Module:
    """SignNet, widths 32-64-128-256: our accurate plain CNN (behind a spatial transformer it ships)."""
    return SignNet((32, 64, 128, 256), num_classes)


@register("signnet-l", source=_SOURCE, ours=True)
def signnet_l(num_classes: int) -> nn.Module:
    """SignNet-L, widths 64-128-128-256: wider early stages, accuracy before speed."""
    return SignNet((64, 128, 128, 256), num_classes)


@register("signnet-m", source=_SOURCE, ours=True)
def signnet_m(num_classes: int) -> nn.Module:
    """SignNet-M, widths 24-48-96-192: between the two, about 57% of SignNet's MACs."""
    return SignNet((24, 48, 96, 192), num_classes)


@register("signnet-s", source=_SOURCE, ours=True)
def signnet_s(num_classes: int) -> nn.Module:
    """SignNet-S, widths 16-32-64-128: our fast model for high-throughput serving."""
    return SignNet((16, 32, 64, 128), num_classes)
