"""The rules of docs/architecture.md, checked on the source tree with ``ast`` (not grep).

1. Only the dashboard/ui/ package and pages/ import streamlit.
2. Pages hold no SQL text and do not import duckdb.
3. No SQL text built with f-strings, ``.format`` or ``+``/``%`` reaches ``.execute()``, ``.sql()``
   or ``.raw_sql()`` in dashboard/, except the schema DDL of workspace/store.ensure_schema
   (identifiers from the SCHEMA constant) and dashboard/ingest/ (DuckDB SQL from its own names).

Each checker is also run on a small bad snippet, so a broken checker cannot pass silently.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENGINE = REPO / "dashboard"
SQL_METHODS = {"execute", "executemany", "sql", "raw_sql"}
SQL_WORDS = re.compile(
    r"\b(SELECT\s|INSERT\s+INTO|DELETE\s+FROM|UPDATE\s+\w+\s+SET|CREATE\s+(TABLE|VIEW)|"
    r"DROP\s+TABLE|ALTER\s+TABLE|ATTACH\s|COPY\s|PRAGMA\s)"
)


def relative(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def engine_files() -> list[Path]:
    return sorted(ENGINE.rglob("*.py"))


def page_files() -> list[Path]:
    return sorted((REPO / "pages").glob("*.py")) + [
        p for p in [REPO / "streamlit_app.py"] if p.exists()
    ]


def is_ui(path: Path) -> bool:
    rel = relative(path)
    return rel.startswith("dashboard/ui/")


# ---------------------------------------------------------------- checkers


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def imports_of(source: str, top: str) -> list[int]:
    """Lines that import ``top`` or a submodule of it."""
    tree = ast.parse(source)
    return [line for line, name in imported_modules(tree) if name.split(".")[0] == top]


def sql_strings(source: str) -> list[tuple[int, str]]:
    """String constants (including f-string parts) that read like SQL statements."""
    found = []
    for node in ast.walk(ast.parse(source)):
        is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
        if is_text and SQL_WORDS.search(node.value):
            found.append((node.lineno, node.value.strip()[:60]))
    return sorted(found)


def _is_dynamic_text(node: ast.AST, dynamic_names: set[str]) -> bool:
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr == "format"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        parts = (node.left, node.right)
        return any(
            isinstance(p, ast.Constant)
            and isinstance(p.value, str)
            or _is_dynamic_text(p, dynamic_names)
            for p in parts
        )
    return isinstance(node, ast.Name) and node.id in dynamic_names


def _scopes(tree: ast.AST) -> list[ast.AST]:
    return [tree] + [
        n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
    ]


def dynamic_sql_calls(source: str) -> list[tuple[int, str]]:
    """Calls ``x.execute/sql/raw_sql(text)`` whose text is built at run time.

    Returns (line, enclosing function name or "<module>"). Text counts as built when it is an
    f-string with placeholders, a ``.format`` call, string ``+``/``%``, or a local name assigned
    from one of those in the same function.
    """
    tree = ast.parse(source)
    found: set[tuple[int, str]] = set()
    for scope in _scopes(tree):
        name = getattr(scope, "name", "<module>")
        body_nodes = list(ast.walk(scope))
        dynamic_names: set[str] = set()
        for node in body_nodes:
            if isinstance(node, ast.Assign) and _is_dynamic_text(node.value, dynamic_names):
                dynamic_names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        for node in body_nodes:
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr not in SQL_METHODS:
                continue
            args = list(node.args[:1]) + [k.value for k in node.keywords if k.arg == "query"]
            if any(_is_dynamic_text(a, dynamic_names) for a in args):
                found.add((node.lineno, name))
    # a call inside a function is seen from the module scope too: keep the innermost name
    best: dict[int, str] = {}
    for line, name in sorted(found, key=lambda item: item[1] == "<module>"):
        best.setdefault(line, name)
    return sorted(best.items())


# ---------------------------------------------------------------- the checkers catch bad code

BAD_ENGINE = """
import streamlit as st
from streamlit.testing.v1 import AppTest
import duckdb

def run(con, table, limit):
    con.execute(f"SELECT * FROM {table}")
    query = "DELETE FROM " + table
    con.sql(query)
    backend.raw_sql("SELECT {}".format(limit))
    con.execute("SELECT 1 WHERE x = ?", [limit])
    con.execute(f"SELECT 1")
"""


def test_checkers_find_bad_code() -> None:
    assert imports_of(BAD_ENGINE, "streamlit") == [2, 3]
    assert imports_of(BAD_ENGINE, "duckdb") == [4]
    assert [line for line, _ in sql_strings(BAD_ENGINE)] == [7, 8, 10, 11, 12]
    # bound parameters and an f-string without placeholders are fine
    assert dynamic_sql_calls(BAD_ENGINE) == [(7, "run"), (9, "run"), (10, "run")]


# ---------------------------------------------------------------- the rules on the real tree


def test_engine_does_not_import_streamlit() -> None:
    files = engine_files()
    assert any(relative(p) == "dashboard/rfm/cut_points.py" for p in files)
    offenders = [
        f"{relative(p)}:{line}"
        for p in files
        if not is_ui(p)
        for line in imports_of(p.read_text(encoding="utf-8"), "streamlit")
    ]
    assert offenders == []


def test_importing_the_engine_does_not_load_streamlit() -> None:
    modules = [
        "dashboard." + ".".join(p.relative_to(ENGINE).with_suffix("").parts)
        for p in engine_files()
        if not is_ui(p) and p.name not in {"__init__.py", "__main__.py"}
    ]
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'streamlit'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    # the analysis module alone, as docs/architecture.md names it
    alone = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, dashboard.rfm.analysis; print('streamlit' in sys.modules)",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert alone.returncode == 0, alone.stderr
    assert alone.stdout.strip() == "False"


def test_pages_hold_no_sql_and_no_duckdb() -> None:
    offenders = []
    for path in page_files():
        source = path.read_text(encoding="utf-8")
        offenders += [f"{relative(path)}:{line}: {text!r}" for line, text in sql_strings(source)]
        offenders += [
            f"{relative(path)}:{line}: imports duckdb" for line in imports_of(source, "duckdb")
        ]
    assert offenders == []


def test_no_sql_text_built_at_run_time() -> None:
    allowed = {("dashboard/workspace/store.py", "ensure_schema")}
    offenders = []
    for path in engine_files():
        rel = relative(path)
        if rel.startswith("dashboard/ingest/"):
            continue
        for line, function in dynamic_sql_calls(path.read_text(encoding="utf-8")):
            if (rel, function) not in allowed:
                offenders.append(f"{rel}:{line} in {function}()")
    assert offenders == [], "SQL text built at run time:\n" + "\n".join(offenders)


def test_the_store_exception_is_the_schema_ddl() -> None:
    # the one allowed function exists and builds its statements from our own schema only
    source = (ENGINE / "workspace" / "store.py").read_text(encoding="utf-8")
    assert {name for _, name in dynamic_sql_calls(source)} == {"ensure_schema"}
    assert "for table, columns in SCHEMA.items()" in source
    assert "for table, names in _DROPPED_COLUMNS.items()" in source
