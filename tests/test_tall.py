"""Tall sheets are read column by column (Arrow) below their top rows, and parse exactly as cells would.

Every test reads the same file twice: once as cells (the default for a sheet this short) and once with
the tall-sheet threshold lowered so that the Arrow path is taken, then compares the validated frames
and every problem (message, sheet, cell). A test also checks that the Arrow path was really taken and
that parsing did not fall back to cells (the tail is still columns afterwards).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import schemas.grid as grid
from schemas.catalogs import load_catalog
from schemas.grid import read_workbook
from schemas.parse import ParseContext
from schemas.pipeline import parse_file, validate_file
from schemas.specs import load_specs

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
HEADER = ["STT", "Tỉnh, thành phố", "Năm", "Chỉ tiêu", "Mã HS", "Mặt hàng", "Đơn vị tính", "Giá trị"]
PROVINCES = ["Hà Nội", "Huế", "Lạng Sơn", "TP. Hồ Chí Minh", "Đà Nẵng"]


def _lines() -> list[tuple[str, str]]:
    rows = [r for r in load_catalog("trade_groups").rows if r["flow_code"] == "export"]
    return [(r["product_group_code"], r["name_vi"]) for r in rows[:6]]


def _table(rows: int) -> list[list[object]]:
    """Exports by province × year × product group, with a few figures a person would write by hand."""
    out: list[list[object]] = []
    for province in PROVINCES:
        for year in range(2006, 2026):
            for code, name in _lines():
                if len(out) == rows:
                    return out
                value = round(1.5 + (len(out) * 7919 % 1000) / 10, 1)
                out.append([len(out) + 1, province, year, "Xuất khẩu", code, name, "Triệu USD", value])
    return out


def _validated(path: Path):
    book = read_workbook(path, path.name)
    parsed = parse_file(book, load_specs(), ParseContext(path.name))
    return book, validate_file(parsed)


def _same_both_ways(path: Path, monkeypatch: pytest.MonkeyPatch, *, tall: bool = True) -> None:
    """The file parses to the same frames and problems as cells and through the Arrow path."""
    as_cells_book, as_cells = _validated(path)
    assert all(s.tail is None for s in as_cells_book.sheets)
    monkeypatch.setattr(grid, "TALL_ROWS", 50)
    monkeypatch.setattr(grid, "TOP_ROWS", 60)
    book = read_workbook(path, path.name)
    assert any(s.tail is not None for s in book.sheets) is tall
    parsed = validate_file(parse_file(book, load_specs(), ParseContext(path.name)))
    if tall:
        assert any(s.tail is not None for s in book.sheets), "parsing turned the tail back into cells"
    assert sorted(parsed.frames) == sorted(as_cells.frames)
    for name, frame in as_cells.frames.items():
        pd.testing.assert_frame_equal(parsed.frames[name], frame)
    assert [p.as_row() for p in parsed.errors] == [p.as_row() for p in as_cells.errors]
    assert [p.as_row() for p in parsed.warnings] == [p.as_row() for p in as_cells.warnings]


def _write_csv(path: Path, rows: list[list[object]], *, delimiter: str = ",", title: bool = True,
               tail_lines: list[str] = (), bom: bool = True) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\r\n")
        if title:
            writer.writerows([["BỘ CÔNG THƯƠNG"], [], ["KIM NGẠCH XUẤT KHẨU THEO MẶT HÀNG 2006-2025"],
                              ["(Đơn vị tính: Triệu USD)"], []])
        writer.writerow(HEADER)
        for row in rows:
            writer.writerow([*row[:7], str(row[7]).replace(".", ",")])
        for line in tail_lines:
            handle.write(line)
    return path


def test_tall_csv_parses_as_cells_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = _table(400)
    rows[70][7] = "abc"          # an unreadable figure: reported at its cell by both paths
    rows[71][7] = "-"            # nil
    rows[72][5] = "Hàng lạ"      # a product group no catalogue knows
    rows[73][1] = "Tỉnh Lạ"      # and a province
    rows[74][5] = 'Dệt may\n(gồm cả "may mặc")'  # a quoted label across two lines
    _same_both_ways(_write_csv(tmp_path / "tall.csv", rows, tail_lines=["\r\n", "\r\n"]), monkeypatch)


def test_tall_csv_with_semicolons_and_no_bom(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write_csv(tmp_path / "semi.csv", _table(300), delimiter=";", bom=False)
    _same_both_ways(path, monkeypatch)


@pytest.mark.parametrize("tail_lines", [["\r\n", "Nguồn: Sở Công Thương\r\n"]], ids=["footnote"])
def test_uneven_rows_fall_back_to_cells(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tail_lines) -> None:
    """A footnote (a row of another width) would shift Arrow's rows: such a file is read as cells."""
    _same_both_ways(_write_csv(tmp_path / "foot.csv", _table(300), tail_lines=tail_lines), monkeypatch, tall=False)


def test_blank_line_inside_the_table_keeps_the_rows_in_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Arrow's reader keeps a blank line as a row of blanks, so every later cell keeps its row number."""
    path = _write_csv(tmp_path / "gap.csv", _table(300))
    lines = path.read_bytes().decode("utf-8-sig").split("\r\n")
    lines[150:150] = ["", ""]
    lines[200] = lines[200].rsplit(",", 2)[0] + ",abc"  # an unreadable figure below the gap, at its own row
    path.write_bytes("\r\n".join(lines).encode("utf-8-sig"))
    _same_both_ways(path, monkeypatch)


