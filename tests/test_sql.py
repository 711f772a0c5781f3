"""niengiam sql: read-only by construction (classifier + locked-down connection), formats, files, stdin."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from python_calamine import CalamineWorkbook

from tests.analyst_helpers import cli, run_cli
from warehouse.query import QUERY_CONFIG, RefusedStatement, run_query, run_statements

pytest_plugins = ["tests.analyst_fixtures"]

# statement -> words the refusal must contain (the statement kind, and what it would do)
REFUSED = {
    "insert into meta.loads select * from meta.loads": ["INSERT", "writes"],
    "update meta.loads set status = 'failed'": ["UPDATE", "changes rows"],
    "delete from meta.loads": ["DELETE", "deletes"],
    "drop view reporting.loads": ["DROP"],
    "create table reporting.x (a int)": ["CREATE"],
    "create temp table scratch (a int)": ["CREATE"],
    "create temp macro twice(x) as x * 2": ["CREATE"],
    "alter table meta.loads add column x int": ["ALTER"],
    "attach '/tmp/other.duckdb' as other": ["ATTACH"],
    "detach memory": ["DETACH"],
    "copy (select 1) to '/tmp/out.csv'": ["COPY", "files"],
    "copy meta.loads from '/tmp/in.csv'": ["COPY", "files"],
    "copy from database memory to other": ["COPY", "database"],
    "export database '/tmp/dump'": ["EXPORT"],
    "install httpfs": ["INSTALL", "extension"],
    "load httpfs": ["LOAD", "extension"],
    "set threads = 1": ["SET", "setting"],
    "reset threads": ["RESET", "setting"],
    "set variable v = 1": ["SET"],
    "pragma threads = 1": ["PRAGMA", "setting"],
    "pragma enable_profiling": ["PRAGMA", "setting"],
    "use memory": ["USE"],
    "checkpoint": ["CHECKPOINT", "maintains"],
    "vacuum": ["VACUUM"],
    "begin transaction": ["BEGIN", "transactions"],
    "call pragma_version()": ["CALL"],
    "prepare q as select 1": ["PREPARE"],
    "merge into meta.loads using meta.loads as s on false when not matched then insert *": ["MERGE"],
    "explain analyze delete from meta.loads": ["DELETE"],
    "with x as (select 1) insert into meta.loads select * from meta.loads": ["INSERT"],
    "select * from read_csv('/etc/passwd')": ["read_csv()", "files"],
    "select * from read_csv_auto('/etc/passwd')": ["read_csv_auto()", "files"],
    "select * from read_parquet('/tmp/x.parquet')": ["read_parquet()", "files"],
    "select * from read_json('/etc/passwd')": ["read_json()", "files"],
    "select content from read_text('/etc/passwd')": ["read_text()", "files"],
    "select * from read_blob('/etc/passwd')": ["read_blob()", "files"],
    "select * from glob('/etc/*')": ["glob()", "files"],
    "select * from sniff_csv('/etc/passwd')": ["sniff_csv()", "files"],
    "select * from parquet_metadata('/tmp/x.parquet')": ["parquet_metadata()", "files"],
    "select * from '/etc/passwd'": ["/etc/passwd", "file"],
    "select * from 'data.csv'": ["data.csv", "file"],
    "select 1 where exists (select * from read_csv('/etc/passwd'))": ["read_csv()"],
    "select * from query('select 1')": ["query()", "SQL given as text"],
    "select * from query_table('reporting.loads')": ["query_table()"],
    "select getenv('HOME')": ["getenv()", "environment"],
    "select * from checkpoint()": ["checkpoint()"],
    "update extensions": ["UPDATE EXTENSIONS"],
}

ALLOWED = [
    "select count(*) from reporting.loads",
    "with x as (select 1 as a) select a from x",
    "from reporting.labels limit 1",
    "values (1), (2)",
    "describe reporting.observations",
    "show tables",
    "summarize reporting.rpt_awards",
    "pragma show_tables",
    "pragma table_info('reporting.loads')",
    "explain select * from reporting.observations",
    "pivot reporting.rpt_awards on recipient_kind using sum(award_count) group by award_code",
    "select * from duckdb_views() where schema_name = 'reporting'",
    "-- a comment first\nselect 1",
]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("statement", list(REFUSED))
def test_a_statement_that_writes_or_reaches_outside_is_refused_naming_its_kind(small_warehouse, statement):
    before = _digest(small_warehouse.database)
    with pytest.raises(RefusedStatement) as refused:
        run_statements(small_warehouse.database, statement)
    message = str(refused.value)
    for word in REFUSED[statement]:
        assert word in message, message
    assert "only reads the warehouse" in message
    assert _digest(small_warehouse.database) == before


@pytest.mark.parametrize("statement", ALLOWED)
def test_queries_run(small_warehouse, statement):
    results = run_statements(small_warehouse.database, statement)
    assert results[-1].columns


def test_a_script_with_one_bad_statement_runs_nothing(small_warehouse):
    with pytest.raises(RefusedStatement, match="statement 2: DELETE"):
        run_statements(small_warehouse.database, "select 1; delete from meta.loads; select 2")


# Statements the classifier refuses first; the connection alone must refuse them too (defence in depth).
CONNECTION_REFUSES = [
    "insert into meta.loads select * from meta.loads",
    "update meta.loads set status = 'failed'",
    "delete from meta.loads",
    "drop view reporting.loads",
    "create table reporting.x (a int)",
    "attach '/tmp/other.duckdb' as other",
    "copy (select 1) to '/tmp/niengiam-should-not-exist.csv'",
    "copy meta.loads from '/etc/passwd'",
    "export database '/tmp/niengiam-should-not-exist'",
    "install httpfs",
    "load httpfs",
    "set threads = 1",
    "pragma enable_profiling",
    "select * from read_csv('/etc/passwd')",
    "select * from read_text('/etc/passwd')",
    "select * from glob('/etc/*')",
    "select * from '/etc/passwd'",
    "select * from query('select * from read_csv(''/etc/passwd'')')",
    "create secret s (type s3, key_id 'a', secret 'b')",
]


@pytest.mark.parametrize("statement", CONNECTION_REFUSES)
def test_the_query_connection_itself_refuses_writes_files_extensions_and_settings(small_warehouse, statement):
    con = duckdb.connect(str(small_warehouse.database), read_only=True, config=QUERY_CONFIG)
    try:
        with pytest.raises(duckdb.Error):
            con.execute(statement).fetchall()
    finally:
        con.close()
    assert not Path("/tmp/niengiam-should-not-exist.csv").exists()
    assert not Path("/tmp/niengiam-should-not-exist").exists()


def test_a_wrong_query_is_one_sentence(small_warehouse):
    with pytest.raises(Exception, match="the query failed: Catalog Error"):
        run_query(small_warehouse.database, "select * from reporting.nothing_here")
    result = cli("sql", "--home", str(small_warehouse.home), "selec 1")
    assert result.exit_code == 2
    assert result.stderr.startswith("niengiam: the query is not valid SQL")
    assert "Traceback" not in result.output


def test_table_csv_and_json_to_the_terminal(small_warehouse):
    home = str(small_warehouse.home)
    table = cli("sql", "--home", home, "select award_code, award_count from reporting.rpt_awards order by 2")
    assert table.exit_code == 0
    assert table.stdout.splitlines()[0].split() == ["award_code", "award_count"]
    assert "(2 rows)" in table.stdout
    as_json = cli("sql", "--home", home, "--format", "json",
                  "select recipient_kind, award_count from reporting.rpt_awards order by 2")
    assert json.loads(as_json.stdout) == [{"recipient_kind": "individual", "award_count": 32},
                                          {"recipient_kind": "collective", "award_count": 36}]
    as_csv = cli("sql", "--home", home, "--format", "csv", "select award_count from reporting.rpt_awards order by 1")
    assert as_csv.stdout == "award_count\n32\n36\n"


def test_csv_text_that_would_be_a_formula_is_prefixed(small_warehouse):
    out = cli("sql", "--home", str(small_warehouse.home), "--format", "csv",
              "select file_name, error, -5 as negative from reporting.loads")
    lines = out.stdout.splitlines()
    assert lines[1] == "\"'=HYPERLINK(\"\"http://x\"\")\",'+cmd|calc,-5"


def test_parquet_is_written_by_niengiam_and_needs_an_output(small_warehouse, tmp_path):
    home = str(small_warehouse.home)
    refused = cli("sql", "--home", home, "--format", "parquet", "select 1")
    assert refused.exit_code == 2
    assert "--output" in refused.stderr
    target = tmp_path / "awards.parquet"
    done = cli("sql", "--home", home, "--format", "parquet", "--output", str(target),
               "select * from reporting.rpt_awards order by recipient_kind")
    assert done.exit_code == 0, done.output
    assert "Wrote 2 rows" in done.stderr
    table = pq.read_table(target)
    assert table.column("award_count").to_pylist() == [36, 32]
    assert table.column("award_name").to_pylist()[0] == "Bằng khen UBND tỉnh"


def test_xlsx_result_is_formatted_and_formulas_stay_text(small_warehouse, tmp_path):
    target = tmp_path / "loads.xlsx"
    done = cli("sql", "--home", str(small_warehouse.home), "--format", "xlsx", "-o", str(target),
               "select load_id, file_name, error, reference_years, rows_loaded, started_at from reporting.loads")
    assert done.exit_code == 0, done.output
    rows = CalamineWorkbook.from_path(str(target)).get_sheet_by_index(0).to_python()
    header = rows[2]
    assert header == ["load_id", "file_name", "error", "reference_years", "rows_loaded", "started_at"]
    assert rows[3][1] == '=HYPERLINK("http://x")'
    assert rows[3][2] == "+cmd|calc"
    with zipfile.ZipFile(target) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
        assert "<f>" not in sheet  # no formula anywhere
        assert 'state="frozen"' in sheet


def test_query_from_a_file_and_from_stdin(small_warehouse, tmp_path):
    script = tmp_path / "q.sql"
    script.write_text("-- awards\nselect sum(award_count) as total\nfrom reporting.rpt_awards;\n", encoding="utf-8")
    from_file = cli("sql", "--home", str(small_warehouse.home), "-f", str(script), "--format", "csv")
    assert from_file.stdout == "total\n68\n"
    from_stdin = cli("sql", "--home", str(small_warehouse.home), "--format", "csv",
                     input="select count(*) as n from reporting.rpt_awards;")
    assert from_stdin.stdout == "n\n2\n"


def test_several_statements_print_one_table_each(small_warehouse):
    out = cli("sql", "--home", str(small_warehouse.home), "select 1 as a; select 2 as b")
    assert out.stdout.count("(1 row)") == 2
    refused = cli("sql", "--home", str(small_warehouse.home), "--format", "csv", "select 1 as a; select 2 as b")
    assert refused.exit_code == 2
    assert "one query" in refused.stderr


def test_the_sql_path_imports_neither_prefect_nor_pandas(small_warehouse):
    probe = (
        "import sys; from flows.cli import main\n"
        "try:\n"
        f"    main(['sql', '--home', {str(small_warehouse.home)!r}, 'select 42 as answer'])\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('prefect', 'pandas', 'pandera', 'numpy'))\n"
        "print('HEAVY', heavy)\n"
    )
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=Path(__file__).parents[1],
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert "42" in done.stdout
    assert "HEAVY []" in done.stdout


def test_a_fresh_process_runs_a_query(small_warehouse):
    done = run_cli("sql", "--home", str(small_warehouse.home), "--format", "csv",
                   "select award_count from reporting.rpt_awards order by 1")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "award_count\n32\n36\n"
