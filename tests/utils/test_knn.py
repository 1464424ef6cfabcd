import numpy as np
import pytest
import torch
import torch.nn.functional as F

from selfsup.utils.knn import knn_predict


def _reference(query, bank, labels, num_classes, k, t):
    predictions = []
    for q in query:
        similarity = bank.T @ q
        nearest = np.argsort(-similarity)[:k]
        votes = np.zeros(num_classes)
        for index in nearest:
            votes[labels[index]] += np.exp(similarity[index] / t)
        predictions.append(int(np.argmax(votes)))
    return predictions


def test_hand_checkable_case():
    bank = F.normalize(torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]]), dim=1).T
    labels = torch.tensor([0, 0, 1, 1])
    query = F.normalize(torch.tensor([[1.0, 0.05], [0.05, 1.0]]), dim=1)
    ranking = knn_predict(query, bank, labels, num_classes=2, knn_k=2, knn_t=0.1)
    assert ranking.tolist() == [[0, 1], [1, 0]]


@pytest.mark.parametrize("chunk_size", [3, 1024])
def test_matches_loop_reference(chunk_size):
    generator = torch.Generator().manual_seed(1)
    bank = F.normalize(torch.randn(50, 8, generator=generator, dtype=torch.float64), dim=1)
    labels = torch.randint(0, 4, (50,), generator=generator)
    query = F.normalize(torch.randn(10, 8, generator=generator, dtype=torch.float64), dim=1)
    ranking = knn_predict(query, bank.T, labels, 4, knn_k=7, knn_t=0.5, chunk_size=chunk_size)
    expected = _reference(query.numpy(), bank.T.numpy(), labels.numpy(), 4, 7, 0.5)
    assert ranking[:, 0].tolist() == expected


def test_k_larger_than_bank_is_clipped():
    bank = F.normalize(torch.randn(3, 4), dim=1)
    ranking = knn_predict(bank, bank.T, torch.tensor([0, 1, 2]), 3, knn_k=200)
    assert ranking.shape == (3, 3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"feature": torch.randn(2, 5)}, "feature must be"),
        ({"feature_labels": torch.zeros(3, dtype=torch.long)}, "feature_labels must have shape"),
        ({"knn_k": 0}, "knn_k must be >= 1"),
        ({"knn_t": 0.0}, "knn_t > 0"),
    ],
)
def test_errors(kwargs, message):
    args = {
        "feature": torch.randn(2, 4),
        "feature_bank": torch.randn(4, 6),
        "feature_labels": torch.zeros(6, dtype=torch.long),
        "num_classes": 2,
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        knn_predict(**args)
