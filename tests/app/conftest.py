"""Fixtures of the AppTest tests: a small generic orders CSV loaded into a temporary workspace.

The CSV is deterministic (fixed seed), so the expected figures can be computed independently
with pandas from the file itself.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import app_test

from dashboard.ingest import ingest_file
from dashboard.workspace import store

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "streamlit_app.py"
DATASET = "shop"
SEED = 20240601
N_CUSTOMERS = 300
COLUMNS = (
    "order_id",
    "customer_id",
    "ordered_at",
    "order_total",
    "refunded_amount",
    "is_cancelled",
    "currency",
)
# The file's headers are the canonical names, so the mapping is the identity.
MAPPING = {column: column for column in COLUMNS}


@dataclass(frozen=True)
class LoadedShop:
    """A workspace holding one dataset loaded from ``csv_path``."""

    workspace: Path
    dataset: str
    csv_path: Path

    def frame(self) -> pd.DataFrame:
        """Return the CSV as loaded by pandas (the independent view of the data)."""
        return pd.read_csv(self.csv_path, dtype={"order_id": str, "customer_id": str})

    def expected_customers(self) -> int:
        """Customers with at least one order that counts (not cancelled, total > 0)."""
        orders = self.frame()
        counted = orders[~orders.is_cancelled.astype(bool) & (orders.order_total > 0)]
        return int(counted.customer_id.nunique())


def write_orders_csv(path: Path, seed: int = SEED, customers: int = N_CUSTOMERS) -> Path:
    """Write ~3 orders per customer over two years (a few refunds and cancellations)."""
    rng = random.Random(seed)
    start = dt.datetime(2023, 1, 1, 8, 0)
    rows = []
    number = 0
    for c in range(1, customers + 1):
        for _ in range(rng.choices([1, 2, 3, 4, 5, 6], weights=[30, 20, 15, 15, 10, 10])[0]):
            number += 1
            total = round(rng.uniform(5, 250) * (3 if rng.random() < 0.05 else 1), 2)
            refunded = round(total * rng.uniform(0.1, 1.0), 2) if rng.random() < 0.08 else 0.0
            when = start + dt.timedelta(days=rng.randrange(730), minutes=rng.randrange(600))
            rows.append(
                (
                    f"O{number:05d}",
                    f"C{c:04d}",
                    f"{when:%Y-%m-%d %H:%M:%S}",
                    f"{total:.2f}",
                    f"{refunded:.2f}",
                    "false",
                    "EUR",
                )
            )
    # A few cancelled extra orders of customers who also have valid ones.
    for c in rng.sample(range(1, customers + 1), 10):
        number += 1
        when = start + dt.timedelta(days=rng.randrange(730))
        rows.append(
            (
                f"O{number:05d}",
                f"C{c:04d}",
                f"{when:%Y-%m-%d %H:%M:%S}",
                "42.00",
                "0.00",
                "true",
                "EUR",
            )
        )
    rng.shuffle(rows)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return path


def _load(workspace: Path, dataset: str, path: Path) -> None:
    report = ingest_file(workspace, dataset, path, file_format="generic", mapping=MAPPING)
    assert report.rows_rejected == 0, report.summary()
    assert report.rows_loaded == len(pd.read_csv(path)), report.summary()


@pytest.fixture(scope="session")
def loaded_shop(tmp_path_factory: pytest.TempPathFactory) -> LoadedShop:
    """A workspace with dataset ``shop`` loaded from the generated CSV (built once)."""
    root = tmp_path_factory.mktemp("app-shop")
    csv_path = write_orders_csv(root / "orders.csv")
    workspace = store.resolve_workspace(root / "workspace")
    _load(workspace, DATASET, csv_path)
    return LoadedShop(workspace, DATASET, csv_path)


@pytest.fixture
def shop_env(loaded_shop: LoadedShop, monkeypatch: pytest.MonkeyPatch) -> LoadedShop:
    """Point the app at the loaded workspace and dataset."""
    monkeypatch.setenv(store.WORKSPACE_ENV, str(loaded_shop.workspace))
    monkeypatch.setenv("SEGMENTS_DATASET", loaded_shop.dataset)
    return loaded_shop


@pytest.fixture
def empty_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the app at an empty workspace."""
    workspace = store.resolve_workspace(tmp_path / "empty-workspace")
    monkeypatch.setenv(store.WORKSPACE_ENV, str(workspace))
    monkeypatch.delenv("SEGMENTS_DATASET", raising=False)
    return workspace


class _NavigationPagesManager(PagesManager):
    """A PagesManager that never falls back to the legacy ``pages/`` directory mode.

    AppTest resets ``PagesManager.uses_pages_directory`` before every run; because the app's
    page files live in a folder called ``pages/``, the flag then turns true and every run after
    the first executes the page file alone (Streamlit's multipage v1 behaviour), skipping
    streamlit_app.py and so the shared sidebar. A real server sets the flag to false for good
    once st.navigation runs, which is what this reproduces.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        PagesManager.uses_pages_directory = False


@pytest.fixture(autouse=True)
def _navigation_like_a_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(app_test, "PagesManager", _NavigationPagesManager)
    yield
    PagesManager.uses_pages_directory = None
