import ast
import math

import lightning as L
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from selfsup.utils import benchmarking
from selfsup.utils.benchmarking import (
    BenchmarkModule,
    LinearClassifier,
    knn_predict,
    mean_topk_accuracy,
)
from selfsup.utils.knn import knn_predict as knn_predict_impl


def _trainer(**kwargs):
    options = dict(
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        log_every_n_steps=1,
    )
    options.update(kwargs)
    return L.Trainer(**options)


class _Batches:
    """A ready-made sequence of batches as one loader (Lightning reads a list as many loaders)."""

    def __init__(self, batches):
        self.batches = list(batches)

    def __iter__(self):
        return iter(self.batches)

    def __len__(self):
        return len(self.batches)


def _numpy_knn_top1(query, bank, labels, num_classes, k, t):
    query = query / np.linalg.norm(query, axis=1, keepdims=True)
    bank = bank / np.linalg.norm(bank, axis=1, keepdims=True)
    predictions = []
    for q in query:
        similarity = bank @ q
        votes = np.zeros(num_classes)
        for index in np.argsort(-similarity)[:k]:
            votes[labels[index]] += np.exp(similarity[index] / t)
        predictions.append(int(np.argmax(votes)))
    return np.array(predictions)


def test_public_names_have_docstrings():
    assert knn_predict is knn_predict_impl
    for name in benchmarking.__all__:
        assert getattr(benchmarking, name).__doc__, name


def test_imports_stay_in_the_lowest_layer():
    tree = ast.parse(open(benchmarking.__file__).read())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    selfsup_modules = {name for name in imported if name.startswith("selfsup")}
    assert selfsup_modules == {"selfsup.utils.knn"}


def test_mean_topk_accuracy_matches_loop():
    generator = torch.Generator().manual_seed(3)
    ranked = torch.stack([torch.randperm(6, generator=generator) for _ in range(20)])
    targets = torch.randint(0, 6, (20,), generator=generator)
    result = mean_topk_accuracy(ranked, targets, (1, 3, 9))
    for k in (1, 3, 9):
        hits = sum(int(targets[i]) in ranked[i, :k].tolist() for i in range(20))
        assert result[k].item() == pytest.approx(hits / 20)
    assert result[9].item() == 1.0


@pytest.mark.parametrize(
    ("ranked", "targets", "k", "message"),
    [
        (torch.zeros(4, dtype=torch.long), torch.zeros(4), (1,), "predicted_classes must be"),
        (torch.zeros(4, 2, dtype=torch.long), torch.zeros(3), (1,), "targets"),
        (torch.zeros(4, 2, dtype=torch.long), torch.zeros(4), (0,), "k must be a positive int"),
    ],
)
def test_mean_topk_accuracy_errors(ranked, targets, k, message):
    with pytest.raises(ValueError, match=message):
        mean_topk_accuracy(ranked, targets, k)


def test_linear_classifier_forward_is_linear_map_of_flattened_features():
    classifier = LinearClassifier(nn.Identity(), 8, feature_dim=3, num_classes=2)
    weight = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]], dtype=np.float32)
    bias = np.array([0.25, -0.5], dtype=np.float32)
    with torch.no_grad():
        classifier.classification_head.weight.copy_(torch.from_numpy(weight))
        classifier.classification_head.bias.copy_(torch.from_numpy(bias))
    features = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 4.0]], dtype=np.float32)
    logits = classifier(torch.from_numpy(features).view(2, 3, 1, 1))
    expected = [[w @ f + b for w, b in zip(weight, bias, strict=True)] for f in features]
    np.testing.assert_allclose(logits.detach().numpy(), expected, rtol=1e-6)


def test_shared_step_loss_and_topk_match_hand_computation():
    classifier = LinearClassifier(nn.Identity(), 4, feature_dim=4, num_classes=4, topk=(1, 2))
    with torch.no_grad():
        classifier.classification_head.weight.copy_(torch.eye(4))
        classifier.classification_head.bias.zero_()
    # Logits are the features themselves: rankings [0, 1, ..], [1, 2, ..], [3, 2, ..], [2, 0, ..].
    features = torch.tensor(
        [[4.0, 3.0, 1.0, 0.0], [0.0, 5.0, 2.0, 1.0], [0.5, 1.0, 2.0, 3.0], [2.0, 0.0, 3.0, 1.0]]
    )
    targets = torch.tensor([0, 2, 3, 1])
    loss, topk = classifier.shared_step((features, targets, ["a", "b", "c", "d"]), 0)
    logits = features.numpy().astype(np.float64)
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected_loss = -np.mean([log_softmax[i, t] for i, t in enumerate(targets.tolist())])
    assert loss.item() == pytest.approx(expected_loss, rel=1e-6)
    assert topk[1].item() == pytest.approx(2 / 4)
    assert topk[2].item() == pytest.approx(3 / 4)


