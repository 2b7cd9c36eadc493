"""Labels and the balanced logistic loss against hand-computed values."""
import math

import pytest
import torch

from siamfc_lib.model.losses import balanced_logistic_loss, label_masks, label_targets, shifted_targets

# Euclidean distance <= 16 px / stride 8 = 2 cells from the centre (7, 7) of the 15x15 map.
POSITIVES_15 = {(5, 7), (6, 6), (6, 7), (6, 8), (7, 5), (7, 6), (7, 7), (7, 8), (7, 9),
                (8, 6), (8, 7), (8, 8), (9, 7)}


def test_the_13_positive_cells_of_the_training_map():
    pos, neg = label_masks((15, 15))
    assert {tuple(map(int, ij)) for ij in pos.nonzero()} == POSITIVES_15
    assert torch.equal(neg, ~pos)


def test_weights_are_half_over_positives_and_half_over_negatives():
    labels, weights = label_targets((15, 15))
    for i in range(15):
        for j in range(15):
            expected = 0.5 / 13 if (i, j) in POSITIVES_15 else 0.5 / (225 - 13)
            assert weights[i, j].item() == pytest.approx(expected, rel=1e-6)
            assert labels[i, j].item() == (1.0 if (i, j) in POSITIVES_15 else 0.0)


def test_label_targets_are_built_once_per_shape_and_device():
    a = label_targets((15, 15), "cpu")
    assert label_targets((15, 15), torch.device("cpu"))[0] is a[0]
    assert label_targets((17, 17), "cpu")[0].shape == (17, 17)


def test_balanced_loss_matches_hand_computation():
    logits = torch.zeros(2, 1, 15, 15)
    for i, j in POSITIVES_15:
        logits[0, 0, i, j] = 2.0
    logits[0, 0][logits[0, 0] == 0] = -1.0
    # map 0: positives at +2 -> log(1 + e^-2); negatives at -1 (label 0) -> log(1 + e^-1)
    map0 = 0.5 * math.log(1 + math.exp(-2.0)) + 0.5 * math.log(1 + math.exp(-1.0))
    map1 = math.log(2.0)  # all logits 0: every cell costs log 2, weights sum to 1
    assert balanced_logistic_loss(logits).item() == pytest.approx((map0 + map1) / 2, rel=1e-6)


def test_loss_on_a_small_map_with_an_ignored_ring():
    # 5x5 map, stride 8: r_pos 8 px -> 1 cell (5 positives), r_neg 12 px -> 1.5 cells:
    # cells at distance sqrt(2) are ignored, 16 cells beyond 1.5 are negatives.
    logits = torch.full((1, 1, 5, 5), 0.5)
    expected = 0.5 * math.log(1 + math.exp(-0.5)) + 0.5 * math.log(1 + math.exp(0.5))
    assert balanced_logistic_loss(logits, r_pos=8, r_neg=12).item() == pytest.approx(expected, rel=1e-6)
    pos, neg = label_masks((5, 5), r_pos=8, r_neg=12)
    assert int(pos.sum()) == 5 and int(neg.sum()) == 16


def test_loss_is_fp32_for_bf16_logits():
    logits = torch.zeros(1, 1, 15, 15, dtype=torch.bfloat16)
    loss = balanced_logistic_loss(logits)
    assert loss.dtype == torch.float32 and loss.item() == pytest.approx(math.log(2), rel=1e-6)


def test_shifted_labels_centre_the_positives_on_the_target():
    # Target 8 px right and 16 px up of the instance centre: one cell right, two up.
    offsets = torch.tensor([[0.0, 0.0], [8.0, -16.0], [3.0, 0.0]])
    labels, weights = shifted_targets((15, 15), offsets)
    paper_labels, paper_weights = label_targets((15, 15))
    assert torch.equal(labels[0], paper_labels) and torch.allclose(weights[0], paper_weights)
    assert {tuple(map(int, ij)) for ij in labels[1].nonzero()} == {(i - 2, j + 1) for i, j in POSITIVES_15}
    # 3 px = 0.375 cell: (7, 5) is now 2.375 cells away, (7, 9) 1.625 and (7, 10) 2.625.
    moved = {tuple(map(int, ij)) for ij in labels[2].nonzero()}
    assert (7, 5) not in moved and (7, 9) in moved and (7, 10) not in moved
    assert torch.allclose(weights.sum(dim=(1, 2)), torch.ones(3))


def test_shift_following_loss_is_the_paper_loss_for_centred_targets_and_differs_when_moved():
    logits = torch.randn(2, 1, 15, 15, generator=torch.Generator().manual_seed(0))
    paper = balanced_logistic_loss(logits)
    assert balanced_logistic_loss(logits, target_offsets=torch.zeros(2, 2), labels_follow_shift=True).item() == \
        pytest.approx(paper.item(), rel=1e-6)
    moved = torch.tensor([[8.0, 0.0], [0.0, 8.0]])
    assert balanced_logistic_loss(logits, target_offsets=moved, labels_follow_shift=True).item() != \
        pytest.approx(paper.item(), rel=1e-3)
    assert balanced_logistic_loss(logits, target_offsets=moved).item() == paper.item()   # read only when asked
    with pytest.raises(ValueError, match="target_offsets"):
        balanced_logistic_loss(logits, labels_follow_shift=True)
