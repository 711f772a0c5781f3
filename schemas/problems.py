"""Problems found in a file: one record per bad cell or rule, with messages in English and Vietnamese."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# rule -> (English, Vietnamese) message templates; fields come from the problem's context.
MESSAGES: dict[str, tuple[str, str]] = {
    "number": (
        "{value!r} is not a number; write the figure as a number (e.g. 28.029,5) or '-' for none",
        "{value!r} không phải là số; hãy ghi số (ví dụ 28.029,5) hoặc '-' nếu không có",
    ),
    "known_code": (
        "unknown {what} {value!r}; use a name from the {catalog} list or add it as an alias",
        "không nhận ra {what} {value!r}; hãy dùng tên trong danh mục {catalog} hoặc bổ sung tên gọi khác",
    ),
    "not_null": (
        "{what} is missing; fill in the cell",
        "thiếu {what}; hãy điền vào ô này",
    ),
    "unique": (
        "the same {what} appears more than once for this year; keep one row",
        "{what} bị lặp lại trong cùng một năm; chỉ giữ một dòng",
    ),
    "non_negative": (
        "{value} is negative; {what} cannot be below zero",
        "{value} là số âm; {what} không thể nhỏ hơn 0",
    ),
    "integral": (
        "{value} is not a whole number; {what} must be a count",
        "{value} không phải số nguyên; {what} phải là số đếm",
    ),
    "year_range": (
        "year {value} is outside {low}–{high}; check the year",
        "năm {value} nằm ngoài khoảng {low}–{high}; hãy kiểm tra lại năm",
    ),
    "in_list": (
        "{value!r} is not an allowed {what} ({allowed})",
        "{value!r} không phải là {what} hợp lệ ({allowed})",
    ),
    "total_equals_parts": (
        "total {total} differs from the sum of its parts {parts} by {diff}; fix the total or a part",
        "tổng {total} khác tổng các thành phần {parts} (chênh {diff}); hãy sửa số tổng hoặc số thành phần",
    ),
    "parts_within_total": (
        "the parts add up to {parts}, more than the total {total}; fix the total or a part",
        "tổng các thành phần {parts} lớn hơn số tổng {total}; hãy sửa số tổng hoặc số thành phần",
    ),
    "unit": (
        "unit {value!r} is not one niengiam knows for this table ({allowed})",
        "đơn vị {value!r} không phù hợp với biểu này ({allowed})",
    ),
    "year_mismatch": (
        "the row says {value} but the title says {title_year}; correct the year or the title",
        "dòng ghi năm {value} nhưng tên biểu ghi năm {title_year}; hãy sửa năm hoặc tên biểu",
    ),
    "table": ("{detail}", "{detail_vi}"),
}


@dataclass(frozen=True)
class Problem:
    """One finding: where it is, which rule, and what to do."""

    rule: str
    message: str
    message_vi: str
    sheet: str | None = None
    cell: str | None = None
    column: str | None = None
    value: str | None = None
    severity: str = "error"

    def as_row(self) -> dict[str, Any]:
        """A plain dict, for frames and the quarantine table (its fields are plain values: no deep copy)."""
        return dict(vars(self))

    def where(self) -> str:
        """'sheet 'S' cell B7' or as much as is known."""
        parts = [f"sheet '{self.sheet}'" if self.sheet else "", f"cell {self.cell}" if self.cell else ""]
        return " ".join(p for p in parts if p)


def problem(
    rule: str,
    *,
    sheet: str | None = None,
    cell: str | None = None,
    column: str | None = None,
    value: Any = None,
    severity: str = "error",
    **context: Any,
) -> Problem:
    """Build a Problem with both messages rendered from the rule's templates."""
    english, vietnamese = MESSAGES[rule]
    fields = {"value": value, "what": column, **context}
    text = None if value is None else str(value)
    return Problem(
        rule=rule,
        message=english.format(**fields),
        message_vi=vietnamese.format(**fields),
        sheet=sheet,
        cell=cell,
        column=column,
        value=text,
        severity=severity,
    )
