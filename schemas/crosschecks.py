"""Cross-checks beyond one row: shares that add up to 100, indices that agree with the values they index,
and year-over-year changes or revisions too large to be plausible.

Pure: the warehouse side hands in the figures it holds (the previous year and the current vintage of the
same year) as a frame with the dataset's grain, value column and status.
Severity follows the status of the new figure: a plausibility finding on an estimate or a preliminary figure
is a warning (the file loads), on a final headline figure (a total along every hierarchy) it is an error
(the file is rejected); on a component it is a warning.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from schemas.datasets import DATASETS, Dataset, IndexRule, ShareRule, published_decimals
from schemas.problems import Problem
from schemas.provinces import carry_over_merger, last_year_before_merger, predecessors, successors

if TYPE_CHECKING:  # pipeline imports the contracts, which import this module
    from schemas.pipeline import ValidatedFile

DEFAULT_YOY_BOUND_PCT = 50.0
YEAR = "reference_year"


_VN_MARKS = str.maketrans({",": ".", ".": ","})


def vn_number(x: float) -> str:
    """Vietnamese number formatting for messages: 28.029,5."""
    return f"{x:,.3f}".rstrip("0").rstrip(".").translate(_VN_MARKS)


def severity_for(status: object, headline: bool = True) -> str:
    """Plausibility findings reject final headline figures and only warn on estimates and preliminary ones.

    A component (a commodity group, an industry of one ownership type) beyond the bound only warns: small
    parts move a lot from year to year, and an error in one shows in its total (rejected when final) or in
    the check that totals equal the sum of their parts.
    """
    return "error" if status == "final" and headline else "warning"


def is_headline(dataset: Dataset, frame: pd.DataFrame) -> pd.Series:
    """Rows that are totals along every hierarchy of the dataset (all rows when it has none)."""
    headline = pd.Series(True, index=frame.index)
    for h in dataset.hierarchies:
        if h.dimension in frame.columns:
            headline &= frame[h.dimension].astype("string").fillna("") == h.total
    return headline


def _finding(rule: str, row: dict, severity: str, en: str, vi: str, column: str, value: str | None = None) -> Problem:
    """A finding on the figure of `row`; `value` is the figure as written in the messages, when known."""
    sheet, cell = row.get("_source_sheet"), row.get("_source_cell")
    if value is None and pd.notna(row.get("value")):
        value = vn_number(float(row["value"]))
    return Problem(
        rule=rule, message=en, message_vi=vi, severity=severity, column=column,
        sheet=sheet if isinstance(sheet, str) else None, cell=cell if isinstance(cell, str) else None, value=value,
    )


def _key_text(column: pd.Series) -> pd.Series:
    """A key column as text, so that 2010 and 2010.0 (and missing values) join alike; codes stay as written."""
    if pd.api.types.is_numeric_dtype(column):
        return column.round().astype("Int64").astype("string").fillna("")
    return column.astype("string").fillna("")


def _key_list(column: pd.Series) -> list[str]:
    """`_key_text` as a list, value by value: cheaper than two pandas operations on a few hundred rows."""
    values = column.tolist()
    if pd.api.types.is_numeric_dtype(column):
        return ["" if v is None or v is pd.NA or v != v else str(int(round(v))) for v in values]
    return ["" if v is None or v is pd.NA or (isinstance(v, float) and v != v) else str(v) for v in values]


def figures(dataset: Dataset, frame: pd.DataFrame | None, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """The frame reduced to keys (as text), year, value, status and source cell; unusable rows dropped.
    `extra` columns (a file number) are kept as they are, after the keys."""
    keys = [c for c in dataset.grain if c != YEAR]
    columns = [*keys, *extra, YEAR, "value", "status", "_source_sheet", "_source_cell"]
    if frame is None or frame.empty or dataset.value_column not in frame.columns:
        return pd.DataFrame(columns=columns)
    out = pd.DataFrame({k: _key_text(frame[k]) for k in keys if k in frame.columns}, index=frame.index)
    for column in extra:
        out[column] = frame[column]
    out[YEAR] = pd.to_numeric(frame[YEAR], errors="coerce")
    out["value"] = pd.to_numeric(frame[dataset.value_column], errors="coerce")
    for column in ("status", "_source_sheet", "_source_cell"):
        out[column] = frame[column] if column in frame.columns else None
    out = out.dropna(subset=[YEAR, "value"])
    return out.assign(**{YEAR: out[YEAR].astype(int)})[columns]


def _what(dataset: Dataset, row: dict, keys: list[str]) -> tuple[str, str]:
    """The figure's dataset and keys, in English and in Vietnamese."""
    detail = ", ".join(str(row[k]) for k in keys if k != "province_code" and row[k] not in ("", "TOTAL"))
    if not detail:
        return dataset.label_en, dataset.label_vi
    return f"{dataset.label_en} ({detail})", f"{dataset.label_vi} ({detail})"


