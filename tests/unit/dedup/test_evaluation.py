import pytest

from newsroom.dedup.evaluation import bcubed, pair_scores


def test_pair_scores_on_a_hand_worked_example():
    gold = [{"a", "b", "c"}, {"d", "e"}]
    pred = [{"a", "b"}, {"c", "d", "e"}]
    s = pair_scores(pred, gold, "abcdef")
    # predicted pairs ab, cd, ce, de; gold pairs ab, ac, bc, de
    assert (s.tp, s.fp, s.fn) == (2, 2, 2)
    assert s.precision == pytest.approx(0.5) and s.recall == pytest.approx(0.5)


def test_bcubed_on_a_hand_worked_example():
    gold = [{"a", "b", "c"}, {"d", "e"}]
    pred = [{"a", "b"}, {"c", "d", "e"}]
    s = bcubed(pred, gold, "abcde")
    # precision per item: a 1, b 1, c 1/3, d 2/3, e 2/3 ; recall: a 2/3, b 2/3, c 1/3, d 1, e 1
    assert s.precision == pytest.approx((1 + 1 + 1 / 3 + 2 / 3 + 2 / 3) / 5)
    assert s.recall == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1 + 1) / 5)


def test_degenerate_clusterings_score_badly():
    gold = [{"a", "b"}, {"c", "d"}, {"e", "f"}]
    items = "abcdef"
    assert bcubed([set(items)], gold, items).precision == pytest.approx(1 / 3)
    assert pair_scores([{x} for x in items], gold, items).recall == 0.0
