"""The benchmark's tables, from a results document (what bench/results/latest.json holds).

``python -m bench.report`` prints the Markdown table of bench/results/latest.json, the one the
README shows; ``python -m bench.report --readme`` puts it into README.md between the
``<!-- bench:latest -->`` markers. The benchmark run prints the text table and writes latest.md
the same way.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.targets import describe_holds

LATEST = Path(__file__).resolve().parent / "results" / "latest.json"
README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- bench:latest -->", "<!-- /bench:latest -->"
Document = Mapping[str, Any]
HEADER = (
    "target",
    "what",
    "size",
    "ours",
    "reference",
    "reference value",
    "ratio",
    "limit",
    "holds",
)


def format_value(value: float | None, unit: str) -> str:
    """Return a measured value with its unit: ``12.3 ms``, ``4.02 s``, ``812 MB``."""
    if value is None:
        return "n/a"
    if unit == "MB":
        return f"{value:,.0f} MB"
    if value < 1:
        return f"{value * 1000:.1f} ms"
    return f"{value:.2f} s" if value < 100 else f"{value:.0f} s"


def format_ratio(ratio: float | None) -> str:
    """Return a ratio as ``2.50x`` (``n/a`` when the reference took no measurable time)."""
    return "n/a" if ratio is None else f"{ratio:.2f}x"


def format_limit(entry: Mapping[str, Any]) -> str:
    """Return an entry's limit (``<= 1.30x``, plus ``and <= 20 ms`` for target 2), or ``-``."""
    if entry.get("limit") is None:
        return "-"
    text = f"<= {entry['limit']:.2f}x"
    if entry.get("limit_s") is not None:
        text += f" and <= {format_value(entry['limit_s'], 's')}"
    return text


def format_target(entry: Mapping[str, Any]) -> str:
    """Return ``3`` for a target's criterion, ``(3)`` for an informational entry."""
    target = entry.get("target")
    if target is None:
        return "-"
    return str(target) if entry.get("role") == "target" else f"({target})"


def format_size(entry: Mapping[str, Any]) -> str:
    """Return the size label with what it counts (``1m: 1M customers``) when known."""
    return f"{entry['size']}: {entry['scale']}" if entry.get("scale") else entry["size"]


def build_rows(entries: Sequence[Mapping[str, Any]]) -> list[tuple[str, ...]]:
    """Return one table row per entry, targets before informational entries of each target."""
    ordered = sorted(
        entries, key=lambda e: (e.get("target") or 99, e.get("role") != "target", e["size"])
    )
    rows = []
    for e in ordered:
        rows.append(
            (
                format_target(e),
                e["name"],
                format_size(e),
                format_value(e["median"], e["unit"]),
                e["reference"],
                format_value(e["reference_median"], e["unit"]),
                format_ratio(e.get("ratio")),
                format_limit(e),
                format_holds(e),
            )
        )
    return rows


def format_holds(entry: Mapping[str, Any]) -> str:
    """Return an entry's verdict: a target's ``yes``/``NO``, a check's ``yes, identical results``
    (``-`` for other entries), with `` (MISMATCH)`` when the two sides computed different
    results."""
    role, holds = entry.get("role"), entry.get("holds")
    text = "-"
    if role == "target":
        text = describe_holds(holds)
    elif role == "check":
        text = "yes, identical results" if holds else describe_holds(holds)
    if entry.get("agrees") is False:
        text += " (MISMATCH)"
    return text


def format_table(entries: Sequence[Mapping[str, Any]]) -> str:
    """Return the entries as an aligned text table."""
    return align([HEADER, *build_rows(entries)])


