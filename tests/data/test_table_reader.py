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
    ("a,b\n1,2\n3,4,5\n5,6\n7,8,9,0\n", r"2 line\(s\) have more fields than the header's 2: "
                                         r"line 3 \(3\), line 5 \(4\); check for an unquoted ','"),
    ("a,b\n1,2\n3," + "x" * 200_000 + "\n", "a field ending on line 3 is longer than "
                                            "131,072 characters, more than a cell should hold"),
    ("a,b\n1,2\n3,\"4\n5,6\n", r"line 3 opens a quote \(\"\) that is never closed"),
])
def test_broken_files_are_errors_naming_the_line(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        read_table(write(tmp_path, text))


def test_text_that_is_not_utf8_is_read_as_windows_1252_with_a_note_naming_the_line(tmp_path):
    table = read_table(write(tmp_path, "a,b\n1,café – crème\n", encoding="cp1252"))
    assert table.text("b") == ["café – crème"]
    assert table.notes == ["not UTF-8 (line 2 has byte 0xe9): read as Windows-1252; if accented "
                           "letters look wrong, save the file as UTF-8 (CSV UTF-8)"]
    latin = read_table(write(tmp_path, b"a,b\n1,\x81\xe9\n"))  # 0x81: no Windows-1252 letter
    assert latin.text("b") == ["\x81é"] and "read as Latin-1" in latin.notes[0]
    assert read_table(write(tmp_path, "a,b\n1,é\n", encoding="utf-16")).text("b") == ["é"]


def test_utf8_with_a_byte_order_mark_has_no_note(tmp_path):
    table = read_table(write(tmp_path, "\ufeffa,b\n1,é\n"))
    assert table.names == ["a", "b"] and table.notes == []


@pytest.mark.parametrize("data, what", [
    (b"PK\x03\x04rest", "an Excel .xlsx workbook is one"),
    (b"\x89PNG\r\n", "a PNG image"),
    (b"a,b\n1,\x00\x00\n", "binary data"),
])
def test_binary_files_are_not_read_as_text(tmp_path, data, what):
    with pytest.raises(ValueError, match=f"is not a text table: .*{what}"):
        read_table(write(tmp_path, data))


def test_a_mixed_column_names_the_column_row_value_and_the_flags(tmp_path):
    table = read_table(write(tmp_path, "x,y\n1,a\n2,b\nabc,c\n4,d\n"))
    with pytest.raises(ValueError) as error:
        table.kind("x")
    assert str(error.value).endswith(
        "t.csv: column 'x' mixes numbers and text: it mostly holds numbers, but line 4 has "
        "'abc', no number (1 of 4 values are like it). Correct those values, or say how to "
        "read the column: --numeric x (values that are not numbers count as missing), "
        "--categorical x (every value is a category), or --drop x")
    assert table.kind("y") == "text"  # other columns are still usable
    mostly_text = read_table(write(tmp_path, "size\nS\nM\n10\nL\n"))
    with pytest.raises(ValueError, match="mostly holds text, but line 4 has '10', a number"):
        mostly_text.kind("size")


def test_read_as_says_how_to_read_a_mixed_column(tmp_path):
    table = read_table(write(tmp_path, "x,y\n1,a\n2,b\nabc,c\n4,d\n"))
    table.read_as(numeric=["x"])
    np.testing.assert_array_equal(table.numeric("x"), [1, 2, np.nan, 4])
    assert table.unusable("x") == 1 and table.missing("x").tolist() == [0, 0, 1, 0]
    table.read_as(categorical=["x"])
    assert table.kind("x") == "text" and table.text("x") == ["1", "2", "abc", "4"]
    with pytest.raises(ValueError, match="has no column 'z'"):
        table.read_as(numeric=["z"])
    with pytest.raises(ValueError, match="both name 'x'; choose one"):
        table.read_as(numeric=["x"], categorical=["x"])


@pytest.mark.parametrize("text, values", [
    ('n,k\n"1,234.5",a\n"2,000",b\n7,c\n', [1234.5, 2000, 7]),  # thousands separators
    ("n;k\n3,5;a\n1.234,5;b\n7;c\n", [3.5, 1234.5, 7]),  # decimal commas
    ("n\tk\n3,5\ta\n-2\tb\n", [3.5, -2]),
    ("n,k\n1,a\ninf,b\n-,c\n#DIV/0!,d\n", [1, np.nan, np.nan, np.nan]),  # no finite value
])
def test_numbers_in_the_layouts_people_write_them(tmp_path, text, values):
    table = read_table(write(tmp_path, text))
    assert table.kind("n") == "numeric"
    np.testing.assert_array_equal(table.numeric("n"), values)


def test_repeated_and_blank_header_names_are_renamed_with_a_note(tmp_path):
    table = read_table(write(tmp_path, "a,a,,a\n1,2,3,4\n"))
    assert table.names == ["a", "a.1", "column_3", "a.2"]
    assert table.notes[0] == "the header names 'a' more than once: field 2 is read as 'a.1'"


def test_long_rows_can_be_left_out_with_a_note_naming_them(tmp_path):
    table = read_table(write(tmp_path, "a,b\n1,2\n3,4,5\n5,6\n"), skip_bad_rows=True)
    assert table.text("a") == ["1", "5"] and table.where(1) == "line 4"
    assert table.notes == ["warning: left out 1 line(s) with more fields than the header's 2 "
                           "(--skip-bad-rows): line 3 (3)"]


def test_short_rows_are_padded_with_missing_cells_and_noted(tmp_path):
    table = read_table(write(tmp_path, "a,b,c\n1,2,3\n4,5\n6\n"))
    assert table.text("c") == ["3", None, None] and table.text("b") == ["2", "5", None]
    assert table.notes == ["2 line(s) have fewer fields than the header (first: line 3); their "
                           "last cells were read as missing"]


def test_delimiter_is_found_despite_ragged_lines_and_quoted_newlines(tmp_path):
    table = read_table(write(tmp_path, 'a;b;c\n1;"two\nlines";3\n4;5\n6;7;8\n9;1;2\n'))
    assert table.names == ["a", "b", "c"] and table.text("b") == ["two\nlines", "5", "7", "1"]


def test_unknown_column_lists_the_columns(tmp_path):
    table = read_table(write(tmp_path, "x,y\n1,2\n"))
    with pytest.raises(ValueError, match="has no column 'z'; its columns are: 'x', 'y'"):
        table.cells("z")
    with pytest.raises(ValueError, match=r"has no column 'X ' \(did you mean 'x'\?\)"):
        table.cells("X ")
    # a wide table: its first columns and its last (where a target often is), not "1 more"
    names = [f"feature {i}" for i in range(30)] + ["diagnosis"]
    wide = read_table(write(tmp_path, ",".join(names) + "\n" + ",".join(["1"] * 31) + "\n"))
    with pytest.raises(ValueError) as error:
        wide.cells("target")
    listed = str(error.value).partition("its columns are: ")[2]
    assert listed.startswith("'feature 0', 'feature 1'") and listed.endswith(
        "... (2 more) ..., 'feature 28', 'feature 29', 'diagnosis'")


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
