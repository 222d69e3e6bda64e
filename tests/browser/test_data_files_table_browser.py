"""Issue 18 #10: every column of the Data page's files table is readable in a 1280-1400 px window.

The grid is drawn on a canvas, so the test reads the picture: the header row's vertical lines
give the columns' edges, and the dark pixels of each "Loaded at" cell must sit inside its
column, as wide as the whole text drawn in the grid's font (a clipped date is narrower and
runs into the column's edge).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dashboard.ui.data import HISTORY_COLUMNS
from dashboard.workspace import store

pytestmark = pytest.mark.browser

DATAFRAME = '[data-testid="stDataFrame"]'
IDLE_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    const status = document.querySelector('[data-testid="stStatusWidget"]');
    return app !== null && app.getAttribute('data-test-script-state') === 'notRunning'
        && (status === null || status.offsetParent === null)
        && document.querySelector('[data-testid="stSkeleton"]') === null;
}"""
# The width of ``text`` in the font the grid draws its cells with (14 px, the app's font).
TEXT_WIDTH_JS = """(text) => {
    const family = getComputedStyle(document.querySelector('[data-testid="stApp"]')).fontFamily;
    const context = document.createElement('canvas').getContext('2d');
    context.font = `14px ${family}`;
    return context.measureText(text).width;
}"""
HEADER_HEIGHT = 35  # the grid's header row, and each data row, in CSS pixels
ROW_HEIGHT = 35
DARK = 160  # a pixel of text: every channel below this (the lines are near-white greys)


def column_edges(picture: np.ndarray) -> list[int]:
    """The x of each vertical line in the header row (the grid's column borders, both ends
    included), from a row of pixels above the header text."""
    line = picture[4, :, :3].astype(int)
    background = np.median(line, axis=0)
    differs = np.abs(line - background).sum(axis=1) > 12
    edges = [0]
    for x in np.flatnonzero(differs):
        if x - edges[-1] > 3:
            edges.append(int(x))
    last = picture.shape[1] - 1
    return edges if last - edges[-1] <= 3 else [*edges, last]


def text_extent(picture: np.ndarray, left: int, right: int, row: int) -> tuple[int, int]:
    """The first and last x of dark (text) pixels of data row ``row`` between two borders."""
    top = HEADER_HEIGHT + row * ROW_HEIGHT + 4
    cell = picture[top : top + ROW_HEIGHT - 8, left + 2 : right - 1, :3]
    columns = np.flatnonzero((cell < DARK).all(axis=2).any(axis=0))
    assert columns.size, f"no text in row {row} between x={left} and x={right}"
    return left + 2 + int(columns[0]), left + 2 + int(columns[-1])


@pytest.mark.parametrize("width", [1280, 1400])
def test_every_loaded_at_cell_is_whole_inside_its_column(
    visit, demo_workspace: Path, artifacts: Path, width: int
) -> None:
    page = visit.page
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(visit.server.url + "/data")
    page.get_by_text("Files loaded", exact=True).wait_for()
    grid = page.locator(DATAFRAME).first
    page.locator(f'{DATAFRAME} [role="gridcell"]').first.wait_for(state="attached")
    page.wait_for_function(IDLE_JS)
    grid.scroll_into_view_if_needed()
    page.wait_for_timeout(500)  # the canvas is drawn after the cells are known
    page.screenshot(path=str(artifacts / f"data-files-table-{width}.png"))
    picture = np.asarray(Image.open(io.BytesIO(grid.screenshot())).convert("RGB"))
    with store.open_for_read(demo_workspace, "demo") as backend:
        history = store.read_ingest_history(backend)
    shown = [f"{at:%Y-%m-%d %H:%M}" for at in history.loaded_at]

    edges = column_edges(picture)
    assert len(edges) == len(HISTORY_COLUMNS) + 1, edges  # every column has its own borders
    left, right = edges[-2], edges[-1]  # "Loaded at", the last column
    whole = page.evaluate(TEXT_WIDTH_JS, shown[0])
    for row in range(len(shown)):
        first, last = text_extent(picture, left, right, row)
        assert right - last >= 6, f"row {row}: the date runs into the column's edge"
        assert last - first + 1 >= 0.9 * whole, f"row {row}: {last - first + 1} px of {whole}"
