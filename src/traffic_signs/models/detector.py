"""SignFinder: a small one-pass detector that says where the signs in a photo are.

CenterNet-style (Zhou et al., 2019, "Objects as Points"): a fully convolutional network
looks at the whole photo once (long side 256 px) and answers, for every 4x4-pixel cell, how
likely a sign's centre lies there (a heat map), the sign's width and height, and the centre's
offset within the cell. No anchors, no windows: the peaks of the heat map are the signs. It is
class-agnostic; naming each sign is the classifier's job, on a crop cut from the box.

The body is a plain conv-BN-ReLU pyramid down to 1/32 of the input, with a global-context
term at the top (a sign filling the photo needs to be seen whole), and a feature-pyramid
path back up to 1/4, where the heads read. About 0.2 M parameters.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn

from traffic_signs.errors import ModelFileError
from traffic_signs.files import file_digest, staged
from traffic_signs.models.io import _write_tensors
from traffic_signs.models.model_file import DetectorFile, read_detector_file

STRIDE = 4  # the heat map has one cell per 4 x 4 input pixels
HEAT_PRIOR = 0.01  # initial sign probability of a cell (most cells hold no sign centre)


def conv_bn(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class SignFinder(nn.Module):
    """Heat map, box size and centre offset at 1/4 of the input: N x 5 x H/4 x W/4.

    Channels: 0 sign-centre logit, 1-2 log(width / 4), log(height / 4), 3-4 offset of the
    centre within its cell (0..1). Input: float RGB in [0, 1], H and W multiples of 32.
    """

    def __init__(self, widths: tuple[int, ...] = (16, 32, 48, 64, 96), head: int = 32):
        super().__init__()
        w0, w1, w2, w3, w4 = widths
        self.stem = conv_bn(3, w0, 2)
        self.stages = nn.ModuleList([
            nn.Sequential(conv_bn(w0, w1, 2), conv_bn(w1, w1)),
            nn.Sequential(conv_bn(w1, w2, 2), conv_bn(w2, w2)),
            nn.Sequential(conv_bn(w2, w3, 2), conv_bn(w3, w3)),
            nn.Sequential(conv_bn(w3, w4, 2), conv_bn(w4, w4)),
        ])
        self.lateral = nn.ModuleList([nn.Conv2d(w, head, 1) for w in (w1, w2, w3, w4)])
        self.context = nn.Conv2d(w4, head, 1)
        self.smooth = conv_bn(head, head)
        self.heads = nn.Conv2d(head, 5, 1)
        with torch.no_grad():
            self.heads.bias.zero_()
            self.heads.bias[0] = -torch.log(torch.tensor((1 - HEAT_PRIOR) / HEAT_PRIOR))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x - 0.5)
        features = []
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        top = self.lateral[3](features[3]) + self.context(features[3].mean(dim=(2, 3), keepdim=True))
        for level in (2, 1, 0):
            top = self.lateral[level](features[level]) + F.interpolate(top, size=features[level].shape[2:],
                                                                       mode="nearest")
        out = self.heads(self.smooth(top))
        return torch.cat([out[:, :3], torch.sigmoid(out[:, 3:])], dim=1)


def save_detector(stem: Path, model: SignFinder, epoch: int, history: list[dict[str, Any]],
                  config: dict[str, Any]) -> Path:
    """Write ``stem.safetensors`` and ``stem.json`` (the record, naming and checksumming the weights)
    together: both land in full or neither does, as for the classifier's model files."""
    weights, json_path = Path(stem).with_suffix(".safetensors"), Path(stem).with_suffix(".json")
    with staged(json_path) as json_tmp, staged(weights) as weights_tmp:
        digest = _write_tensors(weights_tmp, model.state_dict())
        record = DetectorFile(weights.name, digest, stride=STRIDE, epoch=epoch, history=history, config=config)
        json_tmp.write_text(json.dumps(record.to_json(), indent=2) + "\n")
    return json_path


def load_detector(json_path: Path) -> tuple[SignFinder, DetectorFile]:
    """A SignFinder with verified weights, and its record."""
    json_path = Path(json_path)
    record = read_detector_file(json_path)
    weights = json_path.with_name(record.weights)
    if not weights.is_file() or file_digest(weights) != record.sha256:
        raise ModelFileError(f"{weights}: missing, or its checksum differs from {json_path.name}")
    model = SignFinder()
    try:
        model.load_state_dict(load_file(str(weights)))
    except (RuntimeError, OSError, ValueError) as exc:
        raise ModelFileError(f"{weights}: weights do not fit SignFinder ({exc})") from exc
    return model.eval(), record
