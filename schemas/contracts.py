"""pandera contracts per dataset, validated lazily; failures become Problems that point at cells."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import sys
import types
from collections.abc import Callable
from functools import cache, partial

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.dtypes import immutable
from pandera.engines import pandas_engine
from pandera.typing import Series

from schemas.catalogs import load_catalog
from schemas.crosschecks import share_findings, vn_number
from schemas.datasets import DATASETS, FLOW_UNITS, Dataset, cell_columns, total_findings
from schemas.problems import Problem, problem
from schemas.provinces import place_on_map
from schemas.units import canonical_units, to_canonical_units


def _pandas_only_typing() -> None:
    """Tell pandera that Dask dataframes are not in play, so it does not import dask.dataframe.

    The first model to build its schema asks pandera which index types exist, and pandera answers by
    importing `dask.dataframe` when Dask is installed (it is, for the Dask task runner): ≈ 1 s of every
    cold ingest. niengiam's contracts are pandas models only; where dask.dataframe is already loaded the
    real module is cheap and is left alone.
    """
    if "pandera.typing.dask" in sys.modules or "dask.dataframe" in sys.modules:
        return
    stub = types.ModuleType("pandera.typing.dask", "niengiam: pandas models only (see schemas/contracts.py)")
    stub.DASK_INSTALLED = False  # type: ignore[attr-defined]
    sys.modules["pandera.typing.dask"] = stub


_pandas_only_typing()

FIRST_YEAR = 1975
STATUSES = ("final", "preliminary", "estimate")


def _known(series: pd.Series, catalog: str) -> pd.Series:
    """Values must be codes of a catalogue (read when the check runs, not at import)."""
    return series.isin(load_catalog(catalog).codes)


Code = partial(pa.Field, nullable=False)
Lineage = partial(pa.Field, nullable=True)


class _Base(pa.DataFrameModel):
    province_code: Series[str] = Code()
    reference_year: Series[int] = Code()
    status: Series[str] = Code(isin=STATUSES)
    _source_sheet: Series[str] = Lineage()
    _source_cell: Series[str] = Lineage()

    class Config:
        coerce = True
        strict = False

    @pa.check("province_code", name="known_code:provinces")
    def known_province(cls, s: pd.Series) -> pd.Series:
        return _known(s, "provinces")

    @pa.check("reference_year", name="year_range")
    def year_in_range(cls, s: pd.Series) -> pd.Series:
        return s.between(FIRST_YEAR, dt.date.today().year)


class IndustrialOutput(_Base):
    """Grain: one value per province, year, industry, ownership type, price basis and base year."""

    industry_code: Series[str] = Code()
    ownership_code: Series[str] = Code()
    price_basis: Series[str] = Code(isin=["current", "constant"])
    base_year: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    value_bn_vnd: Series[float] = Code(ge=0)
    unit: Series[str] = Code(isin=["bn_vnd"])

    class Config:
        unique = list(DATASETS["industrial_output"].grain)

    @pa.check("industry_code", name="known_code:industries")
    def known_industry(cls, s: pd.Series) -> pd.Series:
        return _known(s, "industries")

    @pa.check("ownership_code", name="known_code:ownership")
    def known_ownership(cls, s: pd.Series) -> pd.Series:
        return _known(s, "ownership")

    @pa.dataframe_check(name="total_equals_parts")
    def totals_add_up(cls, df: pd.DataFrame) -> pd.Series:
        return _totals_ok(DATASETS["industrial_output"], df)


class Trade(_Base):
    """Grain: one value per province, year, trade flow and product or service group."""

    flow_code: Series[str] = Code()
    product_group_code: Series[str] = Code()
    value: Series[float] = Code(ge=0)
    unit: Series[str] = Code(isin=["mn_usd", "bn_vnd"])

    class Config:
        unique = list(DATASETS["trade"].grain)

    @pa.check("flow_code", name="known_code:trade_flows")
    def known_flow(cls, s: pd.Series) -> pd.Series:
        return _known(s, "trade_flows")

    @pa.check("product_group_code", name="known_code:trade_groups")
    def known_group(cls, s: pd.Series) -> pd.Series:
        return _known(s, "trade_groups")

    @pa.dataframe_check(name="unit_matches_flow")
    def unit_matches_flow(cls, df: pd.DataFrame) -> pd.Series:
        expected = df["flow_code"].map(FLOW_UNITS)
        return expected.isna() | (expected == df["unit"])

    @pa.dataframe_check(name="total_equals_parts")
    def totals_add_up(cls, df: pd.DataFrame) -> pd.Series:
        return _totals_ok(DATASETS["trade"], df)


class Awards(_Base):
    """Grain: one count per province, year, award and recipient kind (collective or individual)."""

    award_code: Series[str] = Code()
    recipient_kind: Series[str] = Code(isin=["collective", "individual"])
    award_count: Series[float] = Code(ge=0)
    unit: Series[str] = Code(isin=["count"])

    class Config:
        unique = list(DATASETS["awards"].grain)

    @pa.check("award_code", name="known_code:awards")
    def known_award(cls, s: pd.Series) -> pd.Series:
        return _known(s, "awards")

    @pa.check("award_count", name="integral")
    def whole_counts(cls, s: pd.Series) -> pd.Series:
        return (s % 1) == 0


class Targets(_Base):
    """Grain: one bound (lower or upper) per province, plan (start year to reference year) and indicator."""

    plan_start_year: Series[int] = Code()
    indicator_code: Series[str] = Code()
    bound: Series[str] = Code(isin=["lower", "upper"])
    target_value: Series[float] = Code()
    unit: Series[str] = Code()

    class Config:
        unique = list(DATASETS["targets"].grain)

    @pa.check("reference_year", name="year_range")
    def year_in_range(cls, s: pd.Series) -> pd.Series:
        return s.between(FIRST_YEAR, dt.date.today().year + PLAN_HORIZON_YEARS)

    @pa.check("indicator_code", name="known_code:indicators")
    def known_indicator(cls, s: pd.Series) -> pd.Series:
        return _known(s, "indicators")

    @pa.dataframe_check(name="plan_period")
    def plan_in_order(cls, df: pd.DataFrame) -> pd.Series:
        return df["plan_start_year"] <= df["reference_year"]

    @pa.dataframe_check(name="unit_matches_indicator")
    def unit_matches_indicator(cls, df: pd.DataFrame) -> pd.Series:
        expected = canonical_units(DATASETS["targets"], df)
        return expected.isna() | (expected == df["unit"])

    @pa.dataframe_check(name="bounds_in_order")
    def lower_below_upper(cls, df: pd.DataFrame) -> pd.Series:
        keys = [c for c in DATASETS["targets"].grain if c != "bound"]
        lower = df[df["bound"] == "lower"].set_index(keys)["target_value"]
        upper = df[df["bound"] == "upper"].set_index(keys)["target_value"]
        both = pd.concat([lower.rename("lower"), upper.rename("upper")], axis=1).dropna()
        bad = set(both[both["lower"] > both["upper"]].index)
        return ~pd.Series([tuple(r) in bad for r in df[keys].itertuples(index=False)], index=df.index, dtype=bool)


CONTRACTS: dict[str, type[_Base]] = {
    "industrial_output": IndustrialOutput,
    "trade": Trade,
    "awards": Awards,
    "targets": Targets,
}
PLAN_HORIZON_YEARS = 30
BUILTIN_RULES = {"greater_than_or_equal_to": "non_negative", "isin": "in_list"}
PLAN_RULES = {
    "plan_period": (
        "the plan starts after the year it ends; check the start year ('Từ năm') and the end year ('Đến năm')",
        "năm bắt đầu kế hoạch sau năm kết thúc; hãy kiểm tra 'Từ năm' và 'Đến năm'",
    ),
    "bounds_in_order": (
        "the lower bound of this target is above its upper bound; fix one of them",
        "cận dưới của chỉ tiêu lớn hơn cận trên; hãy sửa lại một trong hai",
    ),
}


def _totals_ok(dataset: Dataset, df: pd.DataFrame) -> pd.Series:
    bad = [f.index for f in total_findings(dataset, df)]
    return pd.Series(~df.index.isin(bad), index=df.index)


def validate(dataset_name: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
    """Validate lazily (every problem at once); returns the coerced frame and the problems found.

    Before the contract runs, figures are converted into the dataset's canonical unit (the written value
    and unit kept) and figures of 2025 on are placed on the provinces formed on 2025-07-01.
    """
    frame, problems = prepare(dataset_name, frame)
    checked, found = check_contract(dataset_name, frame)
    return checked, problems + found


def prepare(dataset_name: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
    """What runs before the contract: canonical units, the 2025 map, and the structure shares."""
    return _prepare(DATASETS[dataset_name], frame)


def _prepare(dataset: Dataset, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
    frame, problems = place_on_map(to_canonical_units(dataset, frame), dataset.boundary_year)
    return frame, problems + share_findings(dataset, frame)


def check_contract(dataset_name: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
    """The dataset's pandera contract over a prepared frame: the coerced frame, or the frame and its problems."""
    try:
        return _schema(dataset_name).validate(frame, lazy=True), []
    except pa.errors.SchemaErrors as exc:
        return frame, failures_to_problems(DATASETS[dataset_name], frame, exc.failure_cases)


