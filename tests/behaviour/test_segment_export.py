"""Segment exports: the same members in the engine, the CSV download and the CLI; the formats."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import ibis.expr.types as ir
import pandas as pd
import pytest
from behaviour_cases import (
    AS_OF,
    DATASET,
    PRESET_CASES,
    TWO_CONDITION_DOCUMENT,
    TWO_CONDITION_MEMBERS,
    write_tiny_store,
)

from dashboard import cli, errors
from dashboard.behaviour import (
    compiler,
    definitions,
    feature_base,
    membership,
    presets,
    segment_export,
    segment_store,
)
from dashboard.behaviour.definitions import Condition, Definition, DefinitionError, Group
from dashboard.workspace import store

CASES = {
    **{
        key: (presets.PRESETS[key], values, members)
        for key, (values, members) in PRESET_CASES.items()
    },
    "two-conditions": (None, None, TWO_CONDITION_MEMBERS),
}


def definition_of(case: str) -> Definition:
    preset, values, _ = CASES[case]
    if preset is None:
        return definitions.definition_from_dict(TWO_CONDITION_DOCUMENT)
    return presets.preset_definition(preset, values)


@pytest.fixture(scope="module")
def tiny_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workspace = store.resolve_workspace(tmp_path_factory.mktemp("export") / "workspace")
    write_tiny_store(workspace)
    return workspace


@pytest.fixture(scope="module")
def base(tiny_workspace: Path) -> Iterator[feature_base.FeatureBase]:
    loaded = feature_base.load_feature_base(tiny_workspace, DATASET)
    yield loaded
    loaded.backend.disconnect()


@pytest.fixture(scope="module")
def view(base: feature_base.FeatureBase, tiny_workspace: Path) -> ir.Table:
    return compiler.feature_view(base.table, definitions.RfmSpec(), tiny_workspace)


def export(view: ir.Table, base: feature_base.FeatureBase, fmt: str, definition: Definition, **kw):
    return segment_export.export_segment(
        view, definition, fmt, DATASET, "test segment", base.window, **kw
    )


def read_csv(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)


def run_cli(*args: str) -> int:
    return cli.main(["export", *args])


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_members_in_engine_csv_and_cli(
    case: str, view, base, tiny_workspace: Path, tmp_path: Path
) -> None:
    definition = definition_of(case)
    expected = CASES[case][2]
    engine = membership.list_members(view, compiler.compile_definition(view, definition), [])
    assert set(engine.customer_id) == expected

    csv = export(view, base, "csv", definition)
    assert set(read_csv(csv.data).customer_id) == expected
    assert csv.stamp["row_count"] == len(expected)

    path = tmp_path / f"{case}.json"
    path.write_text(definitions.definition_to_json(definition), encoding="utf-8")
    out = tmp_path / "members.csv"
    assert (
        run_cli(
            "--workspace",
            str(tiny_workspace),
            "--dataset",
            DATASET,
            "--definition",
            str(path),
            "--format",
            "csv",
            "--out",
            str(out),
        )
        == 0
    )
    assert set(read_csv(out.read_bytes()).customer_id) == expected
    stamp = json.loads(segment_export.stamp_path(out).read_text(encoding="utf-8"))
    assert stamp["row_count"] == len(expected)
    assert definitions.definition_from_dict(stamp["definition"]) == definition


def test_a_saved_segment_exports_from_the_cli(tiny_workspace: Path, tmp_path: Path) -> None:
    definition = definitions.definition_from_dict(TWO_CONDITION_DOCUMENT)
    segment_store.save_segment(tiny_workspace, DATASET, "repeat-na", definition)
    out = tmp_path / "tags.csv"
    code = run_cli(
        "--workspace",
        str(tiny_workspace),
        "--dataset",
        DATASET,
        "--segment",
        "repeat-na",
        "--format",
        "shopify-tags",
        "--out",
        str(out),
        "--tag",
        "repeat NA",
    )
    assert code == 0
    assert out.read_text(encoding="utf-8").splitlines() == [
        "Email,Tags",
        '''a@x.com,"vip, repeat NA"''',
        "b@x.com,repeat NA",
    ]
    stamp = json.loads(segment_export.stamp_path(out).read_text(encoding="utf-8"))
    assert stamp["segment"] == "repeat-na" and stamp["dataset"] == DATASET
    assert stamp["analysis_date"] == AS_OF.isoformat()
    assert stamp["row_count"] == 2 and stamp["format"] == "shopify-tags"


def test_cli_refuses_bad_input(tiny_workspace: Path, tmp_path: Path, capsys) -> None:
    common = ["--workspace", str(tiny_workspace), "--dataset", DATASET, "--format", "csv"]
    out = str(tmp_path / "x.csv")
    assert run_cli(*common, "--segment", "nope", "--out", out) == errors.EXIT_BAD_INPUT
    assert "no saved segment called 'nope'" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"groups": [{"conditions": [{"feature": "x", "operator": ">", "value": 1}]}]}')
    assert run_cli(*common, "--definition", str(bad), "--out", out) == errors.EXIT_BAD_INPUT
    assert "'x' is not a feature" in capsys.readouterr().err
    good = tmp_path / "good.json"
    good.write_text(json.dumps(TWO_CONDITION_DOCUMENT))
    assert (
        run_cli(*common, "--definition", str(good), "--out", out, "--columns", "orders,secret")
        == errors.EXIT_BAD_INPUT
    )
    assert "Unknown columns: secret" in capsys.readouterr().err
    assert not Path(out).exists()


def test_csv_with_chosen_columns(view, base) -> None:
    definition = definitions.definition_from_dict(TWO_CONDITION_DOCUMENT)
    csv = export(view, base, "csv", definition, columns=["email", "categories", "net_revenue"])
    frame = read_csv(csv.data)
    assert list(frame.columns) == ["email", "categories", "net_revenue"]
    assert frame.to_dict("records") == [
        {"email": "a@x.com", "categories": "Beans; Mugs", "net_revenue": "200.00"},
        {"email": "b@x.com", "categories": "Beans; Gifts", "net_revenue": "600.00"},
    ]
    assert csv.file_name == "tiny-test-segment-csv.csv" and csv.mime == "text/csv"


def test_klaviyo_list_import(view, base) -> None:
    definition = presets.preset_definition(presets.PRESETS["one_time"])
    everyone = Definition((Group((Condition("orders_ever", ">=", 0),)),))
    klaviyo = export(view, base, "klaviyo", everyone)
    frame = read_csv(klaviyo.data)
    assert list(frame.columns) == [
        "Email",
        "First Name",
        "Country",
        "Orders",
        "Net revenue",
        "Last order",
        "Predicted CLV",
        "Churn risk",
        "Churn risk band",
        "Expected next order date",
        "Probability active",
        "Expected orders (next 365 days)",
        "Expected order value",
        "Historic CLV",
        "Total CLV",
        "Segment",
    ]
    # Only A and D accepted e-mail marketing; b@x.com, C and E have no recorded answer.
    assert list(frame.Email) == ["a@x.com", "d@x.com"]
    assert frame.loc[0, "First Name"] == "Ann" and frame.loc[0, "Segment"] == "test segment"
    assert klaviyo.stamp["members"] == 5 and klaviyo.stamp["row_count"] == 2
    assert klaviyo.stamp["left_out_consent_unknown"] == 3
    assert klaviyo.stamp["left_out_declined_consent"] == 0
    assert klaviyo.stamp["columns"] == list(frame.columns)
    # Included by choice: C and E have no email address; Klaviyo matches people by email.
    chosen = export(view, base, "klaviyo", everyone, include_without_consent=True)
    assert list(read_csv(chosen.data).Email) == ["a@x.com", "d@x.com", "b@x.com"]
    assert chosen.stamp["row_count"] == 3 and chosen.stamp["left_out_without_email"] == 2
    nobody = export(view, base, "klaviyo", definition, include_without_consent=True)
    assert read_csv(nobody.data).empty and nobody.stamp["left_out_without_email"] == 1


def test_parquet_keeps_types(view, base) -> None:
    definition = definitions.definition_from_dict(TWO_CONDITION_DOCUMENT)
    parquet = export(
        view, base, "parquet", definition, columns=["customer_id", "orders", "categories"]
    )
    frame = pd.read_parquet(io.BytesIO(parquet.data))
    assert list(frame.customer_id) == ["A", "b@x.com"]
    assert frame.orders.tolist() == [3, 3]
    assert [list(v) for v in frame.categories] == [["Beans", "Mugs"], ["Beans", "Gifts"]]
    assert parquet.file_name.endswith(".parquet")


def test_files_are_formula_safe() -> None:
    members = pd.DataFrame(
        {
            "customer_id": ["=cmd|' /C calc'!A0"],
            "email": ["@evil.com"],
            "first_name": ["+SUM(1,2)"],
            "customer_tags": ["-2+3"],
        }
    )
    csv = segment_export.shape_members(members, "csv", "seg", ["customer_id", "first_name"])
    assert segment_export.to_bytes(csv, "csv").decode().splitlines()[1] == (
        "'=cmd|' /C calc'!A0,\"'+SUM(1,2)\""
    )
    klaviyo = segment_export.shape_members(members, "klaviyo", "=seg", ["first_name"])
    assert segment_export.to_bytes(klaviyo, "klaviyo").decode().splitlines()[1] == (
        "'@evil.com,\"'+SUM(1,2)\",'=seg"
    )
    tags = segment_export.shape_members(members, "shopify-tags", "seg", [], tag="=x")
    assert segment_export.to_bytes(tags, "shopify-tags").decode().splitlines()[1] == (
        "'@evil.com,\"'-2+3, =x\""
    )


def test_tags_and_formats_are_checked(view, base) -> None:
    definition = definitions.definition_from_dict(TWO_CONDITION_DOCUMENT)
    with pytest.raises(DefinitionError, match="without a comma"):
        export(view, base, "shopify-tags", definition, tag="a,b")
    with pytest.raises(DefinitionError, match="Unknown format"):
        export(view, base, "xlsx", definition)


def test_the_stamp_is_written_beside_the_file(view, base, tmp_path: Path) -> None:
    definition = definitions.definition_from_dict(TWO_CONDITION_DOCUMENT)
    exported = export(view, base, "csv", definition)
    target = tmp_path / "out" / "members.csv"
    stamp_file = segment_export.write_segment_file(exported, target)
    assert stamp_file == tmp_path / "out" / "members.csv.stamp.json"
    stamp = json.loads(stamp_file.read_text(encoding="utf-8"))
    assert set(stamp) >= {
        "dataset",
        "segment",
        "definition",
        "analysis_date",
        "row_count",
        "created_at",
    }
    assert target.read_bytes() == exported.data
