"""The two ways parse_table builds a table agree: plain Python for small tables, column-wise pandas for large ones.

Each case is parsed twice, once with SMALL_TABLE_ROWS as shipped and once with it at -1 (every table
column-wise), and the frames (columns, order, dtypes, values), problems and row counts must be equal.
The cases mix what a department's workbook holds: figures that do not parse, blanks and dashes,
ditto marks, labels and units no catalogue knows, years that contradict the title, several columns for
one field, a text field kept as written, and columns of figures set by a header pattern.
"""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import schemas.parse as parse
from niengiam.samples import awards_table, industrial_output_table, trade_table, write_xlsx
from schemas.datasets import DATASETS, _dataset_frame_by_steps, dataset_frame_of_columns, to_dataset_frame
from schemas.grid import Sheet, read_workbook
from schemas.parse import ParseContext, ParsedTable, find_header, find_tables, parse_table
from schemas.specs import folded, load_specs, parse_spec
from schemas.text import _strip_marks, clean_text, split_unit, strip_footnote

SPEC = """
id = "test/fast-paths"
version = 1
dataset = "trade"
missing_means_zero = {zero}

[sheet]
max_header_rows = 2

[fields.reference_year]
sources = [["Năm"]]
from_title = true

[fields.product_group_code]
sources = [["Mã nhóm"], ["Nhóm hàng"]]
lookup = "trade_groups"
required = true

[fields.flow_code]
sources = [["Chiều"]]
lookup = "trade_flows"
default = "export"

[fields.note]
sources = [["Ghi chú"]]
{note_default}

[fields.province_code]
sources = [["Tỉnh"]]
lookup = "provinces"
from_title = true

[unit]
sources = [["ĐVT"]]
lookup = "units"
default = "mn_usd"

[[measures]]
headers = ["Giá trị"]
set = {{ basis = "value" }}

[[measures]]
header_pattern = "ke hoach (?P<plan_year>20\\\\d\\\\d)"
"""

HEADER = ["Năm", "Mã nhóm", "Nhóm hàng", "Chiều", "Ghi chú", "ĐVT", "Giá trị", "Kế hoạch 2021"]
YEARS = [2020, 2020.0, 2019, "2020", "năm 2018", "abc", None, True]
CODES = ["TOTAL", "TEXTILES", "XYZ", None, None, '"', ""]
GROUPS = ["Dệt may", "Hàng dệt may", "Không rõ", None, "  Tổng số  ", '"']
FLOWS = ["Xuất khẩu", "Nhập khẩu", None, "???", '"']
NOTES = [None, "a", "  b  ", '"', "ghi chú"]
UNITS = [None, None, "triệu USD", "tấn", "furlongs", "?", '"']
FIGURES = [1.5, 0, 0.0, None, None, "1.234,5", "abc", "-", "12%", 3, "x", "", True]


def _both(match: parse.HeaderMatch, monkeypatch: pytest.MonkeyPatch, context: ParseContext) -> list[ParsedTable]:
    """The table parsed the small way and the column-wise way (the small way must have been taken), each
    also `shaped` (in its dataset's columns), as the pipeline parses."""
    calls = []
    small = parse._parse_small

    def counted(*args: object) -> ParsedTable:
        calls.append(1)
        return small(*args)

    monkeypatch.setattr(parse, "_parse_small", counted)
    fast, fast_shaped = parse_table(match, context), parse_table(match, context, shaped=True)
    assert len(calls) == 2, "the case did not take the small-table path"
    monkeypatch.setattr(parse, "SMALL_TABLE_ROWS", -1)
    slow, slow_shaped = parse_table(match, context), parse_table(match, context, shaped=True)
    monkeypatch.undo()
    return [fast, slow, fast_shaped, slow_shaped]


