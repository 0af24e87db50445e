"""Series from tables: time order, a regular grid with gaps, filled values remembered."""

import numpy as np
import pytest

from chainrule.data.readers.series import read_series


def write(tmp_path, lines):
    path = tmp_path / "s.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_weekly_dates_with_a_skipped_week_and_an_empty_value(tmp_path):
    path = write(tmp_path, ["date,y", "20010101,1", "20010108,", "20010115,3",
                            "20010129,7", "20010205,9"])
    series = read_series(path, "y", "date")
    assert (series.step, series.unit, series.season()) == (7.0, "days", 52)
    np.testing.assert_allclose(series.values, [1, 2, 3, 5, 7, 9])
    assert series.observed.tolist() == [True, False, True, False, True, True]
    assert series.time_label(3) == "2001-01-22" and series.time_label(6) == "2001-02-12"
    assert any("1 time steps absent" in n for n in series.notes)


def test_rows_out_of_order_are_sorted_and_iso_months_work(tmp_path):
    path = write(tmp_path, ["m,y", "2001-03,3", "2001-01,1", "2001-02,2", "2001-05,5"])
    series = read_series(path, "y", "m")
    np.testing.assert_allclose(series.values, [1, 2, 3, 4, 5])
    assert series.unit == "months" and series.season() == 12
    assert series.time_label(5) == "2001-06"
    assert "rows were sorted by 'm'" in series.notes


def test_plain_number_times_and_file_order(tmp_path):
    path = write(tmp_path, ["t,y", "0,1", "0.5,2", "1.5,4"])
    series = read_series(path, "y", "t")
    np.testing.assert_allclose(series.values, [1, 2, 3, 4])
    assert read_series(path, "y").values.tolist() == [1, 2, 4]


@pytest.mark.parametrize("lines, message", [
    (["t,y", "1,2", "1,3"], "line 2 and line 3 have the same 't'"),
    (["t,y", "2001-01-01,2", "yesterday,3"], "line 3 has 'yesterday' in 't'"),
    (["t,y", "1,a", "2,b"], "the target column 'y' holds text"),
    (["t,y", "1,", "2,"], "the series has no values"),
    (["t,y", "1,2", ",3"], "line 3 has no 't'"),
])
def test_bad_series_are_errors_naming_the_row(tmp_path, lines, message):
    with pytest.raises(ValueError, match=message):
        read_series(write(tmp_path, lines), "y", "t")