BATCH_FILE = "_batch_file"
UNIT_COLUMNS = ("unit", "original_value", "original_unit")  # with the value column: what the units change


def validate_together(
    dataset_name: str, frames: list[pd.DataFrame], keep_cells: bool = True
) -> list[pd.DataFrame] | None:
    """`validate` of each frame, done once for all of them; None if anything fails, or where the batch
    could differ from the frames alone (the caller then validates each frame alone, which names every
    problem's file and cell). `keep_cells=False`: the frames come without their cell columns
    (`_cell_<field>`, which only name a problem's cell), left out of the batch before it is cut.

    pandas and pandera cost about the same for a few hundred rows as for thousands, so the frames are
    prepared and checked as one batch with a column naming each row's file (`_prepare_together`): the
    contract's uniqueness is within a file, and every dataframe-level check that looks beyond its row
    (totals against their parts, bounds in order) runs file by file. A file passes here exactly when it
    passes alone.
    """
    batch = _prepare_together(dataset_name, frames)
    if batch is None:
        return None
    try:  # in place: the batch is this function's own; eagerly: the first failure is enough to know
        checked = _batch_schema(dataset_name).validate(batch, inplace=True)
    except (pa.errors.SchemaError, pa.errors.SchemaErrors):
        return None
    return _file_frames(dataset_name, checked, frames, keep_cells)