def test_topk_above_num_classes_counts_every_class():
    classifier = LinearClassifier(nn.Identity(), 4, feature_dim=2, num_classes=2)
    batch = ([torch.randn(6, 2)], torch.tensor([0, 1, 0, 1, 1, 0]), [""] * 6)
    _, topk = classifier.shared_step(batch, 0)
    assert set(topk) == {1, 5} and topk[5].item() == 1.0


def _bn_backbone():
    return nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten()
    )


def _image_batches(count, size=6, generator=None, extra=()):
    batches = []
    for index in range(count):
        images = torch.randn(size, 3, 8, 8, generator=generator)
        targets = torch.randint(0, 3, (size,), generator=generator)
        batches.append(([images], targets, [f"{index}-{i}.png" for i in range(size)]))
    return _Batches([*batches, *extra])


def test_frozen_model_is_unchanged_after_training_and_head_learns():
    backbone = _bn_backbone()
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    classifier = LinearClassifier(backbone, 6, feature_dim=4, num_classes=3, lr=5.0)
    head_before = classifier.classification_head.weight.detach().clone()
    generator = torch.Generator().manual_seed(0)
    empty = ([], torch.zeros(0, dtype=torch.long), [])
    loader = _image_batches(3, generator=generator, extra=[empty])
    trainer = _trainer(max_epochs=2)
    trainer.fit(classifier, loader, _image_batches(2, generator=generator))
    for key, value in backbone.state_dict().items():
        torch.testing.assert_close(value, before[key], rtol=0, atol=0, msg=key)
    assert not backbone.training and classifier.training
    classifier.train()
    assert not backbone.training and classifier.classification_head.training
    assert not torch.equal(classifier.classification_head.weight, head_before)
    for key in ("train_loss", "train_top1", "train_top5", "val_loss", "val_top1", "val_top5"):
        assert key in trainer.callback_metrics, key
    optimizer = trainer.optimizers[0]
    group = optimizer.param_groups[0]
    assert group["initial_lr"] == pytest.approx(5.0 * 6 / 256)
    assert group["momentum"] == 0.9 and group["weight_decay"] == 0.0
    assert sum(p.numel() for p in group["params"]) == 4 * 3 + 3
    # Cosine decay over the 6 steps (3 non-empty batches x 2 epochs) ends at 0.
    assert group["lr"] == pytest.approx(0.0, abs=1e-12)


def test_unfrozen_model_is_fine_tuned():
    backbone = _bn_backbone()
    conv_before = backbone[0].weight.detach().clone()
    classifier = LinearClassifier(backbone, 6, feature_dim=4, num_classes=3, freeze_model=False)
    _trainer(max_epochs=1).fit(classifier, _image_batches(2))
    assert backbone.training
    assert not torch.equal(backbone[0].weight, conv_before)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"model": "resnet"}, TypeError, "model must be a torch.nn.Module"),
        ({"batch_size_per_device": 0}, ValueError, "batch_size_per_device must be"),
        ({"feature_dim": 2.5}, ValueError, "feature_dim must be a positive int, got 2.5"),
        ({"num_classes": 0}, ValueError, "num_classes must be"),
        ({"topk": ()}, ValueError, "topk must name at least one k"),
        ({"topk": (1, 0)}, ValueError, "every k in topk must be a positive int, got 0"),
        ({"lr": -0.1}, ValueError, "lr must be > 0, got -0.1"),
    ],
)
def test_linear_classifier_errors(kwargs, error, message):
    args = {"model": nn.Identity(), "batch_size_per_device": 4}
    args.update(kwargs)
    with pytest.raises(error, match=message):
        LinearClassifier(**args)


class _IdentityBenchmark(BenchmarkModule):
    def __init__(self, dataloader_kNN, num_classes, **kwargs):
        super().__init__(dataloader_kNN, num_classes, **kwargs)
        self.backbone = nn.Flatten()
        self.weight = nn.Parameter(torch.zeros(1))

    def training_step(self, batch, batch_idx):
        return (self.weight**2).sum() + 0 * self.weight

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.0)


_BANK = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
_BANK_LABELS = torch.tensor([0, 0, 1, 1])
_QUERIES = torch.tensor([[1.0, 0.05], [0.05, 1.0], [0.8, 0.2]])


def test_benchmark_module_hand_checkable_accuracy():
    bank_loader = [
        (_BANK[:2], _BANK_LABELS[:2], ["a", "b"]),
        (_BANK[2:], _BANK_LABELS[2:], ["c", "d"]),
    ]
    model = _IdentityBenchmark(bank_loader, num_classes=2, knn_k=2)
    empty = ([], torch.zeros(0, dtype=torch.long), [])
    # Nearest neighbours predict classes 0, 1, 0: the third query (target 1) is wrong.
    val_loader = [([_QUERIES[:2]], torch.tensor([0, 1]), ["q0", "q1"]), empty]
    val_loader.append(([_QUERIES[2:]], torch.tensor([1]), ["q2"]))
    trainer = _trainer()
    (metrics,) = trainer.validate(model, _Batches(val_loader), verbose=False)
    assert metrics["kNN_accuracy"] == pytest.approx(100 * 2 / 3)
    assert model.max_accuracy == pytest.approx(2 / 3)
    worse = [([_QUERIES], torch.tensor([1, 0, 0]), ["q0", "q1", "q2"])]
    (metrics,) = trainer.validate(model, _Batches(worse), verbose=False)
    assert metrics["kNN_accuracy"] == pytest.approx(100 / 3)
    assert model.max_accuracy == pytest.approx(2 / 3)