def _assert_same(fast: ParsedTable, slow: ParsedTable, *in_dataset_columns: ParsedTable) -> None:
    assert list(fast.frame.columns) == list(slow.frame.columns)
    assert list(fast.frame.dtypes) == list(slow.frame.dtypes)
    pd.testing.assert_frame_equal(fast.frame, slow.frame, check_exact=True)
    for column in fast.frame.columns:  # NaN against None, 2020 against 2020.0
        assert [type(v) for v in fast.frame[column]] == [type(v) for v in slow.frame[column]], column
    assert fast.problems == slow.problems
    assert [type(p.value) for p in fast.problems] == [type(p.value) for p in slow.problems]
    assert (fast.rows_in, fast.header_row, fast.sheet) == (slow.rows_in, slow.header_row, slow.sheet)
    if not fast.frame.empty:
        dataset = DATASETS[fast.spec.dataset]
        shaped = to_dataset_frame(dataset, fast.frame)
        by_steps = _dataset_frame_by_steps(dataset, fast.frame.rename(columns={"value": dataset.value_column}))
        assert list(shaped.dtypes) == list(by_steps.dtypes)
        pd.testing.assert_frame_equal(shaped, by_steps, check_exact=True)
    for table in in_dataset_columns:  # built in the dataset's columns at once (small), or reshaped after (column-wise)
        assert table.shaped and table.problems == fast.problems and table.rows_in == fast.rows_in
        if fast.frame.empty:
            assert table.frame.empty
            continue
        expected = to_dataset_frame(DATASETS[fast.spec.dataset], fast.frame)
        pd.testing.assert_frame_equal(table.frame, expected, check_exact=True)
        for column in expected.columns:
            assert [type(v) for v in table.frame[column]] == [type(v) for v in expected[column]], column


def _random_sheet(rng: random.Random, rows: int, title: list[str]) -> Sheet:
    cells: list[list[object]] = [[line] for line in title] + [list(HEADER)]
    for _ in range(rows):
        cells.append([rng.choice(YEARS), rng.choice(CODES), rng.choice(GROUPS), rng.choice(FLOWS), rng.choice(NOTES),
                      rng.choice(UNITS), rng.choice(FIGURES), rng.choice(FIGURES)][: rng.choice([8, 8, 8, 7, 6])])
    return Sheet("Biểu 1", cells)


@pytest.mark.parametrize("zero", ["true", "false"])
@pytest.mark.parametrize("note_default", ['default = "none"', ""])
def test_random_tables_parse_the_same_both_ways(monkeypatch, zero, note_default):
    spec = parse_spec(SPEC.format(zero=zero, note_default=note_default), "test.toml")
    rng = random.Random(f"{zero}{note_default}")
    titles = [
        ["UBND TỈNH PHÚ THỌ", "XUẤT KHẨU NĂM 2020", "(Đơn vị tính: triệu USD)"],
        ["XUẤT KHẨU", "(Đơn vị tính: furlongs)"],
        ["BÁO CÁO"],
    ]
    problems = set()
    for number in range(40):
        sheet = _random_sheet(rng, rng.choice([0, 1, 5, 60]), titles[number % len(titles)])
        match = find_header(spec, sheet)
        assert match is not None and match.complete
        context = ParseContext("t.xlsx", default_province=rng.choice([None, "01"]))
        fast, *others = _both(match, monkeypatch, context)
        _assert_same(fast, *others)
        problems |= {p.rule for p in fast.problems}
    assert problems >= {"number", "unit", "known_code", "year_mismatch", "table"}


@pytest.mark.parametrize("table", [industrial_output_table, trade_table, awards_table])
def test_sample_workbooks_parse_the_same_both_ways(monkeypatch, tmp_path: Path, table):
    """The shipped specs on the sample tables, as written and with cells spoilt the way real files are."""
    rng = random.Random(table.__name__)
    for year in (2010, 2013, 2015):
        sample = table(year)
        for spoilt in range(4):
            rows = [list(r) for r in sample.rows]
            for _ in range(spoilt * 6):
                row, col = rng.randrange(len(rows)), rng.randrange(len(rows[0]))
                rows[row][col] = rng.choice(["abc", None, "-", '"', "Không rõ", 2019, "1.234,5", "tấn", "??"])
            path = write_xlsx(replace(sample, rows=rows), tmp_path / f"{year}-{spoilt}.xlsx")
            [match] = find_tables(read_workbook(path, path.name), load_specs(()))
            _assert_same(*_both(match, monkeypatch, ParseContext(path.name)))


