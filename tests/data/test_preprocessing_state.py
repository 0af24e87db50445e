"""A preprocessor rebuilt from a saved state checks that state itself: a damaged or forged
entry raises PreprocessingStateError naming it, never a KeyError, TypeError or NumPy error
from deep inside, and a state that passes the checks can be used."""

import random

import numpy as np
import pytest

from chainrule.data.preprocessing import (
    ImagePreprocessor,
    PreprocessingStateError,
    SeriesPreprocessor,
    TablePreprocessor,
)

from .test_preprocessing import table

DATA = table({"x": ["1", None, "5", "2"], "c": ["a", "b", None, "a"],
              "k": [f"level{i}" for i in range(4)], "y": ["u", "v", "u", "v"]})
IMAGES = np.arange(2 * 3 * 4 * 4, dtype=np.uint8).reshape(2, 3, 4, 4)
VALUES = np.linspace(0.0, 5.0, 20)
COVARIATES = np.stack([np.sin(VALUES), np.cos(VALUES)], axis=1)
DATED = table({"day": [f"2021-01-{d:02d}" for d in range(1, 25)],
               "code": [str(k % 4) for k in range(24)], "n": [f"x{k}" if k == 5 else str(k / 3)
                                                             for k in range(24)],
               "y": ["u", "v"] * 12})


def fitted():
    """One fitted preprocessor of each kind, with what exercises it."""
    table_pre = TablePreprocessor.fit(DATA, "y", [0, 1, 2, 3], "classification")
    table_pre.columns[-1]["kind"] = "embedded"  # one embedded column (it comes last)
    return {
        "table": (TablePreprocessor, table_pre.state_dict(),
                  lambda pre: (pre.transform(DATA), pre.describe(), pre.embedded_levels)),
        "regression table": (TablePreprocessor,
                             TablePreprocessor.fit(DATA, "x", [0, 2, 3], "regression",
                                                   features=["c"]).state_dict(),
                             lambda pre: pre.values(pre.targets(DATA)[0])),
        "images": (ImagePreprocessor, ImagePreprocessor.fit(IMAGES, ["a", "b"]).state_dict(),
                   lambda pre: pre.transform(np.zeros((1, *pre.input_shape), np.uint8))),
        "series": (SeriesPreprocessor, SeriesPreprocessor.fit(VALUES, 16, 3, 2).state_dict(),
                   lambda pre: pre.input_names),
        "series with features": (
            SeriesPreprocessor, SeriesPreprocessor.fit(VALUES, 16, 3, 2, target="y",
                                                       features=["sin", "cos"],
                                                       covariates=COVARIATES).state_dict(),
            lambda pre: pre.inputs(VALUES, np.array([5]), COVARIATES[:, :len(pre.features)])),
        "dated table": (TablePreprocessor,
                        TablePreprocessor.fit(DATED, "y", range(20), "classification",
                                              categorical=["code"], numeric=["n"]).state_dict(),
                        lambda pre: (pre.transform(DATED), pre.describe())),
    }


