"""Fuzzing: random bytes, CSV text, cell grids, headers and numbers. Only niengiam's typed errors may escape."""

from __future__ import annotations

import contextlib
import io
import string
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.errors import NiengiamError
from schemas.grid import Sheet, Workbook, read_workbook
from schemas.numbers import parse_number
from schemas.parse import ParseContext
from schemas.pipeline import parse_file, validate_file
from schemas.specs import builtin_specs
from schemas.text import fold, split_unit, strip_footnote

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

HEADER_WORDS = [
    "STT", "Năm", "Year", "Mã ngành", "Ngành công nghiệp", "Thành phần kinh tế", "Giá hiện hành",
    "Giá so sánh 2010", "Tình trạng", "Chỉ tiêu", "Nhóm hàng, dịch vụ", "Đơn vị tính", "Giá trị",
    "Hình thức khen thưởng", "Tập thể", "Cá nhân", "Số lượng", "Toàn ngành công nghiệp", "Khai khoáng",
    "Kim ngạch xuất khẩu", "Triệu USD", "Tỷ đồng", "Chính thức", "Ước đạt", "Bằng khen UBND tỉnh",
    "UBND TỈNH PHÚ THỌ", "GIÁ TRỊ SẢN XUẤT CÔNG NGHIỆP NĂM 2014", '"', "-", "..", "x", "(*)",
]
cells = st.one_of(
    st.none(),
    st.sampled_from(HEADER_WORDS),
    st.text(max_size=12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-10**12, max_value=10**12),
    st.booleans(),
    st.sampled_from(["28.029,5", "1,234.5", "119,6", "13,2%", "(12,5)", "1.313", "abc", "#N/A", "#REF!"]),
)
grids = st.lists(st.lists(cells, max_size=9), max_size=25)


def _run_pipeline(book: Workbook) -> None:
    with contextlib.suppress(NiengiamError):
        validate_file(parse_file(book, builtin_specs(), ParseContext(book.file_name, default_province="25")))


@FUZZ
@given(grids, st.booleans())
def test_random_grids_only_raise_typed_errors(rows, hidden) -> None:
    _run_pipeline(Workbook("fuzz.xlsx", "xlsx", [Sheet("Biểu 01", rows, hidden=hidden)]))


@FUZZ
@given(st.lists(st.sampled_from(HEADER_WORDS), min_size=3, max_size=9), st.lists(st.lists(cells, max_size=9), max_size=8))
def test_plausible_headers_over_random_data_only_raise_typed_errors(header, body) -> None:
    rows = [["UBND TỈNH PHÚ THỌ"], ["GIÁ TRỊ SẢN XUẤT CÔNG NGHIỆP NĂM 2014"], list(header), *body]
    _run_pipeline(Workbook("fuzz.xlsx", "xlsx", [Sheet("Biểu 01", rows)]))


@FUZZ
@given(st.binary(max_size=3000), st.sampled_from([".xlsx", ".xls", ".ods", ".csv", ""]))
def test_random_bytes_only_raise_typed_errors(tmp_path: Path, data: bytes, suffix: str) -> None:
    path = tmp_path / f"rac{suffix}"
    path.write_bytes(data)
    with contextlib.suppress(NiengiamError):
        _run_pipeline(read_workbook(path))


@FUZZ
@given(st.binary(max_size=2000))
def test_random_zip_members_only_raise_typed_errors(tmp_path: Path, payload: bytes) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", b'<?xml version="1.0"?><Types/>')
        archive.writestr("xl/workbook.xml", payload)
        archive.writestr("xl/worksheets/sheet1.xml", payload)
    path = tmp_path / "hong.xlsx"
    path.write_bytes(buffer.getvalue())
    with contextlib.suppress(NiengiamError):
        _run_pipeline(read_workbook(path))


@FUZZ
@given(st.lists(st.lists(st.text(alphabet=string.printable + "ăâđêôơưÁÀẢÃẠáàảãạ;,\t\"", max_size=10), max_size=8), max_size=20),
       st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1258"]))
def test_random_csv_text_only_raises_typed_errors(tmp_path: Path, rows, encoding: str) -> None:
    text = "\n".join(";".join(r) for r in rows)
    path = tmp_path / "du-lieu.csv"
    path.write_bytes(text.encode(encoding, errors="replace"))
    with contextlib.suppress(NiengiamError):
        _run_pipeline(read_workbook(path))


@given(st.text())
def test_text_helpers_never_raise(text: str) -> None:
    fold(text)
    split_unit(text)
    strip_footnote(text)
    parse_number(text)
    parse_number(text, ",")
    parse_number(text, ".")


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan"), 10**400, True, object()])
def test_odd_cell_values_never_raise(value) -> None:
    parse_number(value)