@pytest.mark.parametrize("both_values", [False, True])
@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_a_frame_built_in_its_datasets_columns_equals_the_reshaped_one(dataset: str, both_values: bool) -> None:
    """dataset_frame_of_columns against to_dataset_frame: year columns of text, numbers, blanks and
    nonsense, object columns that must stay object, a cell column, and columns the dataset lacks; and
    a 'value' beside the dataset's own value column (reshaped step by step)."""
    rng = random.Random(dataset)
    rows = 60
    index = pd.RangeIndex(rows)
    years = ["2010", "2010.6", "abc", None, "2015", ""]
    columns = {
        "reference_year": pd.array([rng.choice([2010.0, 2011.0, float("nan")]) for _ in range(rows)]).to_numpy(),
        "province_code": pd.Series([rng.choice(["01", "25", None]) for _ in range(rows)], index=index, dtype=object),
        "base_year": pd.array([rng.choice(years) for _ in range(rows)], dtype="str"),
        "plan_start_year": pd.Series([rng.choice([2016, "2021", None, 2020.0]) for _ in range(rows)], index=index,
                                     dtype=object),
        "value": pd.array([rng.random() for _ in range(rows)], dtype="float64").to_numpy(),
        "unit": pd.Series([rng.choice(["bn_vnd", None]) for _ in range(rows)], index=index, dtype=object),
        "_source_sheet": pd.array(["Biểu 1"] * rows, dtype="str"),
        "_source_row": pd.array(range(5, 5 + rows), dtype="int64").to_numpy(),
        "_source_cell": pd.array([f"H{r}" for r in range(5, 5 + rows)], dtype="str"),
        "_cell_reference_year": pd.array([f"A{r}" for r in range(5, 5 + rows)], dtype="str"),
        "note": pd.array(["x"] * rows, dtype="str"),
    }
    if both_values:
        columns[DATASETS[dataset].value_column] = pd.array([rng.random() for _ in range(rows)]).to_numpy()
    built = dataset_frame_of_columns(DATASETS[dataset], columns, rows)
    expected = to_dataset_frame(DATASETS[dataset], pd.DataFrame(columns, index=index))
    pd.testing.assert_frame_equal(built, expected, check_exact=True)
    for column in expected.columns:
        assert [type(v) for v in built[column]] == [type(v) for v in expected[column]], column


def test_a_default_of_another_type_takes_the_column_wise_path(monkeypatch):
    """A year default written as a TOML number would change the year column's dtype: not the small path."""
    text = SPEC.format(zero="false", note_default="").replace('from_title = true\n\n[fields.product', 'default = 2020\n\n[fields.product', 1)
    spec = parse_spec(text, "test.toml")
    match = find_header(spec, _random_sheet(random.Random(3), 20, ["BÁO CÁO"]))
    calls = []
    monkeypatch.setattr(parse, "_parse_small", lambda *args: calls.append(1))
    table = parse_table(match, ParseContext("t.xlsx"))
    assert not calls and not table.frame.empty


def test_marks_stripped_as_unicodedata_says():
    """The translate table drops exactly the characters with a combining class, after NFKD."""
    import unicodedata

    text = "".join(chr(c) for c in range(0x3000) if not 0xD800 <= c < 0xE000) + "Hà Nội m² Ǆ ﬁ"
    expected = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    assert _strip_marks(text) == expected


def test_header_search_shortcuts_agree_with_the_bands(tmp_path: Path):
    """A one-row band's keys taken from its cells, and the first row of figures under a band, as the bands say."""
    sheets = [_random_sheet(random.Random(seed), 30, ["XUẤT KHẨU NĂM 2020", "", "(ĐVT: triệu USD)"]) for seed in range(5)]
    for table in (industrial_output_table, trade_table, awards_table):
        path = write_xlsx(table(2012), tmp_path / f"{table.__name__}.xlsx")
        sheets += read_workbook(path, path.name).sheets  # merged header cells, title rows, notes
    for sheet in sheets:
        top = parse.SheetTop(sheet)
        for row in range(min(sheet.height, parse.HEADER_SEARCH_ROWS)):
            assert top.words(row, 1) == frozenset().union(*top.keys(row, 1).values())
            for stop in range(row + 1, row + 6):
                figures = [r for r in range(row + 1, min(stop, sheet.height)) if any(map(parse._is_figure, sheet.rows[r]))]
                assert top.first_figure_row(row + 1, stop) == (figures[0] if figures else stop)


@example("1.234 (1)")  # a footnote mark
@example("12,5**")
@example("7 [%]")  # a unit
@given(st.text(st.sampled_from("0123456789.,-+ /:%()[]*'#²¹dDuUnNvVitTsS\u0111"), min_size=1))
def test_text_keys_shortcut_agrees_with_the_long_way(text: str) -> None:
    """A text keyed without looking for a unit or a footnote mark has none to strip."""
    text = clean_text(text)
    if text:
        long_way = frozenset(folded(t) for t in (text, split_unit(text)[0], strip_footnote(text)[0]) if t)
        assert parse._text_keys.__wrapped__(text) == long_way
