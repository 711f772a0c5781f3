"""parse_batch's results travel between processes with a dataset's small frames joined (flows.parsing.Parsed):
what arrives equals what was sent, frame by frame, and a large table travels as it is."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import numpy as np
import pandas as pd

from bench import generate
from flows import parsing
from flows.parsing import Parsed, Pending, parse_batch
from flows.settings import load_settings
from niengiam.samples import write_xlsx
from schemas.datasets import distinct_rows, distinct_rows_of_parts
from schemas.pipeline import PARTITION_KEYS
from warehouse import archive


def _parsed(tmp_path: Path) -> Parsed:
    paths = [write_xlsx(generate.workbook(generate.DEFAULT_SEED, name, year, dataset),
                        tmp_path / generate.file_name(generate.slugify(name), year, dataset))
             for name in ("Cao Bằng", "Hà Tĩnh") for year in (2022, 2023) for dataset in generate.DATASETS]
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a workbook")
    pending = [Pending(archive.ArchivedFile(str(i), p, p.name, str(p), p.stat().st_size))
               for i, p in enumerate([*paths, broken])]
    return parse_batch(pending, load_settings(env={}, home=tmp_path / "home"), None, None)


def _same(sent: list[Pending], arrived: list[Pending]) -> None:
    assert len(sent) == len(arrived)
    for a, b in zip(sent, arrived, strict=True):
        assert (a.archived, a.error is None, a.failure) == (b.archived, b.error is None, b.failure)
        if a.validated is None:
            assert b.validated is None
            continue
        assert b.validated is not None and list(a.validated.frames) == list(b.validated.frames)
        for name, frame in a.validated.frames.items():
            pd.testing.assert_frame_equal(frame, b.validated.frames[name], check_exact=True)
        assert (a.validated.errors, a.validated.warnings) == (b.validated.errors, b.validated.warnings)
        assert a.validated.summary() == b.validated.summary()
        for name, frame in b.validated.frames.items():  # found on the joined table when it travelled in one
            assert b.validated.partitions(name) == distinct_rows(frame, PARTITION_KEYS)


def test_a_batch_arrives_as_it_was_sent(tmp_path: Path) -> None:
    sent = _parsed(tmp_path)
    assert isinstance(sent, Parsed) and sum(item.validated is not None for item in sent) == 12
    assert sent[-1].error is not None  # the broken file travels with its error
    _items, tables = sent.__reduce__()[1]
    assert len(tables) == 3  # one per dataset: four files' frames each
    arrived = pickle.loads(pickle.dumps(sent))
    assert all(set(item.validated.__dict__["_partitions"]) == set(item.validated.frames)
               for item in arrived if item.validated is not None)  # known on arrival, not computed again
    _same(list(sent), arrived)


def test_distinct_rows_of_parts_equals_each_part_alone() -> None:
    chance = np.random.default_rng(7)
    lengths = [0, 1, 5, 40, 3, 0, 17]
    rows = sum(lengths)
    frame = pd.DataFrame({
        "province_code": pd.Series(chance.choice(["04", "42", None], rows), dtype="str"),
        "reference_year": pd.array([None if k % 9 == 4 else int(y) for k, y in
                                    enumerate(chance.integers(2019, 2023, rows))], dtype="Int64"),
    })
    starts = np.cumsum([0, *lengths])
    alone = [distinct_rows(frame.iloc[a:b], PARTITION_KEYS) for a, b in zip(starts[:-1], starts[1:], strict=True)]
    together = distinct_rows_of_parts(frame, PARTITION_KEYS, lengths)
    assert [len(found) for found in together] == [len(found) for found in alone]
    assert [[tuple(map(str, r)) for r in found] for found in together] == \
        [[tuple(map(str, r)) for r in found] for found in alone]  # NaN and <NA> compare by their text


def test_a_large_table_travels_as_it_is(tmp_path: Path, monkeypatch) -> None:
    sent = _parsed(tmp_path)
    first = sent[0].validated
    assert first is not None
    name, frame = next(iter(first.frames.items()))
    monkeypatch.setattr(parsing, "PACK_MAX_ROWS", len(frame))
    large = Parsed([dataclasses.replace(sent[0], validated=dataclasses.replace(first, frames={name: frame})),
                    *sent[1:]])
    items, tables = large.__reduce__()[1]
    assert items[0].validated.frames[name] is frame  # not copied into a joined table
    assert all(0 not in {i for i, _, _ in members} for _, members in tables)
    _same(list(large), pickle.loads(pickle.dumps(large)))
