"""SDMX-CSV (version 2.0) for the published figures, with observation status A/P/E. Pure.

One dataflow per dataset. Columns: STRUCTURE, STRUCTURE_ID, ACTION, the dimensions (FREQ, REF_AREA and
the dataset's own), TIME_PERIOD, OBS_VALUE, then the attributes OBS_STATUS and UNIT_MEASURE.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from schemas.text import fold

AGENCY = "NIENGIAM"
VERSION = "1.0"
ACTION = "I"  # information: the full current figures, not an instruction to append or delete


@dataclass(frozen=True)
class Dataflow:
    """How one dataset maps to an SDMX dataflow: its id and which generic dimension is which."""

    dataset: str
    flow_id: str
    dimensions: tuple[tuple[str, str], ...]  # (SDMX dimension, column of reporting.observations)

    @property
    def structure_id(self) -> str:
        """AGENCY:ID(VERSION), as SDMX-CSV writes it."""
        return f"{AGENCY}:{self.flow_id}({VERSION})"

    @property
    def columns(self) -> list[str]:
        """The header of the dataflow's SDMX-CSV file."""
        dims = [name for name, _ in self.dimensions]
        return ["STRUCTURE", "STRUCTURE_ID", "ACTION", "FREQ", "REF_AREA", *dims, "TIME_PERIOD", "OBS_VALUE",
                "OBS_STATUS", "UNIT_MEASURE"]


DATAFLOWS = {
    "industrial_output": Dataflow("industrial_output", "DF_INDUSTRIAL_OUTPUT",
                                  (("INDUSTRY", "dimension_1"), ("OWNERSHIP", "dimension_2"),
                                   ("PRICE_BASIS", "dimension_3"))),
    "trade": Dataflow("trade", "DF_TRADE", (("TRADE_FLOW", "dimension_1"), ("PRODUCT_GROUP", "dimension_2"))),
    "awards": Dataflow("awards", "DF_AWARDS", (("AWARD", "dimension_1"), ("RECIPIENT_KIND", "dimension_2"))),
    "iip": Dataflow("iip", "DF_IIP", (("INDUSTRY", "dimension_1"), ("PERIOD", "dimension_2"), ("BASE", "dimension_3"))),
    "indicators": Dataflow("indicators", "DF_INDICATORS",
                           (("INDICATOR", "indicator"), ("BREAKDOWN", "dimension_1"), ("PERIOD", "dimension_2"),
                            ("MEASURE", "dimension_3"))),
}


def sdmx_code(value: Any) -> str:
    """A code as SDMX likes it: ASCII upper case, digits and underscores ('giá so sánh 2010' -> GIA_SO_SANH_2010)."""
    if value is None:
        return ""
    text = str(value)
    ascii_text = text if text.isascii() else fold(text)
    return re.sub(r"[^A-Z0-9_]+", "_", ascii_text.upper()).strip("_")


def observation_row(flow: Dataflow, obs: dict[str, Any]) -> list[Any]:
    """One SDMX-CSV line for one figure."""
    dims = [sdmx_code(obs[column]) for _, column in flow.dimensions]
    return ["dataflow", flow.structure_id, ACTION, "A", obs["province_code"], *dims, str(obs["reference_year"]),
            _number(obs["value"]), obs.get("sdmx_code") or "", sdmx_code(obs["unit"])]


def _number(value: Any) -> Any:
    """Blank for a missing value; 6.0 written as 6."""
    if value is None:
        return ""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def sdmx_tables(observations: list[dict[str, Any]]) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Dataflow id -> (columns, rows) for every dataset that has a dataflow."""
    tables: dict[str, tuple[list[str], list[list[Any]]]] = {}
    for obs in observations:
        flow = DATAFLOWS.get(obs["dataset"])
        if flow is None:
            continue
        tables.setdefault(flow.flow_id, (flow.columns, []))[1].append(observation_row(flow, obs))
    return tables