def _prepare_together(dataset_name: str, frames: list[pd.DataFrame]) -> pd.DataFrame | None:
    """`prepare` of each frame, done once on the frames concatenated and marked by BATCH_FILE; None for a
    single frame, where a problem is found (preparing each frame alone says whose), and where the frames'
    value and unit columns are typed differently (the types the unit conversion gives depend on them).

    Units are converted and provinces placed row by row, and shares add up within each file (the file is
    one more key of the grain), so otherwise the batch holds each frame's rows as `prepare` leaves them.
    """
    dataset = DATASETS[dataset_name]
    columns = [dataset.value_column, "unit"]
    if len(frames) < 2 or not all(c in f.columns for f in frames for c in columns):
        return None
    if len({tuple(str(f[c].dtype) for c in columns) for f in frames}) > 1:
        return None
    batch = pd.concat(frames, ignore_index=True)
    batch[BATCH_FILE] = np.repeat(np.arange(len(frames), dtype=np.int64), [len(f) for f in frames])
    prepared, problems = _prepare(_by_file(dataset), batch)
    return None if problems else prepared


def _file_frames(
    dataset_name: str, checked: pd.DataFrame, frames: list[pd.DataFrame], keep_cells: bool = True
) -> list[pd.DataFrame]:
    """Each frame's rows of the checked batch, as `validate` gives them for the frame alone: its own
    columns (less the cell columns unless `keep_cells`) and index, then the written value and unit where it
    lacked them; a column the contract does not coerce and the unit conversion does not write keeps the
    frame's type (concatenation may have widened it)."""
    del checked[BATCH_FILE]
    left_out = set() if keep_cells else set(cell_columns(checked.columns))
    for column in left_out:
        del checked[column]
    columns = checked.columns.tolist()
    types = dict(zip(columns, checked.dtypes.tolist(), strict=True))
    typed_here = set(_batch_schema(dataset_name).columns) | {DATASETS[dataset_name].value_column, *UNIT_COLUMNS}
    out, start = [], 0
    for frame in frames:
        own = [c for c in frame.columns.tolist() if c not in left_out]
        wanted = [*own, *(c for c in UNIT_COLUMNS if c not in own)]
        part = checked.iloc[start:start + len(frame)]
        start += len(frame)
        if wanted != columns:
            part = part[wanted]
        part.index = frame.index  # the part is a frame of its own: no copy for a new index
        kept = [c for c, t in zip(frame.columns.tolist(), frame.dtypes.tolist(), strict=True)
                if c not in typed_here and c not in left_out and t != types[c]]
        out.append(part.assign(**{c: frame[c] for c in kept}) if kept else part)
    return out


