"""Every CLI command's output on the demo store, written to a folder, and two folders compared.

Run once before and once after a restructure (the restructure issue asks that every command's
output be byte-identical except where it names a fix):

    python -m bench.cli_snapshot write DIR     # builds the demo store in a temp workspace
    python -m bench.cli_snapshot compare OLD NEW

``write`` runs each command of ``COMMANDS`` as a subprocess (``python -m dashboard ...``) and
keeps its stdout, stderr, exit status and every file it wrote. Lines that hold the temporary
workspace's path or a wall-clock time are normalised first, so two runs compare byte for byte.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DATASET = "demo"
# (name, arguments after `python -m dashboard`); {ws} is the workspace, {out} the output folder.
COMMANDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("datasets", ("datasets", "--workspace", "{ws}")),
    ("history", ("history", "--dataset", DATASET)),
    ("history_1", ("history", "--dataset", DATASET, "--ingest", "1", "--out", "{out}/h1.csv")),
    (
        "segments_shopify",
        ("segments", "--dataset", DATASET, "--out", "{out}/s.csv", "--summary", "{out}/sum.csv"),
    ),
    (
        "segments_zero",
        (
            "segments",
            "--dataset",
            DATASET,
            "--include-zero-value",
            "--out",
            "{out}/s.csv",
            "--summary",
            "{out}/sum.csv",
        ),
    ),
    *(
        (
            f"segments_{scheme}",
            ("segments", "--dataset", DATASET, "--scheme", scheme, "--out", "{out}/s.csv"),
        )
        for scheme in ("classic", "rf10", "klaviyo")
    ),
    (
        "segments_custom",
        (
            "segments",
            "--dataset",
            DATASET,
            "--scoring",
            "custom",
            "--scores",
            "3",
            "--r-cuts",
            "30,180",
            "--f-cuts",
            "2,4",
            "--m-cuts",
            "50,300",
            "--as-of",
            "2026-06-30",
            "--since",
            "2025-01-01",
            "--segment",
            "Champions",
            "--out",
            "{out}/s.csv",
        ),
    ),
    (
        "migration",
        ("migration", "--dataset", DATASET, "--from", "2026-03-31", "--out", "{out}/m.csv"),
    ),
    (
        "migration_zero",
        ("migration", "--dataset", DATASET, "--include-zero-value", "--out", "{out}/m.csv"),
    ),
    ("report", ("report", "--dataset", DATASET, "--out", "{out}/r.json")),
    (
        "report_period",
        (
            "report",
            "--dataset",
            DATASET,
            "--as-of",
            "2026-06-30",
            "--first-from",
            "2025-01-01",
            "--first-to",
            "2025-12-31",
            "--out",
            "{out}/r.json",
        ),
    ),
    (
        "migration_exclude",
        (
            "migration",
            "--dataset",
            DATASET,
            "--scheme",
            "klaviyo",
            "--exclude",
            "2025-11-24:2025-12-01",
            "--out",
            "{out}/m.csv",
        ),
    ),
    (
        "report_zero_lines",
        ("segments", "--dataset", DATASET, "--segment", "Prospects", "--out", "{out}/p.csv"),
    ),
    ("bad_dataset", ("segments", "--dataset", "nope", "--out", "{out}/x.csv")),
    ("bad_segment", ("segments", "--dataset", DATASET, "--segment", "Nope", "--out", "{out}/x")),
    ("bad_scheme", ("segments", "--dataset", DATASET, "--scheme", "nope", "--out", "{out}/x")),
)
DEFINITIONS = {
    "vip": {
        "match": "all",
        "groups": [
            {
                "match": "all",
                "conditions": [
                    {"feature": "orders", "operator": ">=", "value": 3},
                    {"feature": "rfm_segment", "operator": "in", "value": ["Champions", "Loyal"]},
                ],
            }
        ],
        "rfm": {"scheme": "shopify", "cuts": None},
    }
}


def _export_commands(definitions: Path) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(
        (
            f"export_{fmt}",
            (
                "export",
                "--dataset",
                DATASET,
                "--definition",
                str(definitions / "vip.json"),
                "--format",
                fmt,
                "--out",
                "{out}/e" + (".parquet" if fmt == "parquet" else ".csv"),
            ),
        )
        for fmt in ("csv", "klaviyo", "shopify-tags")
    )


def _normalise(text: str, workspace: Path, out: Path) -> str:
    text = text.replace(str(out), "<out>").replace(str(workspace), "<ws>")
    text = re.sub(
        r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?", "<t>", text
    )
    return re.sub(r"in \d+\.\d s", "in <s> s", text)


def run(workspace: Path, target: Path, name: str, arguments: tuple[str, ...]) -> None:
    """Run one command; keep its stdout, stderr, status and written files under target/name."""
    out = Path(tempfile.mkdtemp(prefix="snap-"))
    args = [a.format(ws=workspace, out=out) for a in arguments]
    if "--workspace" not in args and args[0] != "datasets":
        args += ["--workspace", str(workspace)]
    done = subprocess.run(
        [sys.executable, "-m", "dashboard", *args], capture_output=True, text=True, check=False
    )
    folder = target / name
    folder.mkdir(parents=True)
    (folder / "stdout").write_text(_normalise(done.stdout, workspace, out))
    # A traceback's file paths and line numbers move with any restructure: keep its last line.
    stderr = done.stderr
    if "Traceback" in stderr:
        stderr = "TRACEBACK: " + stderr.strip().splitlines()[-1] + "\n"
    (folder / "stderr").write_text(_normalise(stderr, workspace, out))
    (folder / "status").write_text(f"{done.returncode}\n")
    for path in sorted(out.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if path.name.endswith(".stamp.json"):
                stamp = json.loads(data)
                stamp.pop("created_at", None)
                data = json.dumps(stamp, indent=1, sort_keys=True).encode()
            else:
                data = re.sub(rb"(?m)^loaded at,.*$", b"loaded at,<t>", data)
            (folder / path.name).write_bytes(data)
    shutil.rmtree(out)


def write(target: Path) -> None:
    """Build the demo store in a temporary workspace and snapshot every command into ``target``."""
    target.mkdir(parents=True, exist_ok=False)
    with tempfile.TemporaryDirectory(prefix="snap-ws-") as tmp:
        workspace = Path(tmp) / "ws"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "dashboard",
                "demo",
                "--dataset",
                DATASET,
                "--workspace",
                str(workspace),
                "--files-dir",
                str(Path(tmp) / "files"),
            ],
            check=True,
            capture_output=True,
        )
        definitions = Path(tmp) / "definitions"
        definitions.mkdir()
        for key, document in DEFINITIONS.items():
            (definitions / f"{key}.json").write_text(json.dumps(document))
        for name, arguments in (*COMMANDS, *_export_commands(definitions)):
            run(workspace, target, name, arguments)
            print(name, (target / name / "status").read_text().strip(), flush=True)


def compare(old: Path, new: Path) -> int:
    """Print every file that differs between two snapshots; return the number of differences."""
    names = sorted(
        {p.relative_to(old) for p in old.rglob("*") if p.is_file()}
        | {p.relative_to(new) for p in new.rglob("*") if p.is_file()}
    )
    differences = 0
    for name in names:
        a, b = old / name, new / name
        if not (a.exists() and b.exists()) or a.read_bytes() != b.read_bytes():
            differences += 1
            print(f"differs: {name}")
    print(f"{len(names) - differences} same, {differences} different")
    return differences


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cli_snapshot")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("write").add_argument("target", type=Path)
    both = commands.add_parser("compare")
    both.add_argument("old", type=Path)
    both.add_argument("new", type=Path)
    args = parser.parse_args()
    if args.command == "write":
        write(args.target)
        return 0
    return 1 if compare(args.old, args.new) else 0


if __name__ == "__main__":
    sys.exit(main())