# --- year-over-year change and revisions ----------------------------------------------------------


def _reference_year_values(new: pd.DataFrame, old: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Previous-year values, from the file itself first and from the warehouse otherwise, moved to year + 1
    (and, across the 2025 merger, summed onto the merged provinces so that both years share boundaries)."""
    own = new[[*keys, YEAR, "value"]].assign(source="file")
    held = old[[*keys, YEAR, "value"]].assign(source="warehouse")
    both = pd.concat([f for f in (own, held) if not f.empty] or [own], ignore_index=True)
    both = both.drop_duplicates([*keys, YEAR], keep="first")
    both = carry_over_merger(both.assign(value=both["value"].astype(float)), keys).assign(
        source=lambda f: f["source"].fillna("warehouse")
    )
    return both.assign(**{YEAR: both[YEAR].astype(int) + 1, "value": both["value"].astype(float)})


class _Figure(NamedTuple):
    """One figure of a file or of the warehouse, its keys as text (see `figures`)."""

    key: tuple[str, ...]
    year: int
    value: float
    status: object = None
    sheet: object = None
    cell: object = None


def _figure_list(dataset: Dataset, frame: pd.DataFrame | None, keys: list[str]) -> list[_Figure]:
    """`figures` as a list of records: the checks below work on a few hundred rows per file, where a
    dict costs microseconds and each pandas operation a millisecond. Built column by column, without
    the intermediate frame `figures` makes (a dozen operations instead of forty)."""
    if frame is None or frame.empty or dataset.value_column not in frame.columns:
        return []
    years = pd.to_numeric(frame[YEAR], errors="coerce").tolist()
    values = pd.to_numeric(frame[dataset.value_column], errors="coerce").tolist()
    key_rows = zip(*(_key_list(frame[k]) for k in keys), strict=True)
    extra = [frame[c].tolist() if c in frame.columns else [None] * len(frame)
             for c in ("status", "_source_sheet", "_source_cell")]
    return [
        _Figure(key, int(year), value, status, sheet, cell)
        for key, year, value, status, sheet, cell in zip(key_rows, years, values, *extra, strict=True)
        if not (pd.isna(year) or pd.isna(value))
    ]


def _previous_year(new: list[_Figure], old: list[_Figure], keys: list[str]) -> dict[tuple, list[tuple[float, str]]]:
    """(keys, year) -> the previous year's values and where each came from: the file first, else the warehouse.

    As `_reference_year_values` (which the index check uses), in plain Python: across the 2025 merger the
    last pre-merger year is summed onto the merged province when every predecessor is present.
    """
    entries: dict[tuple, tuple[tuple[str, ...], int, float, str]] = {}
    for source, found in (("file", new), ("warehouse", old)):
        for f in found:
            entries.setdefault((f.key, f.year), (f.key, f.year, float(f.value), source))
    at = keys.index("province_code") if "province_code" in keys else None
    moved, kept = successors(), []
    merging: dict[tuple, list[float]] = {}
    for key, year, value, source in entries.values():
        if at is not None and year == last_year_before_merger() and key[at] in moved:
            merged_key = (*key[:at], moved[key[at]].code, *key[at + 1:])
            merging.setdefault((merged_key, year), []).append(value)
        else:
            kept.append((key, year, value, source))
    for (key, year), values in sorted(merging.items()):
        if at is not None and len(values) == len(predecessors(key[at])):
            kept.append((key, year, math.fsum(values), "warehouse"))
    reference: dict[tuple, list[tuple[float, str]]] = {}
    for key, year, value, source in kept:
        reference.setdefault((key, year + 1), []).append((value, source))
    return reference


def _beyond(value: float, reference: float, bound_pct: float) -> float | None:
    """The change in % from a positive reference when it is beyond the bound, else None."""
    if not reference > 0:
        return None
    change = (value / reference - 1) * 100
    return change if abs(change) > bound_pct + 1e-9 else None


LARGE_FRAME_ROWS = 20_000  # above this the plausibility checks run on whole columns, below on records


def plausibility_findings(
    dataset: Dataset, frame: pd.DataFrame, previous: pd.DataFrame | None, bound_pct: float = DEFAULT_YOY_BOUND_PCT
) -> list[Problem]:
    """Figures that moved more than ±bound % from the previous year, or from the vintage they replace.

    Two ways to the same findings (tests/test_crosschecks.py holds them equal): a file of a few hundred
    rows is checked record by record, a large table column by column (records would cost seconds and a
    gigabyte for a million rows, pandas costs a millisecond per operation on a small file).
    """
    if len(frame) + (0 if previous is None else len(previous)) > LARGE_FRAME_ROWS:
        return [found for _, found in _plausibility_by_column(dataset, frame, previous, bound_pct)]
    keys = [c for c in dataset.grain if c != YEAR]
    new = _figure_list(dataset, frame, keys)
    if not new:
        return []
    old = _figure_list(dataset, previous, keys)
    totals = [(keys.index(h.dimension), h.total) for h in dataset.hierarchies if h.dimension in keys]
    reference = _previous_year(new, old, keys)
    held: dict[tuple, list[float]] = {}
    for f in old:
        held.setdefault((f.key, f.year), []).append(f.value)
    yearly, revised = [], []
    for f in new:
        row: dict | None = None
        for value_ref, source in reference.get((f.key, f.year), ()):
            if (change := _beyond(f.value, value_ref, bound_pct)) is not None:
                row = row or _row(f, keys, totals)
                yearly.append(_yoy_problem(dataset, {**row, "value_ref": value_ref, "change_pct": change,
                                                     "source": source}, keys, bound_pct))
        for value_ref in held.get((f.key, f.year), ()):
            if (change := _beyond(f.value, value_ref, bound_pct)) is not None:
                row = row or _row(f, keys, totals)
                revised.append(_revision_problem(dataset, {**row, "value_ref": value_ref, "change_pct": change},
                                                 keys, bound_pct))
    return yearly + revised


def _plausibility_by_column(
    dataset: Dataset, frame: pd.DataFrame, previous: pd.DataFrame | None, bound_pct: float, by: str | None = None
) -> list[tuple[dict, Problem]]:
    """The checks of `plausibility_findings` on whole columns, each finding with the row it was written
    from: each (keys, year) becomes one integer, the joins are on integers, and only the figures found are
    made into rows (a million-row table against an empty warehouse: ≈ 0.15 s, where joining its text
    columns took ≈ 0.8 s). A `by` column (a file number, in `frame` and `previous`) is one more key: each
    file is compared with its own history only."""
    keys = [c for c in dataset.grain if c != YEAR]
    extra = (by,) if by else ()
    new = figures(dataset, frame, extra).reset_index(drop=True)
    old = figures(dataset, previous, extra).reset_index(drop=True)
    if new.empty:
        return []
    coded = _CodedFigures([*keys, *extra], new, old)
    values, held = new["value"].to_numpy(float), old["value"].to_numpy(float)
    reference, ref_values, from_file = coded.previous_year(values, held)
    at, ref, change = _beyond_at(coded.new, values, reference, ref_values, bound_pct)
    sources = np.where(from_file[ref], "file", "warehouse")
    out = [(row, _yoy_problem(dataset, row, keys, bound_pct))
           for row in _found_rows(dataset, new, at, change, ref_values[ref], sources)]
    at, ref, change = _beyond_at(coded.new, values, coded.old, held, bound_pct)
    return out + [(row, _revision_problem(dataset, row, keys, bound_pct))
                  for row in _found_rows(dataset, new, at, change, held[ref])]


class _CodedFigures:
    """The (keys, year) of two `figures` frames as int64: equal when the texts and year are equal, and the
    next year of a key is its code + 1; the province is the low digit, so that the 2025 merger can move a
    figure to its merged province arithmetically."""

    def __init__(self, keys: list[str], new: pd.DataFrame, old: pd.DataFrame) -> None:
        self.province = "province_code" if "province_code" in keys else None
        merged = sorted({s.code for s in successors().values()}) if self.province else []
        rest_new, rest_old = np.zeros(len(new), np.int64), np.zeros(len(old), np.int64)
        for key in [k for k in keys if k != self.province]:
            (codes_new, codes_old), uniques = _factorize_both(new[key], old[key])
            rest_new, rest_old = rest_new * len(uniques) + codes_new, rest_old * len(uniques) + codes_old
            if rest_new.size and max(rest_new.max(initial=0), rest_old.max(initial=0)) > 2**31:  # keep them small
                (rest_new, rest_old), _ = _factorize_both(pd.Series(rest_new), pd.Series(rest_old))
        self.provinces: list[str] = [""]
        prov_new, prov_old = np.zeros(len(new), np.int64), np.zeros(len(old), np.int64)
        if self.province:
            (prov_new, prov_old), uniques = _factorize_both(new[self.province], old[self.province], merged)
            self.provinces = list(uniques)
        years = np.concatenate([new[YEAR].to_numpy(np.int64), old[YEAR].to_numpy(np.int64)])
        self.first_year, self.span = int(years.min()), int(years.max() - years.min()) + 2
        self.new = self._code(rest_new, prov_new, new[YEAR].to_numpy(np.int64))
        self.old = self._code(rest_old, prov_old, old[YEAR].to_numpy(np.int64))

    def _code(self, rest: np.ndarray, province: np.ndarray, year: np.ndarray) -> np.ndarray:
        return ((rest * len(self.provinces) + province) * self.span) + (year - self.first_year)

    def previous_year(self, values: np.ndarray, held: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """As `_reference_year_values`: codes moved to the next year, values, and whether from the file
        (the file's figure first, the warehouse's otherwise; across the 2025 merger summed onto the merged
        province when every predecessor is there)."""
        codes = np.concatenate([self.new, self.old])
        keep = ~pd.Index(codes).duplicated(keep="first")
        codes, refs = codes[keep], np.concatenate([values, held])[keep]
        from_file = (np.arange(len(keep)) < len(self.new))[keep]
        if self.province:
            codes, refs, from_file = self._carry_over_merger(codes, refs, from_file)
        return codes + 1, refs, from_file

    def _carry_over_merger(
        self, codes: np.ndarray, refs: np.ndarray, from_file: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`provinces.carry_over_merger` on codes: the last pre-merger year of a province that merged is
        summed onto the province it became part of, when every predecessor is there. On integers (the
        shared rule's groupby cost ≈ 25 ms a wave); the summed codes are distinct, so their order does
        not change what they are compared with."""
        provinces, span = self.provinces, self.span
        province = (codes // span) % len(provinces)
        year = codes % span + self.first_year
        moved = successors()
        position = {code: i for i, code in enumerate(provinces)}
        onto_of = np.array([position[moved[p].code] if p in moved else -1 for p in provinces], dtype=np.int64)
        moving = (onto_of[province] >= 0) & (year == last_year_before_merger())
        if not moving.any():
            return codes, refs, from_file
        per_key = len(provinces) * span
        onto, inverse = np.unique(
            self._code(codes[moving] // per_key, onto_of[province[moving]], year[moving]), return_inverse=True)
        values = refs[moving]
        sums = np.bincount(inverse, weights=np.where(np.isnan(values), 0.0, values), minlength=len(onto))
        reported = np.bincount(inverse, minlength=len(onto))
        needed = np.array([len(predecessors(p)) for p in provinces], dtype=np.int64)
        complete = reported == needed[(onto // span) % len(provinces)]
        return (np.concatenate([codes[~moving], onto[complete]]), np.concatenate([refs[~moving], sums[complete]]),
                np.concatenate([from_file[~moving], np.zeros(int(complete.sum()), bool)]))


def _factorize_both(
    new: pd.Series, old: pd.Series, extra: list[str] | None = None
) -> tuple[tuple[np.ndarray, np.ndarray], pd.Index]:
    """Codes of two columns over their shared distinct values (and `extra` ones): each column is
    factorized alone (fast on Arrow text) and only the distinct values are matched."""
    codes_new, uniques_new = pd.factorize(new)
    codes_old, uniques_old = pd.factorize(old)
    uniques = pd.Index(uniques_new)
    more = pd.Index(list(uniques_old) + list(extra or [])).difference(uniques, sort=False)
    uniques = uniques.append(more) if len(more) else uniques
    return (codes_new.astype(np.int64), uniques.get_indexer(uniques_old)[codes_old].astype(np.int64)), uniques


def _beyond_at(
    codes: np.ndarray, values: np.ndarray, reference: np.ndarray, ref_values: np.ndarray, bound_pct: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row in the new figures, row in the reference, change %) of each figure beyond the bound from a
    positive reference with the same code, in the order of the rows (then of the references)."""
    index = pd.Index(reference)
    if index.is_unique:
        right = index.get_indexer(codes)
        left = np.flatnonzero(right >= 0)
        right = right[left]
    else:
        pairs = pd.DataFrame({"code": codes, "left": np.arange(len(codes))}).merge(
            pd.DataFrame({"code": reference, "right": np.arange(len(reference))}), on="code", sort=False)
        pairs = pairs.sort_values("left", kind="stable")
        left, right = pairs["left"].to_numpy(), pairs["right"].to_numpy()
    positive = ref_values[right] > 0
    left, right = left[positive], right[positive]
    change = (values[left] / ref_values[right] - 1) * 100
    found = np.abs(change) > bound_pct + 1e-9
    return left[found], right[found], change[found]


def _found_rows(
    dataset: Dataset, new: pd.DataFrame, at: np.ndarray, change: np.ndarray, value_ref: np.ndarray,
    sources: np.ndarray | None = None,
) -> list[dict]:
    """The figures found, as the rows a finding is written from (keys as text, headline, reference)."""
    if not len(at):
        return []
    found = new.iloc[at]
    columns = {c: found[c].tolist() for c in found.columns}  # a dict per row from lists: to_dict costs 10×
    columns.update(headline=is_headline(dataset, found).tolist(), value_ref=value_ref.tolist(),
                   change_pct=change.tolist())
    if sources is not None:
        columns["source"] = sources.tolist()
    return [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def _row(f: _Figure, keys: list[str], totals: list[tuple[int, str]]) -> dict:
    """A figure as the row a finding is written from."""
    return {**dict(zip(keys, f.key, strict=True)), YEAR: f.year, "value": f.value, "status": f.status,
            "_source_sheet": f.sheet, "_source_cell": f.cell, "headline": all(f.key[i] == t for i, t in totals)}


_WHERE = {False: ("in this file", "trong tệp này"), True: ("in the warehouse", "trong kho dữ liệu")}  # by source


def _yoy_problem(dataset: Dataset, row: dict, keys: list[str], bound: float) -> Problem:
    year, change, ref = int(row[YEAR]), vn_number(round(row["change_pct"], 1)), vn_number(row["value_ref"])
    value, limit = vn_number(row["value"]), vn_number(bound)
    where_en, where_vi = _WHERE[row["source"] == "warehouse"]
    what_en, what_vi = _what(dataset, row, keys)
    return _finding(
        "yoy_plausible", row, severity_for(row["status"], bool(row["headline"])),
        f"{what_en} {year} = {value} changes by {change} % on"
        f" {year - 1} ({ref} {where_en}), beyond the plausible ±{limit} %; check the figure"
        " (or raise NIENGIAM_YOY_BOUND if the change is real)",
        f"{what_vi} năm {year} = {value} thay đổi {change} % so với"
        f" năm {year - 1} ({ref} {where_vi}), vượt ngưỡng hợp lý ±{limit} %; hãy kiểm tra lại số liệu",
        dataset.value_column, value,
    )


def _revision_problem(dataset: Dataset, row: dict, keys: list[str], bound: float) -> Problem:
    year, change, ref = int(row[YEAR]), vn_number(round(row["change_pct"], 1)), vn_number(row["value_ref"])
    value, limit = vn_number(row["value"]), vn_number(bound)
    what_en, what_vi = _what(dataset, row, keys)
    return _finding(
        "revision_plausible", row, severity_for(row["status"], bool(row["headline"])),
        f"{what_en} {year} = {value} revises the figure held for"
        f" {year} ({ref}) by {change} %, beyond the plausible ±{limit} %; check the figure",
        f"{what_vi} năm {year} = {value} điều chỉnh số đã có của năm"
        f" {year} ({ref}) {change} %, vượt ngưỡng hợp lý ±{limit} %; hãy kiểm tra lại số liệu",
        dataset.value_column, value,
    )


# --- structure shares ---------------------------------------------------------------------------


def _share_tolerance(values: pd.Series, n: int) -> float:
    return 10.0 ** -published_decimals(values) * 0.5 * (n + 1) + 1e-9


def share_findings(dataset: Dataset, frame: pd.DataFrame) -> list[Problem]:
    """Structure shares (in %) that do not add up to 100 within rounding, and totals that are not 100."""
    out: list[Problem] = []
    for rule in dataset.shares:
        scope = figures(dataset, _where(frame, rule))
        if scope.empty:
            continue
        keys = [c for c in dataset.grain if c != rule.dimension]
        parts = scope[scope[rule.dimension] != (rule.total or "")]
        for _, group in parts.groupby(keys, dropna=False):
            total, tolerance = group["value"].sum(), _share_tolerance(group["value"], len(group))
            if abs(total - 100) > tolerance:
                out.append(_share_problem(dataset, rule, group, total))
        if rule.total:
            totals = scope[scope[rule.dimension] == rule.total]
            bad = totals[(totals["value"] - 100).abs() > _share_tolerance(totals["value"], 0)]
            out += [_share_problem(dataset, rule, bad.loc[[i]], float(bad.at[i, "value"])) for i in bad.index]
    return out


def _where(frame: pd.DataFrame, rule: ShareRule | IndexRule) -> pd.DataFrame:
    for column, code in getattr(rule, "where", {}).items():
        frame = frame[frame[column] == code]
    return frame


def _share_problem(dataset: Dataset, rule: ShareRule, group: pd.DataFrame, total: float) -> Problem:
    codes = " + ".join(group[rule.dimension].astype(str))
    first = group.iloc[0]
    return _finding(
        "shares_add_to_100", first, "error",
        f"the shares {codes} add up to {vn_number(total)} %, not 100 %; fix a share",
        f"tổng tỷ trọng {codes} bằng {vn_number(total)} %, không phải 100 %; hãy sửa lại tỷ trọng",
        dataset.value_column,
    )


# --- indices against the values they index ---------------------------------------------------


def index_findings(dataset: Dataset, frame: pd.DataFrame, previous: pd.DataFrame | None) -> list[Problem]:
    """Stated indices (previous year = 100) that disagree with the values of the two years beyond rounding."""
    out: list[Problem] = []
    for rule in dataset.indices:
        keys = [c for c in dataset.grain if c not in (rule.dimension, YEAR)]
        new, old = figures(dataset, frame), figures(dataset, previous)
        stated = new[new[rule.dimension] == rule.index_code]
        values = _reference_year_values(new, old, [*keys, rule.dimension])
        values = values[values[rule.dimension] == rule.value_code].drop(columns=rule.dimension)
        this_year = new[new[rule.dimension] == rule.value_code][[*keys, YEAR, "value"]]
        merged = stated.merge(this_year, on=[*keys, YEAR], suffixes=("", "_now"))
        merged = merged.merge(values, on=[*keys, YEAR], suffixes=("", "_ref"))
        merged = merged[merged["value_ref"] > 0]
        if merged.empty:
            continue
        implied = merged["value_now"] / merged["value_ref"] * 100
        step = 10.0 ** -published_decimals(pd.concat([merged["value_now"], merged["value_ref"]]))
        tolerance = (10.0 ** -published_decimals(merged["value"]) * 0.5
                     + implied * step * 0.5 * (1 / merged["value_now"] + 1 / merged["value_ref"]) + 1e-9)
        bad = merged.assign(implied=implied)[(merged["value"] - implied).abs() > tolerance]
        out += [_index_problem(dataset, row) for row in bad.to_dict("records")]
    return out


def _index_problem(dataset: Dataset, row: dict) -> Problem:
    severity = "error" if row["source"] == "file" else severity_for(row["status"])
    implied = vn_number(round(row["implied"], 2))
    return _finding(
        "index_consistent", row, severity,
        f"the index {vn_number(row['value'])} disagrees with the values it indexes: {vn_number(row['value_now'])}"
        f" / {vn_number(row['value_ref'])} × 100 = {implied}; fix the index or a value",
        f"chỉ số {vn_number(row['value'])} không khớp với số liệu: {vn_number(row['value_now'])}"
        f" / {vn_number(row['value_ref'])} × 100 = {implied}; hãy sửa chỉ số hoặc số liệu",
        dataset.value_column,
    )


# --- a whole file against what the warehouse holds -----------------------------------------------


def history_checked(dataset_name: str) -> bool:
    """Whether any check below needs what the warehouse holds for this dataset (awards: none does)."""
    dataset = DATASETS[dataset_name]
    return bool(dataset.plausibility or dataset.indices)


def check_against_history(
    validated: ValidatedFile, previous: dict[str, pd.DataFrame], bound_pct: float = DEFAULT_YOY_BOUND_PCT
) -> ValidatedFile:
    """The file with the findings of every history-dependent check added to its errors and warnings."""
    found: list[Problem] = []
    for name, frame in validated.frames.items():
        dataset = DATASETS[name]
        held = previous.get(name)
        if dataset.plausibility:
            found += plausibility_findings(dataset, frame, held, bound_pct)
        found += index_findings(dataset, frame, held)
    return with_findings(validated, found)


def with_findings(validated: ValidatedFile, found: list[Problem]) -> ValidatedFile:
    """A copy of the file with `found` added to its errors and warnings, by severity."""
    errors = [p for p in found if p.severity == "error"]
    warnings = [p for p in found if p.severity != "error"]
    return validated.with_problems(errors, warnings)


FILE = "_file"  # the column that tells the files of a batch apart in `history_findings_by_file`
FEW_FILES = 4  # this many files or fewer are checked one by one on records: the columns cost ≈ 30 ms at least


def checked_by_file(dataset_name: str) -> bool:
    """Whether `history_findings_by_file` covers the dataset's history checks (the index check is not
    batched: no national dataset states indices; a dataset that does is checked file by file)."""
    return not DATASETS[dataset_name].indices


def history_findings_by_file(
    dataset_name: str, frame: pd.DataFrame, previous: pd.DataFrame, bound_pct: float = DEFAULT_YOY_BOUND_PCT
) -> dict[int, list[Problem]]:
    """`check_against_history`'s findings on one dataset for many files at once: `frame` holds their figures
    and `previous` each one's history, told apart by the FILE column. Each file's findings are those (and
    in the order) its own check finds; files without any are absent."""
    dataset = DATASETS[dataset_name]
    if not checked_by_file(dataset_name):
        raise ValueError(f"{dataset_name}: the index check runs file by file")
    out: dict[int, list[Problem]] = {}
    if not dataset.plausibility:
        return out
    files = frame.groupby(FILE, sort=False).indices
    if len(files) > FEW_FILES:
        for row, found in _plausibility_by_column(dataset, frame, previous, bound_pct, by=FILE):
            out.setdefault(int(row[FILE]), []).append(found)
        return out
    held = previous.groupby(FILE).indices
    for k, rows in files.items():
        mine = previous.take(held[k]) if k in held else None
        if found_here := plausibility_findings(dataset, frame.take(rows), mine, bound_pct):
            out[int(k)] = found_here
    return out