ROW_BY_ROW_CHECKS = {"unit_matches_flow", "unit_matches_indicator", "plan_period", "value_or_reason"}
"""Dataframe-level checks whose result for a row depends on that row alone: they run on the whole batch.
Any other runs file by file (`_file_by_file`), which is right whatever the check looks at."""


def _by_file(dataset: Dataset) -> Dataset:
    """The dataset with the batch's file as one more dimension of its grain."""
    return dataclasses.replace(dataset, dimensions=(*dataset.dimensions, BATCH_FILE))


@cache
def _schema(dataset_name: str) -> pa.DataFrameSchema:
    """The dataset's contract as validated: the model's schema, its text columns checked once (`_Text`)."""
    return _text_checked_once(copy.deepcopy(CONTRACTS[dataset_name].to_schema()))  # the model's stays as it is


@cache
def _batch_schema(dataset_name: str) -> pa.DataFrameSchema:
    """The contract for frames of several files marked by BATCH_FILE (see validate_together)."""
    schema = copy.deepcopy(_schema(dataset_name))
    by_file = _by_file(DATASETS[dataset_name])
    schema.checks = [
        # totals against their parts: one pass over the batch, with the file as one more key of the grain
        pa.Check(partial(_totals_ok, by_file), name=check.name) if check.name == "total_equals_parts"
        else check if check.name in ROW_BY_ROW_CHECKS
        else pa.Check(partial(_file_by_file, check._check_fn), name=check.name)
        for check in schema.checks
    ]
    schema.unique = [*schema.unique, BATCH_FILE] if schema.unique else None
    return schema


@immutable(init=True)
class _Text(pandas_engine.STRING):
    """pandera's text type, whose check of a column of that type answers True once, not once for each row.

    Given a row-by-row answer, pandera builds a table of the (no) failing rows and formats it into a
    message for every text column of every validation, passed or not: ≈ 15 % of validating a batch. Any
    other answer (a column of another type) is pandera's own."""

    def check(self, pandera_dtype: object, data_container: object = None) -> object:  # type: ignore[override]
        found = super().check(pandera_dtype, data_container)  # type: ignore[arg-type]
        return True if not isinstance(found, bool) and bool(np.all(np.asarray(found))) else found


def _text_checked_once(schema: pa.DataFrameSchema) -> pa.DataFrameSchema:
    """The schema with its text columns typed `_Text` (in place)."""
    for column in schema.columns.values():
        if type(column.dtype) is pandas_engine.STRING:
            column.dtype = _Text(column.dtype.storage)
    return schema


def _file_by_file(check: Callable[[pd.DataFrame], object], batch: pd.DataFrame) -> pd.Series:
    """A dataframe-level check run on each file's rows of the batch, its results put back together."""
    results = []
    for _, rows in batch.groupby(BATCH_FILE, sort=False):
        result = check(rows)
        results.append(result if isinstance(result, pd.Series) else pd.Series(bool(result), index=rows.index))
    return pd.concat(results).reindex(batch.index, fill_value=False)


