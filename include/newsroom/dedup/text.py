"""Same text: exact hashes and MinHash signatures for near-duplicates.

An exact copy is found by a hash of the *normalised* text (NFKC, case-folded,
whitespace collapsed), so copies that differ only in spacing, case or Unicode
form collide. A near copy (syndicated text with other boilerplate, a cut, a few
edits) is found by MinHash over word shingles (datasketch): the signature is
computed once per article and stored, and LSH band keys derived from it are
stored too, so a new article is compared with the whole archive by looking up
its own band keys (a constant number of indexed lookups), never by scanning.

Banding: ``BANDS`` bands of ``ROWS`` rows; a pair becomes a *candidate* with
probability ``1 - (1 - J**ROWS)**BANDS`` (0.996 at Jaccard 0.5, 0.68 at 0.3,
0.04 at 0.1), then is *verified* on the full signatures: near-duplicate when the
estimated Jaccard is high, or when one text is (nearly) contained in the other
(truncated copies have a low Jaccard but a high containment).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib

import numpy as np
from datasketch import MinHash

NUM_PERM = 128
BANDS = 42
ROWS = 3  # BANDS * ROWS = 126 of the 128 permutations are banded; all 128 are used for verification
SHINGLE = 4  # words per shingle
SEED = 20260408  # fixed: signatures must be comparable across runs and processes
MIN_SHINGLES = 20  # shorter texts are too noisy for near-duplicate detection (exact hash still applies)
NEAR_JACCARD = 0.5
NEAR_CONTAINMENT = 0.85
MIN_JACCARD_FOR_CONTAINMENT = 0.3

_WS = re.compile(r"\s+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)

# One permutation set for the process: building it is the costly part of MinHash().
# The scheme is pinned: stored signatures are only comparable with ones made the same way.
# Shingles are hashed with CRC-32 (C speed, stable across processes and
# platforms, unlike hash()); the permutations on top spread it.
SCHEME = "affine32"
_TEMPLATE = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, hashfunc=zlib.crc32)


def normalise_text(text: str | None) -> str:
    """NFKC, case-folded, whitespace collapsed: what "the same text" means for exact duplicates."""
    if not text:
        return ""
    return _WS.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def text_hash(text: str | None) -> str | None:
    """sha256 of :func:`normalise_text` (None for empty text, so empty pages never collide)."""
    norm = normalise_text(text)
    if not norm:
        return None
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


def words(text: str | None) -> list[str]:
    """Word tokens of the normalised text (letters and digits, punctuation dropped)."""
    return _WORD.findall(normalise_text(text))


def shingles(tokens: list[str], k: int = SHINGLE) -> set[bytes]:
    if len(tokens) < k:
        return set()
    return {" ".join(tokens[i:i + k]).encode("utf-8") for i in range(len(tokens) - k + 1)}


def minhash_signature(tokens: list[str]) -> tuple[np.ndarray | None, int]:
    """(signature as uint32[NUM_PERM], number of distinct shingles); signature is None
    when the text is too short to say anything about near-duplicates."""
    sh = shingles(tokens)
    if len(sh) < MIN_SHINGLES:
        return None, len(sh)
    m = MinHash(num_perm=NUM_PERM, seed=SEED, permutations=_TEMPLATE.permutations, scheme=SCHEME,
                hashfunc=zlib.crc32)
    m.update_batch(sorted(sh))
    return m.hashvalues.astype(np.uint32), len(sh)


def signature_bytes(sig: np.ndarray) -> bytes:
    return sig.astype("<u4").tobytes()


def signature_from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<u4")


def band_keys(sig: np.ndarray) -> list[tuple[int, int]]:
    """(band, bucket) pairs: bucket is a signed 64-bit hash of the band's rows (fits BIGINT)."""
    raw = sig.astype("<u4")
    out = []
    for b in range(BANDS):
        digest = hashlib.blake2b(raw[b * ROWS:(b + 1) * ROWS].tobytes(), digest_size=8).digest()
        out.append((b, int.from_bytes(digest, "big", signed=True)))
    return out


def estimated_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.count_nonzero(a == b)) / len(a)


def estimated_containment(jaccard: float, size_a: int, size_b: int) -> float:
    """How much of the smaller shingle set lies in the larger, from the Jaccard
    estimate and the set sizes: |A∩B| = J(|A|+|B|)/(1+J)."""
    if not size_a or not size_b:
        return 0.0
    inter = jaccard * (size_a + size_b) / (1.0 + jaccard)
    return min(1.0, inter / min(size_a, size_b))


def is_near_duplicate(sig_a: np.ndarray, size_a: int, sig_b: np.ndarray, size_b: int) -> tuple[bool, float]:
    """(near-duplicate?, estimated Jaccard). Symmetric in its arguments, so the answer
    does not depend on which article arrived first."""
    j = estimated_jaccard(sig_a, sig_b)
    if j >= NEAR_JACCARD:
        return True, j
    if j >= MIN_JACCARD_FOR_CONTAINMENT and estimated_containment(j, size_a, size_b) >= NEAR_CONTAINMENT:
        return True, j
    return False, j
