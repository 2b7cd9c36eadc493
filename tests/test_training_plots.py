"""The label maps 03 shows beside its training pairs are the ones the loss trains against."""
import torch

from siamfc_lib.config import preset
from siamfc_lib.visualisation.training_plots import training_labels

# Positives of a 9x9 map (191 px instance) within 2 cells of a target one cell left of the centre (4, 4).
LEFT_9 = {(2, 3), (3, 2), (3, 3), (3, 4), (4, 1), (4, 2), (4, 3), (4, 4), (4, 5), (5, 2), (5, 3), (5, 4), (6, 3)}


def test_paper_labels_are_the_centred_15x15_map_for_every_pair():
    labels = training_labels(preset("paper"), torch.tensor([[8.0, 0.0], [0.0, 0.0]]))
    assert labels.shape == (2, 15, 15)
    for m in labels:
        assert {tuple(map(int, ij)) for ij in zip(*m.nonzero())} == \
            {(7 + di, 7 + dj) for di in range(-2, 3) for dj in range(-2, 3) if di * di + dj * dj <= 4}


def test_labels_following_the_shift_sit_on_each_pair_s_target():
    cfg = preset("paper", labels_follow_shift=True, geometry={"train_instance_size": 191})
    labels = training_labels(cfg, torch.tensor([[-8.0, 0.0]]))
    assert labels.shape == (1, 9, 9)
    assert {tuple(map(int, ij)) for ij in zip(*labels[0].nonzero())} == LEFT_9
