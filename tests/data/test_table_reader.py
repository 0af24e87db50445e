"""Reading CSV and Parquet tables: robust to the ways real files differ, and every problem an
error naming the file, line or column."""

import gzip
import sys

import numpy as np
import pytest

from chainrule.data.readers.table import Table, read_table


def write(tmp_path, text, name="t.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def test_quotes_bom_blank_lines_and_missing_tokens(tmp_path):
    path = write(tmp_path, '\ufeffname,"size, cm",colour\n\n"Smith, J.",1.5,red\n'
                           '"O""Neil",NA,\n\nLee, 3 ,"blue"\n', encoding="utf-8")
    table = read_table(path)
    assert table.names == ["name", "size, cm", "colour"]
    assert len(table) == 3
    assert table.text("name") == ["Smith, J.", 'O"Neil', "Lee"]
    np.testing.assert_array_equal(table.numeric("size, cm"), [1.5, np.nan, 3.0])
    assert table.kind("colour") == "text" and table.text("colour") == ["red", None, "blue"]
    assert [table.where(i) for i in range(3)] == ["line 3", "line 4", "line 6"]


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_other_delimiters_are_found(tmp_path, delimiter):
    rows = ["a", "b", "c"], ["1,5", "2", "x"], ["3", "4", "y"]
    path = write(tmp_path, "\n".join(delimiter.join(r) for r in rows) + "\n")
    table = read_table(path)
    assert table.names == ["a", "b", "c"] and table.text("a") == ["1,5", "3"]


def test_gzip_and_one_column_and_trailing_delimiter(tmp_path):
    path = write(tmp_path, gzip.compress(b"value,\n1,\n2,\n"), name="t.csv.gz")
    table = read_table(path)
    assert table.names == ["value", "column_2"]
    np.testing.assert_array_equal(table.numeric("value"), [1, 2])
    assert read_table(write(tmp_path, "v\n1\n2\n")).names == ["v"]


@pytest.mark.parametrize("text, message", [
    ("", "is empty"),
    ("\n\n  \n", "is empty"),
    ("a,b\n", "has a header line but no data rows"),
    ("a,b\n1,2\n3,4,5\n", "line 3 has 3 fields but the header has 2"),
    ("a,a\n1,2\n", "names column 'a' twice"),
    ("a,b\n1,2\n3," + "x" * 200_000 + "\n", "line 3: field larger than field limit"),
])
def test_broken_files_are_errors_naming_the_line(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        read_table(write(tmp_path, text))


def test_text_that_is_not_utf8_names_the_line(tmp_path):
    path = write(tmp_path, b"a,b\n1,caf\xe9\n")
    with pytest.raises(ValueError, match="line 2 is not UTF-8"):
        read_table(path)


def test_a_mixed_column_names_a_row_of_each_kind(tmp_path):
    table = read_table(write(tmp_path, "x,y\n1,a\n2,b\nabc,c\n4,d\n"))
    with pytest.raises(ValueError, match=r"column 'x' mixes numbers and text \(3 numbers, 1 text"
                                         r" values\): line 2 has '1' but line 4 has 'abc'"):
        table.kind("x")
    assert table.kind("y") == "text"  # other columns are still usable


def test_unknown_column_lists_the_columns(tmp_path):
    table = read_table(write(tmp_path, "x,y\n1,2\n"))
    with pytest.raises(ValueError, match="has no column 'z'; its columns are: 'x', 'y'"):
        table.cells("z")


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(ValueError, match="is a directory"):
        read_table(tmp_path)


def test_take_keeps_row_labels(tmp_path):
    table = read_table(write(tmp_path, "x\n1\n2\n3\n"))
    part = table.take([2, 0])
    assert part.numeric("x").tolist() == [3.0, 1.0] and part.where(0) == "line 4"
    assert isinstance(part, Table)


def test_parquet_reads_like_csv(tmp_path):
    pyarrow = pytest.importorskip("pyarrow")
    import pyarrow.parquet as parquet

    data = pyarrow.table({"x": [1.5, None, 3.0], "c": ["a", "b", None], "flag": [True, False,
                                                                               True]})
    parquet.write_table(data, tmp_path / "t.parquet")
    table = read_table(tmp_path / "t.parquet")
    np.testing.assert_array_equal(table.numeric("x"), [1.5, np.nan, 3.0])
    assert table.text("c") == ["a", "b", None] and table.kind("flag") == "text"
    assert table.where(1) == "row 2"
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(ValueError, match="not a readable Parquet file"):
        read_table(tmp_path / "bad.parquet")


def test_parquet_without_pyarrow_says_which_extra(tmp_path, monkeypatch):
    (tmp_path / "t.parquet").write_bytes(b"PAR1....PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(ImportError, match=r"pip install 'chainrule\[parquet\]'"):
        read_table(tmp_path / "t.parquet")
