"""The SiamFC AlexNet (Bertinetto et al. 2016): 96-256-384-384-256 channels, total stride 8."""
from __future__ import annotations

import torch
from torch import nn


def _conv_bn_relu(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, kernel, stride, groups=groups), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class AlexNetV1(nn.Module):
    """conv1 s2, pool s2, conv2 (2 groups), pool s2, conv3, conv4 (2 groups), conv5 (2 groups).

    Batch norm after conv1-4, none after conv5 (its output feeds the correlation). ``width``
    scales every channel count for small variants (the CPU demo uses 0.25); counts are kept
    even so the two-group convolutions stay valid.
    """

    stride = 8

    def __init__(self, width: float = 1.0):
        super().__init__()
        c1, c2, c3, c4, c5 = (max(2, int(round(c * width / 2)) * 2) for c in (96, 256, 384, 384, 256))
        self.out_channels = c5
        self.features = nn.Sequential(
            *_conv_bn_relu(3, c1, 11, stride=2),
            nn.MaxPool2d(3, 2),
            *_conv_bn_relu(c1, c2, 5, groups=2),
            nn.MaxPool2d(3, 2),
            *_conv_bn_relu(c2, c3, 3),
            *_conv_bn_relu(c3, c4, 3, groups=2),
            nn.Conv2d(c4, c5, 3, groups=2),
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)
