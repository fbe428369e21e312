"""The extraction F1 (benchmarks/extraction_metric.py) on hand-made pages."""

from __future__ import annotations

import pytest

from benchmarks.extraction_metric import score_corpus, score_page, shingles


def test_shingles_are_a_multiset_of_four_word_windows():
    assert shingles("a b c d a b c d") == {("a", "b", "c", "d"): 2, ("b", "c", "d", "a"): 1,
                                           ("c", "d", "a", "b"): 1, ("d", "a", "b", "c"): 1}
    # Tokens are \w+ runs: punctuation and spacing do not matter.
    assert shingles("Hello, world -- it's (fine)") == shingles("hello world it s fine".replace("hello", "Hello"))
    assert shingles("too short") == {}


def test_identical_text_is_perfect():
    s = score_page("one two three four five", "one two three four five")
    assert (s.precision, s.recall) == (1.0, 1.0)


def test_one_wrong_token_at_the_end():
    # expected shingles {abcd, bcde}, predicted {abcd, bcdx}: TP 1, FP 1, FN 1 (normalised: 1/3 each).
    s = score_page("a b c d x", "a b c d e")
    assert (s.tp, s.fp, s.fn) == pytest.approx((1 / 3, 1 / 3, 1 / 3))
    assert (s.precision, s.recall) == (0.5, 0.5)


def test_repeated_shingles_count_as_many_times_as_they_occur():
    s = score_page("a b c d", "a b c d a b c d")  # expected has abcd twice and 3 others
    assert s.precision == 1.0
    assert s.recall == pytest.approx(1 / 5)


@pytest.mark.parametrize(("pred", "true", "p", "r"), [
    ("", "a b c d e", 0.0, 0.0),
    (None, "a b c d e", 0.0, 0.0),
    ("a b c d e", "", 0.0, 0.0),
    ("", "", 1.0, 1.0),
])
def test_empty_sides(pred, true, p, r):
    s = score_page(pred, true)
    assert (s.precision, s.recall) == (p, r)


def test_f1_is_of_the_averaged_precision_and_recall():
    pages = [("a b c d", "a b c d a b c d"),  # P 1,   R 0.2
             ("a b c d x", "a b c d e")]      # P 0.5, R 0.5
    score = score_corpus(pages)
    assert score.pages == 2
    assert score.precision == pytest.approx(0.75)
    assert score.recall == pytest.approx(0.35)
    assert score.f1 == pytest.approx(2 * 0.75 * 0.35 / (0.75 + 0.35))
    # ... which is not the mean of the per-page F1s.
    per_page = [2 * p * r / (p + r) for p, r in ((1, 0.2), (0.5, 0.5))]
    assert score.f1 != pytest.approx(sum(per_page) / 2)


def test_empty_corpus():
    assert score_corpus([]).f1 == 0.0