COLUMN_WORDS = {
    "value_bn_vnd": "value",
    "award_count": "count",
    "reference_year": "year",
}


def failures_to_problems(dataset: Dataset, frame: pd.DataFrame, failures: pd.DataFrame) -> list[Problem]:
    """One Problem per failing row and rule, located at the cell the rule is about."""
    totals = {f.index: f for f in total_findings(dataset, frame)} if dataset.hierarchies else {}
    problems: list[Problem] = []
    seen: set[tuple[object, str]] = set()
    for case in failures.itertuples(index=False):
        check = CHECK_NAMES.get(str(case.check), str(case.check))
        rule, _, detail = check.partition(":")
        rule = BUILTIN_RULES.get(rule.split("(")[0], rule)
        index = case.index
        dataframe_level = case.schema_context == "DataFrameSchema"
        key = (index, check if dataframe_level else f"{check}/{case.column}")
        if key in seen:
            continue
        seen.add(key)
        problems.append(_problem_for(dataset, frame, case, rule, detail, totals))
    return problems


def _cell(frame: pd.DataFrame, index: object, column: str | None) -> tuple[str | None, str | None]:
    if index is None or pd.isna(index) or index not in frame.index:
        return None, None
    row = frame.loc[index]
    cell_column = f"_cell_{column}"
    cell = row.get(cell_column) if column and cell_column in frame.columns else None
    if not isinstance(cell, str):
        cell = row.get("_source_cell")
    return row.get("_source_sheet"), cell


def _problem_for(
    dataset: Dataset, frame: pd.DataFrame, case: object, rule: str, detail: str, totals: dict
) -> Problem:
    column = getattr(case, "column", None)
    value = getattr(case, "failure_case", None)
    index = getattr(case, "index", None)
    what = COLUMN_WORDS.get(str(column), str(column).replace("_code", "").replace("_", " "))
    if rule == "multiple_fields_uniqueness":
        sheet, cell = _cell(frame, index, None)
        key = ", ".join(str(frame.at[index, c]) for c in dataset.grain) if index in frame.index else ""
        return problem("unique", sheet=sheet, cell=cell, column=None, value=key, what=f"figure ({key})")
    if rule in PLAN_RULES:
        sheet, cell = _cell(frame, index, None)
        return Problem(rule, *PLAN_RULES[rule], sheet=sheet, cell=cell)
    if rule in ("total_equals_parts", "unit_matches_flow", "unit_matches_indicator"):
        sheet, cell = _cell(frame, index, None)
        found = totals.get(index)
        if rule == "total_equals_parts" and found is not None:
            return problem(
                found.rule,
                sheet=sheet,
                cell=cell,
                column=dataset.value_column,
                value=_fmt(found.total),
                total=_fmt(found.total),
                parts=f"{_fmt(found.parts)} ({' + '.join(found.part_codes)})",
                diff=_fmt(abs(found.total - found.parts)),
            )
        unit = frame.at[index, "unit"] if index in frame.index else value
        if rule == "unit_matches_indicator":
            wanted = canonical_units(dataset, frame.loc[[index]]).iloc[0] if index in frame.index else None
            return problem("unit", sheet=sheet, cell=cell, column="unit", value=unit, allowed=f"this indicator is in {wanted}")
        return problem("unit", sheet=sheet, cell=cell, column="unit", value=unit, allowed="triệu USD for trade flows, tỷ đồng for retail")
    sheet, cell = _cell(frame, index, str(column))
    if rule in ("non_negative", "integral", "year_range"):
        return problem(rule, sheet=sheet, cell=cell, column=str(column), value=value, what=what,
                       low=FIRST_YEAR, high=dt.date.today().year)
    if rule == "known_code":
        return problem("known_code", sheet=sheet, cell=cell, column=str(column), value=value, what=what, catalog=detail)
    if rule == "in_list":
        return problem("in_list", sheet=sheet, cell=cell, column=str(column), value=value, what=detail or what, allowed="see the layout spec")
    if rule in ("not_nullable", "coerce_dtype") or rule.startswith(("coerce_dtype", "dtype", "not_nullable")):
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return problem("not_null", sheet=sheet, cell=cell, column=str(column), what=what)
        return problem("number", sheet=sheet, cell=cell, column=str(column), value=value)
    return problem("table", sheet=sheet, cell=cell, column=str(column),
                   detail=f"{what} {value!r} fails the rule {rule}",
                   detail_vi=f"{what} {value!r} không đạt quy tắc {rule}")


