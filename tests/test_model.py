"""The SiamFC network: head = per-sample correlation, fp32 under autocast, map sizes."""
import pytest
import torch
import torch.nn.functional as F

from siamfc_lib.model import CorrelationHead, build_model


def _loop_reference(z, x, scale, bias):
    return torch.cat([F.conv2d(x[i:i + 1], z[i:i + 1]) for i in range(x.shape[0])]) * scale + bias


def test_head_equals_a_loop_of_per_sample_correlations():
    torch.manual_seed(0)
    head = CorrelationHead()
    with torch.no_grad():
        head.bias.fill_(0.25)
    z, x = torch.randn(3, 8, 6, 6), torch.randn(3, 8, 20, 20)
    out = head(z, x)
    assert out.shape == (3, 1, 15, 15)
    torch.testing.assert_close(out, _loop_reference(z, x, 1e-3, 0.25), rtol=1e-5, atol=1e-6)


def test_head_broadcasts_one_exemplar_over_a_scale_pyramid():
    torch.manual_seed(1)
    head = CorrelationHead(learn_bias=False)
    z, x = torch.randn(1, 8, 6, 6), torch.randn(3, 8, 22, 22)
    torch.testing.assert_close(head(z, x), _loop_reference(z.expand(3, -1, -1, -1), x, 1e-3, 0.0),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="does not match"):
        head(torch.randn(2, 8, 6, 6), x)


def test_head_stays_fp32_under_bf16_autocast():
    model = build_model(width=0.125)
    z, x = torch.rand(2, 3, 127, 127) * 255, torch.rand(2, 3, 239, 239) * 255
    with torch.autocast("cpu", dtype=torch.bfloat16):
        zf, xf = model.backbone(z), model.backbone(x)
        out = model.head(zf, xf)
    assert zf.dtype == torch.bfloat16  # the backbone did run in bf16 ...
    assert out.dtype == torch.float32  # ... and the correlation did not
    torch.testing.assert_close(out, _loop_reference(zf.float(), xf.float(), 1e-3, model.head.bias), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("instance, side", [(239, 15), (255, 17)])
def test_map_sizes(instance, side):
    model = build_model(width=0.125).eval()
    with torch.no_grad():
        out = model(torch.rand(2, 3, 127, 127) * 255, torch.rand(2, 3, instance, instance) * 255)
    assert out.shape == (2, 1, side, side)


def test_width_scales_channels_and_keeps_them_even():
    assert build_model(1.0).backbone.out_channels == 256
    assert build_model(0.25).backbone.out_channels == 64
    assert build_model(0.125).backbone.out_channels % 2 == 0
