import torch

from selfsup.utils.features import extract_features


def test_encodes_first_views_and_skips_empty_batches():
    images = torch.arange(5 * 3 * 2 * 2, dtype=torch.float32).reshape(5, 3, 2, 2)
    loader = [
        ([images[:2], images[:2] + 100], torch.tensor([0, 1]), ["a", "b"]),
        ([], torch.zeros(0, dtype=torch.long), []),  # every file of this batch was undecodable
        ([images[2:], images[2:] + 100], torch.tensor([1, 0, 1]), ["c", "d", "e"]),
    ]
    features, targets, names = extract_features(lambda x: x.sum(dim=(2, 3)), loader)
    torch.testing.assert_close(features, images.sum(dim=(2, 3)))
    assert targets.tolist() == [0, 1, 1, 0, 1] and names == ["a", "b", "c", "d", "e"]


def test_no_images_gives_empty_results():
    features, targets, names = extract_features(lambda x: x, [([], torch.zeros(0), [])])
    assert features.shape == (0, 0) and targets.shape == (0,) and names == []