# (kind, change to the saved state, words the error must contain)
BAD = [
    ("table", lambda s: s.pop("columns"), "lacks the entries 'columns'"),
    ("table", lambda s: s.update(task="clustering"), "'task' = 'clustering'"),
    ("table", lambda s: s.update(columns=[]), "has no input columns"),
    ("table", lambda s: s["columns"][0].update(std=0.0), "column 1 has 'std' = 0.0"),
    ("table", lambda s: s["columns"][0].update(mean=float("nan")), "'mean' = nan"),
    ("table", lambda s: s["columns"][1].update(kind="pixel"), "column 2 has 'kind' = 'pixel'"),
    ("table", lambda s: s["columns"][1].update(categories=[1, 2]), "'categories' = [1, 2]"),
    ("table", lambda s: s["columns"].append(dict(s["columns"][0])), "names a column twice"),
    ("table", lambda s: s["columns"].reverse(), "embedded columns before others"),
    ("table", lambda s: s.update(classes="uv"), "'classes' = 'uv'"),
    ("table", lambda s: s.update(extra=1), "unknown entries 'extra'"),
    ("regression table", lambda s: s.update(target_std=-1.0), "'target_std' = -1.0"),
    ("images", lambda s: s.update(size=[4]), "'size' = [4]"),
    ("images", lambda s: s.update(channels=2), "'channels' = 2"),
    ("images", lambda s: s.update(mean=np.zeros(5)), "'mean' = ndarray of shape (5,)"),
    ("images", lambda s: s.update(mean="0.5"), "'mean' = str"),
    ("images", lambda s: s.update(scale=-s["scale"]), "'scale' that is not positive"),
    ("images", lambda s: s.update(classes=[]), "'classes' = []"),
    ("series", lambda s: s.update(window=0), "'window' = 0"),
    ("series", lambda s: s.update(horizon=True), "'horizon' = True"),
    ("series", lambda s: s.update(scale=float("inf")), "'scale' = inf"),
    ("series", lambda s: s.update(season=1), "'season' = 1"),
    ("series", lambda s: s.pop("window"), "lacks the entries 'window'"),
    ("series with features", lambda s: s.update(feature_std=[1.0, -1.0]),
     "'feature_std' that is not positive"),
    ("series with features", lambda s: s.update(feature_mean=[0.0]),
     "'feature_mean' = list of shape (1,)"),
    ("series with features", lambda s: s.update(features="sin"), "'features' = 'sin'"),
    ("dated table", lambda s: s["columns"][0].update(kind="time"), "'kind' = 'time'"),
    ("dated table", lambda s: s["columns"][1].update(numbers="yes"), "'numbers' = 'yes'"),
    ("dated table", lambda s: s.update(read_as={"numeric": [3]}), "'numeric' = [3]"),
    ("dated table", lambda s: s["report"].update(unusable={"n": -1}), "unusable values"),
]


@pytest.mark.parametrize("index", range(len(BAD)))
def test_each_kind_of_bad_state_is_named(index):
    kind, change, words = BAD[index]
    cls, state, _ = fitted()[kind]
    change(state)
    with pytest.raises(PreprocessingStateError, match="the saved .* preprocessing") as caught:
        cls.from_state(state)
    assert words in str(caught.value)


def test_valid_states_are_rebuilt_and_usable():
    for cls, state, use in fitted().values():
        use(cls.from_state(state))


def random_value(rng):
    return rng.choice([None, True, 0, -1, 2, 10 ** 12, 0.5, -2.0, float("nan"), float("inf"),
                       "", "a", [], ["a", "a"], [1, "x"], {}, {"a": 1}, np.zeros(3),
                       np.array(["x"]), (1, 2)])


def mutated(node, rng):
    """A copy of ``node`` with one entry somewhere inside replaced, removed or added."""
    if isinstance(node, dict) and node and rng.random() < 0.8:
        copy, key = dict(node), rng.choice(list(node))
        roll = rng.random()
        if roll < 0.1:
            del copy[key]
        elif roll < 0.15:
            copy[rng.choice(["extra", 0])] = random_value(rng)
        else:
            copy[key] = mutated(node[key], rng)
        return copy
    if isinstance(node, list) and node and rng.random() < 0.8:
        copy, index = list(node), rng.randrange(len(node))
        copy[index] = mutated(node[index], rng)
        return copy
    return random_value(rng)


@pytest.mark.parametrize("kind", ["table", "regression table", "images", "series",
                                  "series with features", "dated table"])
def test_random_damage_is_refused_by_name_or_harmless(kind):
    cls, state, use = fitted()[kind]
    rng = random.Random(kind)
    refused = 0
    for _ in range(150):
        damaged = mutated(state, rng)
        try:
            pre = cls.from_state(damaged)
        except PreprocessingStateError:
            refused += 1
            continue
        use(pre)  # what passed the checks works
    assert refused > 50
