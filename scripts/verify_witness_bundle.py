#!/usr/bin/env python3
"""Verify a witness bundle written by ``manage.py export_witnesses``, with only the standard
library and the ``cryptography`` package (no Django, no access to the site).

    python verify_witness_bundle.py BUNDLE.json [--public-key HEX]

Checks, for every entry: the SHA-256 of the signed bytes is the entry hash; the Ed25519 signature
of those bytes verifies; sequences are consecutive; each entry's prev_hash is the previous entry's
hash; the payload (unless retired) hashes to the signed payload_hash. Then the latest checkpoint's
signature, and that it matches the entry at its sequence or lies before the bundle. Pass the public
key you obtained from the site (``/api/v1/ledger/key/``) with --public-key, so a forged bundle with
its own key is refused. Exit status 0 when everything verifies, 1 otherwise (the first problem is named).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def _signature_ok(public: Ed25519PublicKey, data: bytes, signature: str) -> bool:
    try:
        public.verify(base64.b64decode(signature, validate=True), data)
    except (InvalidSignature, ValueError):
        return False
    return True


def _checkpoint_bytes(checkpoint: dict) -> bytes:
    # The checkpoint body holds only integers and ASCII strings, for which RFC 8785 canonical JSON
    # is exactly sorted keys without whitespace.
    body = {name: checkpoint[name] for name in ("sequence", "head_hash", "created_at", "key_id")}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def verify_bundle(bundle: dict, public_key_hex: str | None = None) -> tuple[bool, str]:
    key_hex = public_key_hex or bundle["public_key_hex"]
    if public_key_hex and public_key_hex.lower() != bundle["public_key_hex"].lower():
        return False, "the bundle names a different public key than the one given"
    public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(key_hex))
    previous_hash = None
    previous_sequence = None
    hashes = {}
    for item in bundle["entries"]:
        sequence = item["sequence"]
        where = f"entry {sequence}"
        data = item["entry_jcs"].encode("utf-8")
        if hashlib.sha256(data).hexdigest() != item["entry_hash"]:
            return False, f"{where}: entry hash does not match its bytes"
        if not _signature_ok(public, data, item["signature"]):
            return False, f"{where}: signature does not verify"
        entry = json.loads(data)
        if entry["sequence"] != sequence:
            return False, f"{where}: the signed entry says sequence {entry['sequence']}"
        if previous_sequence is not None and sequence != previous_sequence + 1:
            return False, f"{where}: follows {previous_sequence} (entries missing or reordered)"
        if previous_hash is not None and entry["prev_hash"] != previous_hash:
            return False, f"{where}: previous-hash link is broken"
        if sequence == 1 and entry["prev_hash"] != "0" * 64:
            return False, f"{where}: the first entry does not start from the genesis hash"
        if not item.get("retired"):
            payload = item.get("payload_jcs")
            if payload is None:
                return False, f"{where}: payload missing from an entry that is not retired"
            if hashlib.sha256(payload.encode("utf-8")).hexdigest() != entry["payload_hash"]:
                return False, f"{where}: payload does not match the signed payload hash"
        previous_hash, previous_sequence = item["entry_hash"], sequence
        hashes[sequence] = item["entry_hash"]
    checkpoint = bundle.get("checkpoint")
    if checkpoint:
        if not _signature_ok(public, _checkpoint_bytes(checkpoint), checkpoint.get("signature", "")):
            return False, "the checkpoint's signature does not verify"
        at = checkpoint["sequence"]
        if previous_sequence is not None and at > previous_sequence:
            return False, (f"a checkpoint recorded sequence {at} but the bundle ends at {previous_sequence}: "
                           "the newest entries are missing")
        if at in hashes and hashes[at] != checkpoint["head_hash"]:
            return False, f"entry {at} differs from the checkpoint taken at it"
    count = len(bundle["entries"])
    return True, f"{count} entries verify" + (f" (up to sequence {previous_sequence})" if count else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle")
    parser.add_argument("--public-key", help="The site's Ed25519 public key, hex (from /api/v1/ledger/key/).")
    args = parser.parse_args(argv)
    with open(args.bundle, encoding="utf-8") as handle:
        bundle = json.load(handle)
    ok, message = verify_bundle(bundle, args.public_key)
    print(("OK: " if ok else "FAILED: ") + message)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
