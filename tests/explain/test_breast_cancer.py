"""On the breast-cancer table shipped with chainrule: the global ranking of integrated gradients
does not depend on which rows are sampled (top-5 overlap at least 4 of 5 across sample seeds);
across training seeds, the ranking of groups of near-duplicate columns keeps a top-5 overlap of
at least 4 of 5 (the per-column one does not: the seed decides which of radius, perimeter and
area a model leans on), models trained from other seeds agree; and the model-randomisation
check separates a trained model from a randomised one.

The models are the ``tabular`` preset's network, trained full-batch for a few seconds (the
command's 60-epoch runs are measured in docs/explain.md)."""

import numpy as np
import pytest

import chainrule as torch
from chainrule import explain
from chainrule.data.preprocessing import TablePreprocessor
from chainrule.data.readers.table import read_table
from chainrule.nn import functional as F
from chainrule.train.models import TabularNet
from chainrule.train.splits import split_rows

TABLE = "src/chainrule/data/files/breast_cancer.csv.gz"


@pytest.fixture(scope="module")
def data():
    from pathlib import Path

    table = read_table(Path(__file__).resolve().parents[2] / TABLE)
    labels = np.array([c == "malignant" for c in table.text("diagnosis")], dtype=np.int64)
    rows = split_rows(len(table), labels)
    pre = TablePreprocessor.fit(table, "diagnosis", rows["train"], "classification")
    inputs, _ = pre.transform(table)
    targets, _ = pre.targets(table)
    return pre, inputs, targets, rows


def trained(data, seed, steps=150):
    pre, inputs, targets, rows = data
    torch.manual_seed(seed)
    model = TabularNet(pre.num_numeric_inputs, pre.embedded_levels, 2, 64, 2, 0.1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    x, y = torch.from_numpy(inputs[rows["train"]]), torch.from_numpy(targets[rows["train"]])
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        test = model(torch.from_numpy(inputs[rows["test"]])).argmax(1).numpy()
    assert (test == targets[rows["test"]]).mean() > 0.94  # a model worth explaining
    return model


@pytest.fixture(scope="module")
def models(data):
    return trained(data, seed=0), trained(data, seed=1), trained(data, seed=2)


def attributions(model, data, rows, target):
    pre, inputs, _, _ = data
    found = explain.integrated_gradients(model, torch.from_numpy(inputs[rows]), target[rows])
    return explain.group_columns(found.numpy(), pre.input_columns)


def test_global_ranking_is_stable_across_sample_seeds(data, models):
    pre, inputs, _, _ = data
    with torch.no_grad():
        predicted = models[0](torch.from_numpy(inputs)).argmax(1).numpy()
    rankings = []
    for seed in range(3):
        rows = np.random.default_rng(seed).choice(len(inputs), 200, replace=False)
        names, grouped = attributions(models[0], data, rows, predicted)
        rankings.append(explain.global_ranking(grouped, names))
    overlaps = [explain.top_overlap(rankings[i], rankings[j], k=5)
                for i in range(3) for j in range(i + 1, 3)]
    assert min(overlaps) >= 4, (overlaps, [[n for n, _ in r[:5]] for r in rankings])


def test_ranking_of_near_duplicate_groups_is_stable_across_training_seeds(data, models):
    pre, inputs, _, rows = data
    # every input is a numeric column's value here (no categorical column, nothing missing)
    groups = explain.correlated_groups(inputs[rows["train"]], pre.input_names)
    assert "mean radius / mean perimeter / mean area / worst radius / worst perimeter / " \
           "worst area" in groups and "mean texture / worst texture" in groups
    x = torch.from_numpy(inputs)
    rankings = []
    for model in models:
        with torch.no_grad():
            predicted = model(x).argmax(1)
        _, per_column = attributions(model, data, np.arange(len(inputs)), predicted.numpy())
        names, per_group = explain.group_columns(per_column, groups)
        rankings.append(explain.global_ranking(per_group, names))
    overlaps = [explain.top_overlap(rankings[i], rankings[j], k=5)
                for i in range(3) for j in range(i + 1, 3)]
    assert min(overlaps) >= 4, (overlaps, [[n for n, _ in r[:5]] for r in rankings])


def test_randomisation_check_separates_trained_from_random(data, models):
    _, inputs, _, _ = data
    rows = np.arange(0, len(inputs), 3)
    x = torch.from_numpy(inputs[rows])
    with torch.no_grad():
        predicted = models[0](x).argmax(1)
    check = explain.model_randomisation(models[0], x, predicted)
    assert check.passed and check.values.mean() < 0.2, str(check)
    # the same figure between two trained models is high: the check measures learning
    trained_a = explain.integrated_gradients(models[0], x, predicted).numpy()
    trained_b = explain.integrated_gradients(models[1], x, predicted).numpy()
    agreement = np.nanmean(explain.mean_rank_correlation(trained_a, trained_b))
    assert agreement > 0.6 > 0.2 > check.values.mean(), (agreement, str(check))
    # and the two trained models rank the columns alike overall
    importance = [np.abs(a).mean(axis=0) for a in (trained_a, trained_b)]
    assert explain.rank_correlation(*importance) > 0.6