def test_benchmark_module_matches_numpy_reference_over_batches():
    generator = torch.Generator().manual_seed(7)
    bank = torch.randn(40, 5, generator=generator, dtype=torch.float64)
    bank_labels = torch.randint(0, 4, (40,), generator=generator)
    queries = torch.randn(25, 5, generator=generator, dtype=torch.float64)
    targets = torch.randint(0, 4, (25,), generator=generator)
    bank_loader = [(bank[i : i + 16], bank_labels[i : i + 16], []) for i in range(0, 40, 16)]
    val_loader = [(queries[i : i + 8], targets[i : i + 8], []) for i in range(0, 25, 8)]
    model = _IdentityBenchmark(bank_loader, num_classes=4, knn_k=7, knn_t=0.5).double()
    (metrics,) = _trainer().validate(model, _Batches(val_loader), verbose=False)
    predictions = _numpy_knn_top1(queries.numpy(), bank.numpy(), bank_labels.numpy(), 4, 7, 0.5)
    expected = float(np.mean(predictions == targets.numpy()))
    assert 0 < expected < 1
    assert metrics["kNN_accuracy"] == pytest.approx(100 * expected)
    assert model.max_accuracy == pytest.approx(expected)


def test_sanity_check_does_not_count_towards_max_accuracy():
    bank_loader = [(_BANK, _BANK_LABELS, ["a", "b", "c", "d"])]
    model = _IdentityBenchmark(bank_loader, num_classes=2, knn_k=2)
    seen = {}

    class Record(L.Callback):
        def on_sanity_check_end(self, trainer, pl_module):
            seen["after_sanity_check"] = pl_module.max_accuracy

    val_loader = [([_QUERIES], torch.tensor([0, 1, 1]), ["q0", "q1", "q2"])]
    train_loader = [(torch.zeros(1, 2), torch.zeros(1, dtype=torch.long), ["x"])]
    trainer = _trainer(max_epochs=1, num_sanity_val_steps=1, callbacks=[Record()])
    trainer.fit(model, _Batches(train_loader), _Batches(val_loader))
    assert seen == {"after_sanity_check": 0.0}
    assert model.max_accuracy == pytest.approx(2 / 3)


def test_benchmark_module_without_backbone_is_an_error():
    model = BenchmarkModule([(_BANK, _BANK_LABELS, [])], num_classes=2)
    with pytest.raises(RuntimeError, match="must set self.backbone"):
        _trainer().validate(
            model, _Batches([(_QUERIES, torch.tensor([0, 1, 1]), [])]), verbose=False
        )


def test_empty_knn_bank_is_an_error():
    empty = ([], torch.zeros(0, dtype=torch.long), [])
    model = _IdentityBenchmark([empty], num_classes=2)
    with pytest.raises(ValueError, match="dataloader_kNN yielded no images"):
        _trainer().validate(
            model, _Batches([(_QUERIES, torch.tensor([0, 1, 1]), [])]), verbose=False
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_classes": 0}, "num_classes must be a positive int, got 0"),
        ({"knn_k": -1}, "knn_k must be a positive int, got -1"),
        ({"knn_t": 0.0}, "knn_t must be > 0, got 0.0"),
        ({"knn_t": math.nan}, "knn_t must be > 0, got nan"),
    ],
)
def test_benchmark_module_errors(kwargs, message):
    args = {"dataloader_kNN": [], "num_classes": 2}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        BenchmarkModule(**args)


def test_knn_accuracy_uses_normalised_features():
    # Scaling a feature vector must not change its neighbours (cosine similarity).
    bank_loader = [(_BANK * torch.tensor([[10.0], [1.0], [0.1], [5.0]]), _BANK_LABELS, [])]
    model = _IdentityBenchmark(bank_loader, num_classes=2, knn_k=1)
    val_loader = [(_QUERIES * 100.0, torch.tensor([0, 1, 0]), [])]
    (metrics,) = _trainer().validate(model, _Batches(val_loader), verbose=False)
    assert metrics["kNN_accuracy"] == pytest.approx(100.0)
    ranking = knn_predict(
        F.normalize(_QUERIES, dim=1), F.normalize(_BANK, dim=1).T, _BANK_LABELS, 2, 1
    )
    assert ranking[:, 0].tolist() == [0, 1, 0]
