"""Verification's short cuts decide exactly as the long way would: the payload comparison without
serialising agrees with comparing RFC 8785 bytes, and signatures checked by libsodium in threads agree
with the site key's own check, good and bad alike."""

import base64
import itertools
import json

import pytest

from vifsite.vif import ledger, signing

VALUES = [0, 1, -1, 1.0, 0.5, -0.0, 1e21, 9007199254740991.0, True, False, None, "", "1", "é", [], [1], [1.0], [True],
          {}, {"a": 1}, {"a": 1.0}, {"a": True}, {"b": 1}, {"a": [1, {"c": None}]}, {"a": [1, {"c": False}]},
          2**53 - 1, 0.1 + 0.2, 0.30000000000000004, "0.3"]


@pytest.mark.parametrize(("ours", "other"), list(itertools.product(VALUES, VALUES)))
def test_the_payload_comparison_agrees_with_comparing_canonical_bytes(ours, other):
    stored = json.loads(signing.canonical(other))
    assert ledger._same_json(ours, stored) == (signing.canonical(ours) == signing.canonical(other))


TEXTS = ["a\u0000b", "tab\tand\nline", "quote \" and \\", "\u007f\u2028", "😀", "\U0001d11e", "ÿ"]


@pytest.mark.parametrize(("ours", "other"), list(itertools.product(VALUES + TEXTS, VALUES + TEXTS)))
def test_the_payload_text_short_cut_agrees_with_comparing_canonical_bytes(ours, other):
    # As payloads: the short cut compares whole texts, keys and all (keys outside the BMP sort differently).
    ours_payload = {"v": ours, "\U0001d11e": 1, "\uffff": 2, "a": [ours]}
    other_payload = {"v": other, "\U0001d11e": 1, "\uffff": 2, "a": [other]}
    text = signing.canonical(other_payload).decode("utf-8")
    assert ledger._payload_matches(ours_payload, text) == (signing.canonical(ours_payload) == text.encode("utf-8"))


def test_signatures_checked_in_bulk_agree_with_the_site_keys_check(tmp_path):
    key = signing.SiteKey(tmp_path / "key.pem")
    raw = bytes.fromhex(key.public_raw_hex())
    messages = [f"entry {i}".encode() for i in range(50)]
    good = [(m, key.sign(m)) for m in messages]
    flipped = base64.b64decode(good[3][1])
    flipped = base64.b64encode(bytes([flipped[0] ^ 1]) + flipped[1:]).decode()
    bad = [(messages[0], good[1][1]), (messages[3], flipped), (messages[4], "not base64!"), (messages[5], "")]
    items = good + bad
    assert signing.verify_many(raw, items) == [key.verify(m, s) for m, s in items] == [True] * 50 + [False] * 4