def format_markdown_table(entries: Sequence[Mapping[str, Any]]) -> str:
    """Return the entries as a Markdown table."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for row in build_rows(entries):
        cells = [cell.replace("|", "\\|") for cell in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_verdicts(document: Document) -> str:
    """Return one line per target and size (holds, does not hold, or skipped and why), then one
    per check entry (identical results or not, both times)."""
    judged = {
        (entry.get("criterion"), entry["size"]): entry.get("holds")
        for entry in document.get("entries", [])
        if entry.get("role") == "target"
    }
    lines = []
    for verdict in document.get("targets", []):
        text = {True: "holds", False: "DOES NOT HOLD", None: "not judged"}[verdict["holds"]]
        criteria = ", ".join(
            f"{name} {describe_holds(judged.get((name, verdict['size'])))}"
            for name in verdict["criteria"]
        )
        lines.append(f"target {verdict['target']} at {verdict['size']}: {text} ({criteria})")
    for skip in document.get("skipped", []):
        done = "measured, not judged" if skip.get("measured") else "skipped"
        lines.append(f"target {skip['target']} at {skip['size']}: {done}, {skip['reason']}")
    checks = [
        f"{entry['name']} at {entry['size']}: "
        + ("identical results" if entry.get("holds") else "RESULTS DIFFER")
        + f" ({format_value(entry['median'], 's')} against {entry['reference']} "
        f"{format_value(entry['reference_median'], 's')})"
        for entry in document.get("entries", [])
        if entry.get("role") == "check"
    ]
    return "\n".join([*sorted(lines, key=lambda line: line.split(" at ")[0]), *checks])


def describe_machine(machine: Mapping[str, Any]) -> str:
    """Return one sentence on the machine and the run: CPUs, memory, load, versions, when."""
    versions = machine.get("versions", {})
    settings = machine.get("settings", {})
    return (
        f"{machine.get('cpu_count')} CPUs ({machine.get('cpu_model') or 'unknown model'}), "
        f"{(machine.get('memory_total_mb') or 0) / 1024:.0f} GB memory, "
        f"{machine.get('platform')}, Python {machine.get('python')}, "
        f"DuckDB {versions.get('duckdb')}, Streamlit {versions.get('streamlit')}; "
        f"sizes {','.join(settings.get('sizes', []))}, median of {settings.get('repeat')} runs; "
        f"load average {machine.get('load_average_1m_at_end')} at the end; "
        f"{machine.get('timestamp')}"
        + (f"; {machine['duration_s']:.0f} s in all" if machine.get("duration_s") else "")
        + "."
    )


def format_markdown(document: Document) -> str:
    """Return the README's benchmark table: machine, table, verdicts and notes."""
    notes = sorted({e["note"] for e in document.get("entries", []) if e.get("note")})
    parts = [
        f"Machine: {describe_machine(document.get('machine', {}))}",
        format_markdown_table(document.get("entries", [])),
        "\n".join(f"- {line}" for line in format_verdicts(document).splitlines()),
    ]
    if notes:
        parts.append("\n".join(f"- Note: {note}" for note in notes))
    if document.get("mismatches"):
        parts.append("**Invalid run: ours and a reference disagreed.**")
    return "\n\n".join(parts) + "\n"


def align(rows: list[tuple[str, ...]]) -> str:
    """Return rows as columns padded to their widest cell (text left, numbers right)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    numeric = [all(is_number(row[i]) for row in rows[1:]) for i in range(len(widths))]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(row, widths, numeric, strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def is_number(text: str) -> bool:
    """Return whether a table cell holds a number (possibly with a unit or an ``x`` suffix)."""
    if text == "n/a":
        return True
    head = text.split(" ")[0].replace(",", "").rstrip("x")
    try:
        float(head)
    except ValueError:
        return False
    return True


def splice_section(text: str, content: str) -> str:
    """Return ``text`` with what stands between the START and END markers replaced."""
    if text.count(START) != 1 or text.count(END) != 1 or text.index(START) > text.index(END):
        raise ValueError(f"expected one {START} ... {END} section")
    head, rest = text.split(START)
    tail = rest.split(END)[1]
    return f"{head}{START}\n\n{content.strip()}\n\n{END}{tail}"


def main(argv: Sequence[str]) -> int:
    """Print the Markdown table of latest.json (or the file given); ``--readme``: update README."""
    paths = [arg for arg in argv if arg != "--readme"]
    path = Path(paths[0]) if paths else LATEST
    markdown = format_markdown(json.loads(path.read_text(encoding="utf-8")))
    if "--readme" in argv:
        README.write_text(splice_section(README.read_text(encoding="utf-8"), markdown), "utf-8")
        print(f"Updated {README.name} from {path.name}.")
    else:
        print(markdown, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