_fmt = vn_number


# --- contracts of the datasets read by format-2 layout specs ----------------------------------------

PERIOD_PATTERN = r"^(?:Y|FY|M(?:[1-9]|1[0-2])|Q[1-4]|M1-M(?:[1-9]|1[0-2]))$"
BASES = ("same_period_previous_year", "previous_period", "plan", "other")
AREA_PATTERN = r"^[A-Z]{2}$"  # a foreign area as an ISO 3166 alpha-2 code (e.g. AU), beside province codes


class IndustrialProductionIndex(_Base):
    """Grain: one index (%) per area, year, period, industry (VSIC) and comparison base."""

    period: Series[str] = Code(str_matches=PERIOD_PATTERN)
    industry_code: Series[str] = Code(str_matches=r"^(?:TOTAL|[A-U](?:\d{2})?)$")
    base: Series[str] = Code(isin=BASES)
    index_pct: Series[float] = Code(ge=0)
    unit: Series[str] = Code(isin=["percent"])
    industry_label: Series[str] = pa.Field(nullable=True)
    period_label: Series[str] = pa.Field(nullable=True)

    class Config:
        unique = list(DATASETS["iip"].grain)


class Indicators(pa.DataFrameModel):
    """Grain: one figure per source, table, area, year, period, indicator, dimension path, measure and base."""

    province_code: Series[str] = Code()
    reference_year: Series[int] = Code()
    source: Series[str] = Code()
    table_id: Series[str] = Code()
    indicator_code: Series[str] = Code()
    dimension_path: Series[str] = pa.Field(nullable=True)
    period: Series[str] = Code(str_matches=PERIOD_PATTERN)
    measure: Series[str] = pa.Field(nullable=True)
    base: Series[str] = pa.Field(nullable=True, isin=list(BASES))
    value: Series[float] = pa.Field(nullable=True)
    unit: Series[str] = pa.Field(nullable=True)
    unit_multiplier: Series[float] = Code(gt=0)
    missing_reason: Series[str] = pa.Field(nullable=True)
    status: Series[str] = Code(isin=STATUSES)
    _source_sheet: Series[str] = Lineage()
    _source_cell: Series[str] = Lineage()

    class Config:
        coerce = True
        strict = False
        unique = list(DATASETS["indicators"].grain)

    @pa.check("province_code", name="known_code:provinces")
    def known_area(cls, s: pd.Series) -> pd.Series:
        return _known(s, "provinces") | s.str.fullmatch(AREA_PATTERN)

    @pa.check("reference_year", name="year_range")
    def indicator_year_in_range(cls, s: pd.Series) -> pd.Series:
        return s.between(1900, dt.date.today().year + 1)

    @pa.dataframe_check(name="value_or_reason")
    def value_or_reason(cls, df: pd.DataFrame) -> pd.Series:
        return df["value"].notna() | df["missing_reason"].notna()


CONTRACTS["iip"] = IndustrialProductionIndex
CONTRACTS["indicators"] = Indicators  # type: ignore[assignment]


def _declared_check_names(models: list[type]) -> dict[str, str]:
    """Function name -> declared rule name of every custom check, read before any schema is built.

    pandera pops `name` from a check's shared config when it builds the first model's schema, so a
    second model inheriting the check (IIP, say, after industrial output) reports the function name.
    """
    names: dict[str, str] = {}
    for model in models:
        for klass in model.__mro__:
            for fn_name, attr in vars(klass).items():
                info = getattr(attr, "__check_config__", None) or getattr(attr, "__dataframe_check_config__", None)
                if info is not None and info.check_kwargs.get("name"):
                    names[fn_name] = info.check_kwargs["name"]
    return names


CHECK_NAMES = _declared_check_names(list(CONTRACTS.values()))
