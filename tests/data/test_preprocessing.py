"""Preprocessing fitted on training rows only, saved and restored exactly, with input names
that lead back to the table's columns."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.data.preprocessing import (
    ImagePreprocessor,
    SeriesPreprocessor,
    TablePreprocessor,
    infer_task,
)
from chainrule.data.preprocessing.table import looks_like_identifier
from chainrule.data.readers.table import Table


def table(columns, labels=None):
    names = list(columns)
    count = len(next(iter(columns.values())))
    return Table("t.csv", names, [columns[n] for n in names],
                 labels or [f"line {i + 2}" for i in range(count)], by_column=True)


def test_statistics_come_from_the_training_rows_only():
    data = table({"x": ["1", "3", None, "100"], "c": ["a", "b", "a", "z"],
                  "y": ["p", "q", "p", "q"]})
    pre = TablePreprocessor.fit(data, "y", [0, 1, 2], "classification")
    x, notes = pre.transform(data)
    # x: median of training values (1, 3) = 2 fills row 2; mean/std over 1, 3, 2
    mean, std = 2.0, np.std([1.0, 3.0, 2.0])
    np.testing.assert_allclose(x[:, 0], (np.array([1, 3, 2, 100]) - mean) / std, rtol=1e-6)
    np.testing.assert_array_equal(x[:, 1], [0, 0, 1, 0])  # the missing indicator
    np.testing.assert_array_equal(x[:, 2:], [[1, 0], [0, 1], [1, 0], [0, 0]])  # 'z' unseen
    assert pre.input_names == ["x", "x (missing)", "c=a", "c=b"]
    assert pre.input_columns == ["x", "x", "c", "c"]
    assert any("'c' are categories not seen" in n for n in notes)
    assert pre.report["missing"]["x"][0] == 1
    labels, present = pre.targets(data)
    assert pre.classes == ["p", "q"] and labels.tolist() == [0, 1, 0, 1] and present.all()


def test_many_categories_are_embedded_as_codes_after_the_other_inputs():
    levels = [f"k{i}" for i in range(30)]
    data = table({"city": levels * 2, "x": [str(i) for i in range(60)],
                  "y": ["0", "1"] * 30})
    pre = TablePreprocessor.fit(data, "y", list(range(60)), "classification",
                                features=["city", "x"])
    x, _ = pre.transform(data)
    assert pre.input_names == ["x", "city (code)"] and pre.num_numeric_inputs == 1
    assert pre.embedded_levels == [31]
    assert x[:, 1].tolist() == [sorted(levels).index(v) + 1 for v in levels * 2]


def test_identifiers_are_left_out_unless_asked_for():
    count = 30
    data = table({"customer_id": [str(1000 + 7 * i) for i in range(count)],
                  "row": [str(i) for i in range(count)],
                  "x": [str(i * 0.37 % 5) for i in range(count)],
                  "y": ["a", "b", "c"] * 10})
    assert looks_like_identifier(data, "customer_id") and looks_like_identifier(data, "row")
    assert not looks_like_identifier(data, "x")
    pre = TablePreprocessor.fit(data, "y", list(range(count)), "classification")
    assert [c["name"] for c in pre.columns] == ["x"]
    assert pre.report["identifiers"] == ["customer_id", "row"]
    assert any("looks like an identifier" in line for line in pre.describe())
    kept = TablePreprocessor.fit(data, "y", list(range(count)), "classification",
                                 features=["row", "x"])
    assert [c["name"] for c in kept.columns] == ["row", "x"]


def test_task_is_inferred_from_the_target():
    assert infer_task(table({"y": ["a", "b"]}), "y")[0] == "classification"
    assert infer_task(table({"y": ["0", "1", "1.0"]}), "y")[0] == "classification"
    assert infer_task(table({"y": ["0.5", "1.25"]}), "y")[0] == "regression"
    assert infer_task(table({"y": [str(i) for i in range(50)]}), "y")[0] == "regression"


def test_regression_targets_are_standardised_and_mapped_back():
    data = table({"x": ["1", "2", "3", "4"], "y": ["10", "20", "30", None]})
    pre = TablePreprocessor.fit(data, "y", [0, 1, 2], "regression")
    values, present = pre.targets(data)
    assert present.tolist() == [True, True, True, False]
    np.testing.assert_allclose(pre.values(values[:3]), [10, 20, 30], rtol=1e-6)


def test_state_survives_save_and_load(tmp_path):
    data = table({"x": ["1", None, "5"], "c": ["a", "b", None], "y": ["u", "v", "u"]})
    pre = TablePreprocessor.fit(data, "y", [0, 1, 2], "classification")
    cr.save({"pre": pre.state_dict()}, tmp_path / "p.safetensors")
    back = TablePreprocessor.from_state(cr.load(tmp_path / "p.safetensors")["pre"])
    np.testing.assert_array_equal(back.transform(data)[0], pre.transform(data)[0])
    assert back.describe() == pre.describe()


def test_prediction_input_without_a_training_column_is_refused():
    data = table({"x": ["1", "2"], "z": ["3", "4"], "y": ["a", "b"]})
    pre = TablePreprocessor.fit(data, "y", [0, 1], "classification")
    with pytest.raises(ValueError, match="lacks 1 of the 2 columns the model was trained on: 'z'"):
        pre.transform(table({"x": ["1"]}))
    with pytest.raises(ValueError, match="holds text, but the model was trained on numbers"):
        pre.transform(table({"x": ["one"], "z": ["2"]}))


def test_image_statistics_per_channel_and_back():
    images = np.zeros((2, 3, 4, 4), np.uint8)
    images[1, 0] = 255
    pre = ImagePreprocessor.fit(images, ["a", "b"])
    np.testing.assert_allclose(pre.mean.ravel(), [0.5, 0, 0])
    np.testing.assert_allclose(pre.scale.ravel(), [0.6, 0.1, 0.1], rtol=1e-6)
    back = ImagePreprocessor.from_state(pre.state_dict())
    np.testing.assert_array_equal(back.transform(images), pre.transform(images))
    assert back.input_shape == (3, 4, 4)


def test_series_windows_are_relative_to_the_last_value():
    values = np.array([1.0, 2.0, 4.0, 7.0, 11.0])
    pre = SeriesPreprocessor.fit(values, 5, window=3, horizon=2)
    assert pre.scale == pytest.approx(np.std([1, 2, 3, 4]))
    x, y = pre.windows(values, np.array([2]))
    np.testing.assert_allclose(x * pre.scale, [[-3, -2, 0]], rtol=1e-6)
    np.testing.assert_allclose(y * pre.scale, [[3, 7]], rtol=1e-6)
    np.testing.assert_allclose(pre.forecast(values, np.array([2]), y), [[7, 11]], rtol=1e-6)
    assert pre.input_names == ["t-2", "t-1", "t"]
