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
    (["t,y", "2001-01-01,2", "yesterday,3"], "line 3 has 'yesterday' in 't'"),
    (["t,y", "2001-01-01,2", "02/01/2001,3"], "the times in 't' are written in more than one"),
    (["t,y", "1,a", "2,b"], "the target column 'y' holds text"),
    (["t,y", "1,", "2,"], "the series has no values"),
    (["t,y", ",2", ",3"], "the time column 't' has no values"),
])
def test_bad_series_are_errors_naming_the_row(tmp_path, lines, message):
    with pytest.raises(ValueError, match=message):
        read_series(write(tmp_path, lines), "y", "t")


def test_rows_sharing_a_time_are_averaged_and_rows_without_one_left_out(tmp_path):
    path = write(tmp_path, ["t,y", "1,2", "2,4", "2,6", ",9", "3,7"])
    series = read_series(path, "y", "t")
    np.testing.assert_allclose(series.values, [2, 5, 7])
    assert "1 rows without a 't' were left out (first: line 5)" in series.notes
    assert any("1 rows share their 't' with an earlier row (first: line 3 and line 4)" in n
               for n in series.notes)


def test_irregular_times_are_placed_at_the_nearest_step_of_the_usual_gap(tmp_path):
    # hourly readings, a few minutes late or early, one hour missing, two in one hour
    times = ["2021-03-01 00:00", "2021-03-01 01:02", "2021-03-01 01:59", "2021-03-01 04:01",
             "2021-03-01 04:58", "2021-03-01 05:20"]
    lines = ["when,y"] + [f"{t},{v}" for t, v in zip(times, [0, 1, 2, 4, 5, 6])]
    series = read_series(write(tmp_path, lines), "y", "when")
    assert (series.step, series.unit, series.season()) == (1.0, "hours", 24)
    np.testing.assert_allclose(series.values, [0, 1, 2, 3, 4, 5.5])
    assert series.observed.tolist() == [True, True, True, False, True, True]
    assert series.time_label(3) == "2021-03-01 03:00:00"
    assert any("rows were not on the regular grid of 1 hours" in n for n in series.notes)
    assert any("fell on the same step as another" in n for n in series.notes)


@pytest.mark.parametrize("times, step, unit, label", [
    (["2021-03-28T00:00+01:00", "2021-03-28T01:00+01:00", "2021-03-28T03:00+02:00"], 1,
     "hours", "2021-03-28 01:00:00"),  # a daylight-saving change: still hourly in UTC
    (["05/01/2020", "06/01/2020", "07/01/2020"], 1, "months", "2020-07"),  # month first
    (["13.01.2020", "14.01.2020", "15.01.2020"], 1, "days", "2020-01-15"),
    (["2019Q4", "2020Q1", "2020Q2"], 3, "months", "2020-04"),
    (["Jan 2020", "Feb 2020", "Mar 2020"], 1, "months", "2020-03"),
    (["2020/01/01 10:00", "2020/01/01 10:15", "2020/01/01 10:30"], 15, "minutes",
     "2020-01-01 10:30:00"),
])
def test_times_written_in_the_usual_layouts(tmp_path, times, step, unit, label):
    lines = ["t,y"] + [f'"{t}",{i}' for i, t in enumerate(times)]
    series = read_series(write(tmp_path, lines), "y", "t")
    assert (series.step, series.unit) == (step, unit)
    assert series.time_label(len(series) - 1) == label and len(series) == 3


def test_other_numeric_columns_are_read_beside_the_target_by_default(tmp_path):
    lines = ["row,t,y,temp,city,flat,rain", "1,1,5,20,a,3,", "2,2,6,,b,3,1", "3,3,,22,c,3,2",
             "4,4,8,23,d,3,4"]
    series = read_series(write(tmp_path, lines), "y", "t")
    assert series.covariate_names == ["temp", "rain"]
    np.testing.assert_allclose(series.covariates, [[20, 1], [21, 1], [22, 2], [23, 4]])
    assert series.observed.tolist() == [True, True, False, True]
    assert "left out (not numeric, constant or counting rows): 'row', 'city', 'flat'" in \
        series.notes
    chosen = read_series(write(tmp_path, lines), "y", "t", features=["rain"])
    assert chosen.covariate_names == ["rain"]
    assert read_series(write(tmp_path, lines), "y", "t", drop=["temp"]).covariate_names == \
        ["rain"]
    assert read_series(write(tmp_path, lines), "y", "t", features=[]).covariates.shape == (4, 0)
    with pytest.raises(ValueError, match="column 'city' holds text; the columns a series model"):
        read_series(write(tmp_path, lines), "y", "t", features=["city"])


def test_a_column_named_like_a_time_left_to_file_order_is_pointed_out(tmp_path):
    # the weekly CO2 file's layout: without --time its 'date' numbers are read as an input
    lines = ["date,co2", "19580329,316.1", "19580405,317.3", "19580412,317.6", "19580426,317.5"]
    series = read_series(write(tmp_path, lines), "co2")
    assert series.covariate_names == ["date"]
    assert "'date' looks like the series' time: --time date orders the rows by it (and the " \
        "model stops reading it as an input)" in series.notes
    timed = read_series(write(tmp_path, lines), "co2", "date")
    assert timed.covariate_names == [] and not any("looks like" in n for n in timed.notes)
    other = ["updates,y", "1,2", "3,4", "2,5", "7,6"]  # a word that merely holds "date"
    assert not any("looks like" in n for n in read_series(write(tmp_path, other), "y").notes)