def _write_xlsx(path: Path, rows: list[list[object]], *, left: int = 0, formula_at: int | None = None) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Xuất khẩu"
    ws.cell(1, 1 + left, "BỘ CÔNG THƯƠNG")
    ws.cell(3, 1 + left, "KIM NGẠCH XUẤT KHẨU THEO MẶT HÀNG 2006-2025")
    ws.merge_cells(start_row=3, start_column=1 + left, end_row=3, end_column=8 + left)
    ws.cell(4, 1 + left, "(Đơn vị tính: Triệu USD)")
    for c, text in enumerate(HEADER):
        ws.cell(6, 1 + left + c, text)
    for r, row in enumerate(rows, start=7):
        for c, value in enumerate(row):
            ws.cell(r, 1 + left + c, value)
    if formula_at is not None:
        ws.cell(7 + formula_at, 8 + left, "=1+1")  # no saved result: reported, never read as blank
    ws.cell(9 + len(rows), 1 + left, "Nguồn: Sở Công Thương")
    wb.save(path)
    return path


def test_tall_xlsx_parses_as_cells_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = _table(400)
    rows[80][7] = "abc"
    rows[81][7] = "-"
    rows[82][7] = 0.30000000000000004  # shortest text round-trips to the same float
    rows[83][7] = 1234567.25
    rows[84][4] = "0101"               # a code written as text keeps its leading zero
    rows[85][5] = "Hàng lạ"
    _same_both_ways(_write_xlsx(tmp_path / "tall.xlsx", rows, left=1), monkeypatch)


def test_formula_without_result_in_a_tall_sheet_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The gap marker is written into the cells, so this file goes back to cells — and says the same."""
    path = _write_xlsx(tmp_path / "formula.xlsx", _table(300), formula_at=200)
    _, as_cells = _validated(path)
    assert any("formula" in p.message or "=1+1" in str(p.as_row()) for p in as_cells.errors)
    monkeypatch.setattr(grid, "TALL_ROWS", 50)
    monkeypatch.setattr(grid, "TOP_ROWS", 60)
    book, parsed = _validated(path)
    assert [p.as_row() for p in parsed.errors] == [p.as_row() for p in as_cells.errors]


def test_generated_large_table_both_formats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The benchmark's own large table (its commodity lines are unknown here: thousands of problems)."""
    from bench import generate

    folder = generate.write_large(900, seed=5, out=tmp_path / "large", formats=("csv", "xlsx"))
    for path in sorted(folder.glob("xuat-khau-*")):
        with monkeypatch.context() as patched:
            _same_both_ways(path, patched)


@pytest.mark.skipif(not REALDATA.is_dir(), reason="../shared/realdata is not beside the repository")
@pytest.mark.parametrize("name", sorted(p.name for p in REALDATA.glob("*.xlsx")) if REALDATA.is_dir() else [])
def test_real_workbooks_parse_the_same_through_the_arrow_path(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = REALDATA / name
    try:
        book, as_cells = _validated(path)
    except Exception as exc:  # a workbook niengiam refuses must be refused the same way
        monkeypatch.setattr(grid, "TALL_ROWS", 50)
        monkeypatch.setattr(grid, "TOP_ROWS", 60)
        with pytest.raises(type(exc)) as again:
            _validated(path)
        assert str(again.value) == str(exc)
        return
    if max(s.height for s in book.sheets) <= 50:
        pytest.skip("no sheet taller than 50 rows")
    monkeypatch.setattr(grid, "TALL_ROWS", 50)
    monkeypatch.setattr(grid, "TOP_ROWS", 60)
    _, parsed = _validated(path)
    for frame_name, frame in as_cells.frames.items():
        pd.testing.assert_frame_equal(parsed.frames[frame_name], frame)
    assert [p.as_row() for p in parsed.errors + parsed.warnings] == [
        p.as_row() for p in as_cells.errors + as_cells.warnings
    ]


def test_the_real_threshold_keeps_ordinary_files_as_cells() -> None:
    assert grid.TALL_ROWS >= 10_000 and grid.TOP_ROWS > 52 + 12, os.environ.get("PYTEST_CURRENT_TEST")


def test_a_tall_sheet_beyond_the_cell_limit_is_refused_as_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Arrow path keeps the cell reader's guard: a sheet of more than MAX_CELLS cells is refused, named."""
    path = _write_xlsx(tmp_path / "big.xlsx", _table(300))
    monkeypatch.setattr(grid, "MAX_CELLS", 1_000)
    with pytest.raises(grid.DataError) as as_cells:
        read_workbook(path, path.name)
    monkeypatch.setattr(grid, "TALL_ROWS", 50)
    monkeypatch.setattr(grid, "TOP_ROWS", 60)
    with pytest.raises(grid.DataError) as as_columns:
        read_workbook(path, path.name)
    for refused in (as_cells.value, as_columns.value):
        assert "more than niengiam reads" in str(refused) and refused.sheet == "Xuất khẩu"
