import numpy as np

from newsroom.dedup.text import (
    BANDS,
    band_keys,
    estimated_containment,
    is_near_duplicate,
    minhash_signature,
    normalise_text,
    signature_bytes,
    signature_from_bytes,
    text_hash,
    words,
)

TEXT = ("The city council voted on Tuesday to approve a new budget that expands bus service, "
        "repairs two bridges and hires forty additional teachers. The mayor said the plan would be "
        "funded without raising property taxes, relying instead on a one-time state grant and savings "
        "from consolidating three departments. Opponents argued the grant would run out next year.")


def test_exact_hash_ignores_case_spacing_and_unicode_form():
    assert text_hash(TEXT) == text_hash("  " + TEXT.upper().replace(" ", "\n \t "))
    assert text_hash("ﬁnal café") == text_hash("final cafe\u0301")  # ligature and combining accent (NFKC)
    assert text_hash(TEXT) != text_hash(TEXT + " Extra.")
    assert text_hash("") is None and text_hash(None) is None and normalise_text(None) == ""


def test_signature_is_deterministic_and_round_trips():
    a, n = minhash_signature(words(TEXT))
    b, _ = minhash_signature(words(TEXT))
    assert n > 20 and np.array_equal(a, b)
    assert np.array_equal(signature_from_bytes(signature_bytes(a)), a)
    keys = band_keys(a)
    assert len(keys) == BANDS and keys == band_keys(b)
    assert all(-(2 ** 63) <= k < 2 ** 63 for _, k in keys)


def test_short_texts_get_no_signature():
    sig, n = minhash_signature(words("Subscribe to continue reading."))
    assert sig is None and n < 20


def test_near_duplicate_decisions_are_symmetric():
    base = words(TEXT * 3)
    copy = words(("Advertisement. " + TEXT * 3 + " Sign up for our newsletter."))
    other = words("A completely different report about football transfers, injuries and the weekend "
                  "fixtures in the northern league, with quotes from three managers and a referee." * 2)
    sa, na = minhash_signature(base)
    sb, nb = minhash_signature(copy)
    so, no = minhash_signature(other)
    assert is_near_duplicate(sa, na, sb, nb) == is_near_duplicate(sb, nb, sa, na)
    assert is_near_duplicate(sa, na, sb, nb)[0]
    assert not is_near_duplicate(sa, na, so, no)[0]


def test_truncated_copy_is_found_by_containment():
    long_text = " ".join(f"{w}{i % 97}" for i, w in enumerate(words(TEXT) * 8))
    toks = long_text.split()
    half = toks[: len(toks) // 2]
    sa, na = minhash_signature(toks)
    sb, nb = minhash_signature(half)
    near, j = is_near_duplicate(sa, na, sb, nb)
    assert j < 0.7 and near
    assert estimated_containment(0.5, 100, 50) == 1.0
