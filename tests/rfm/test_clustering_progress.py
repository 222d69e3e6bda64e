"""Issue 18 #12: "Find clusters" says what it is doing, and the silhouette, which compares every
pair of points, is computed on a fixed sub-sample of at most SILHOUETTE_SIZE points."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard.rfm import clustering


def three_blobs(per_blob: int) -> np.ndarray:
    rng = np.random.default_rng(1)
    centres = np.array([[0.0, 0.0, 0.0], [6.0, 6.0, 0.0], [0.0, 6.0, 6.0]])
    return np.vstack([c + rng.normal(0, 0.3, (per_blob, 3)) for c in centres])


def test_silhouettes_use_a_fixed_sub_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clustering, "SILHOUETTE_SIZE", 60)
    seen: list[int] = []
    original = clustering.silhouette_scores

    def record(features: np.ndarray, labellings: list[np.ndarray]) -> list[float]:
        seen.append(len(features))
        assert all(len(labels) == len(features) for labels in labellings)
        return original(features, labellings)

    monkeypatch.setattr(clustering, "silhouette_scores", record)
    steps: list[str] = []
    points = three_blobs(100)
    table = clustering.score_candidates(points, range(2, 5), steps.append)
    # 300 points, silhouettes on 60 of them; the three blobs still win clearly.
    assert seen == [60]
    assert int(table.k[table.silhouette.idxmax()]) == 3
    assert steps == ["Fitting k-means for k = 2 to 4…", "Comparing the candidates' silhouettes…"]
    again = clustering.score_candidates(points, range(2, 5))
    assert again.silhouette.tolist() == table.silhouette.tolist()


def test_small_sets_keep_every_point() -> None:
    points = three_blobs(10)
    rows = clustering.sample_indices(len(points), clustering.SILHOUETTE_SIZE)
    assert list(rows) == list(range(30))
