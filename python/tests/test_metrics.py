import numpy as np
import pytest

import slotdiff


def test_distances_against_numpy():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 16)).astype(np.float32), rng.normal(size=(7, 16)).astype(np.float32)
    cos = 1 - (a @ b.T) / np.linalg.norm(a, axis=1)[:, None] / np.linalg.norm(b, axis=1)[None, :]
    assert np.allclose(slotdiff.distance(a, b, "cosine"), cos, atol=1e-5)
    l2 = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2)
    assert np.allclose(slotdiff.distance(a, b, "euclidean"), l2, atol=1e-4)
    assert np.allclose(slotdiff.distance(a[0], b, "sqeuclidean"), l2[0] ** 2, rtol=1e-4)
    assert abs(slotdiff.distance(a[0], b[0], "ip") - (1 - a[0] @ b[0])) < 1e-4
    p, q = np.full(4, 0.25, np.float32), np.array([0.5, 0.25, 0.125, 0.125], np.float32)
    assert abs(slotdiff.distance(p, q, "kl") - np.sum(p * np.log(p / q))) < 1e-5
    assert abs(slotdiff.distance(p, q, "tv") - 0.25) < 1e-6
    assert slotdiff.distance(a.astype(np.float64), b, "cosine").shape == (5, 7)


def test_metric_errors_name_the_input():
    with pytest.raises(ValueError, match="dimensions differ"):
        slotdiff.distance(np.ones(3), np.ones(4))
    with pytest.raises(slotdiff.Error):
        slotdiff.distance(np.array([1.0, np.nan]), np.ones(2))
    with pytest.raises(ValueError, match="metric: expected"):
        slotdiff.distance(np.ones(2), np.ones(2), "manhattan")
    with pytest.raises(TypeError, match="not numeric"):
        slotdiff.distance(np.array(["a"]), np.ones(1))


def test_bleu_and_text_metrics():
    ref = [np.array([4, 5, 6, 7, 8, 9], np.int32)]
    r = slotdiff.corpus_bleu(ref, ref)
    assert r["score"] == pytest.approx(1.0) and r["brevity_penalty"] == 1.0
    half = slotdiff.corpus_bleu([np.array([4, 5, 6])], [[np.array([4, 5, 6, 7, 8, 9]), np.array([4, 5, 6])]], max_order=2)
    assert half["score"] == pytest.approx(1.0)  # the closest reference length is 3
    assert slotdiff.corpus_bleu([np.array([10, 11])], ref, smoothing="none")["score"] == 0.0
    assert slotdiff.distinct_n([np.array([4, 4, 4, 5])], 1) == pytest.approx(0.5)
    assert slotdiff.distinct_n([np.array([4, 5, 4, 5])], 2) == pytest.approx(2 / 3)
    assert slotdiff.adjacent_repeat_rate([np.array([4, 4, 5, 6])]) == pytest.approx(0.25)
