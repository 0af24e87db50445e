"""Groups of near-duplicate columns (explain.correlated_groups), checked on columns built with a
known correlation, and the grouped ranking they give."""

import numpy as np
import pytest

from chainrule import explain


def columns_with(correlation, rows=2000, seed=0):
    """Two columns whose correlation is ``correlation`` (up to sampling), and their names."""
    rng = np.random.default_rng(seed)
    a, noise = rng.normal(size=rows), rng.normal(size=rows)
    b = correlation * a + np.sqrt(1 - correlation ** 2) * noise
    return np.column_stack([a, b]), ["a", "b"]


def test_exact_copies_scaled_or_negated_are_one_group():
    rng = np.random.default_rng(1)
    radius, texture = rng.normal(size=50), rng.normal(size=50)
    values = np.column_stack([radius, texture, 2 * np.pi * radius + 7, -radius])
    groups = explain.correlated_groups(values, ["radius", "texture", "perimeter", "minus"])
    assert groups == ["radius / perimeter / minus", "texture", "radius / perimeter / minus",
                      "radius / perimeter / minus"]


@pytest.mark.parametrize("correlation, joined", [(0.97, True), (0.93, True), (0.85, False),
                                                 (0.0, False)])
def test_the_threshold_is_on_the_absolute_correlation(correlation, joined):
    values, names = columns_with(correlation)
    measured = abs(np.corrcoef(values, rowvar=False)[0, 1])
    assert (measured >= explain.summaries.NEAR_DUPLICATE) == joined  # the data are as meant
    assert (explain.correlated_groups(values, names) == ["a / b", "a / b"]) == joined
    assert explain.correlated_groups(-values * [1, -1], names) == explain.correlated_groups(
        values, names)


def test_chains_are_one_group_and_constant_columns_stay_alone():
    rng = np.random.default_rng(2)
    a = rng.normal(size=4000)
    b = a + 0.35 * rng.normal(size=4000)  # r(a, b) ~ 0.94
    c = b + 0.35 * rng.normal(size=4000)  # r(b, c) ~ 0.95, but r(a, c) ~ 0.89
    values = np.column_stack([a, np.full(4000, 3.0), c, b])
    assert abs(np.corrcoef(a, c)[0, 1]) < 0.9
    assert explain.correlated_groups(values, list("axcb")) == ["a / c / b", "x", "a / c / b",
                                                               "a / c / b"]
    assert explain.correlated_groups(values, list("axcb"), threshold=0.99) == list("axcb")


def test_too_few_rows_to_correlate_leave_every_column_alone():
    values = np.random.default_rng(4).normal(size=(25, 30))
    names = [f"c{k}" for k in range(30)]
    assert explain.correlated_groups(values, names) == names  # 25 rows: no chance groups
    assert explain.correlated_groups(values[:19], names) == names  # 19: not even tried
    copies = np.column_stack([values[:, 0], 3 * values[:, 0]])
    assert explain.correlated_groups(copies[:19], ["a", "b"]) == ["a", "b"]
    assert explain.correlated_groups(copies[:20], ["a", "b"]) == ["a / b", "a / b"]


def test_grouped_ranking_sums_the_members_attributions():
    values, _ = columns_with(0.99)
    values = np.column_stack([values, np.random.default_rng(3).normal(size=len(values))])
    groups = explain.correlated_groups(values, ["a", "b", "c"])
    attributions = np.array([[1.0, -3.0, 1.5], [2.0, 1.0, -0.5]])
    names, summed = explain.group_columns(attributions, groups)
    assert names == ["a / b", "c"] and summed.tolist() == [[-2.0, 1.5], [3.0, -0.5]]
    assert explain.global_ranking(summed, names) == [("a / b", 2.5), ("c", 1.0)]


@pytest.mark.parametrize("values, names, threshold, message", [
    (np.zeros((4, 3)), ["a", "b"], 0.9, "for 2 column names"),
    (np.zeros(4), ["a"], 0.9, "pass (samples, columns)"),
    (np.zeros((4, 2)), ["a", "b"], 0.0, "threshold must be in (0, 1]"),
])
def test_errors(values, names, threshold, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        explain.correlated_groups(values, names, threshold)
