"""The site's Ed25519 ledger key and the canonical bytes it signs. No Django models here.

The private key lives in a file outside the database (``VIFSITE_LEDGER_DIR/signing_key.pem``,
mode 0600), created on first use. Whoever can rewrite the database cannot forge signatures
without also holding that file; checkpoints in the same folder catch a truncated ledger.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

GENESIS = "0" * 64
ALGORITHM = "Ed25519"


def canonical(value: Any) -> bytes:
    """RFC 8785 (JSON Canonicalization Scheme) bytes of ``value``.

    Where RFC 8785 and Python's own JSON encoder (sorted keys, no spaces, UTF-8) write the same bytes, the
    encoder writes them: strings and their subclasses such as text choices (the same escapes), integers within
    RFC 8785's range, booleans, null, lists, objects whose keys hold no character beyond U+FFFF (UTF-16 order
    is then code point order), floats that are not whole numbers between 1e-4 and 1e16 (both write the
    shortest digits that round-trip, without an exponent), and whole floats up to 2^53, which RFC 8785 writes
    as the integer they are. Anything else (very large or small floats, other types, lone surrogates) goes to
    the rfc8785 library, as everything did before; the tests compare both on generated values."""
    try:
        return _encode(_plain(value)).encode("utf-8")
    except (_NotPlain, UnicodeEncodeError, ValueError, RecursionError):  # rfc8785 writes it or says why not
        return rfc8785.dumps(value)


class _NotPlain(Exception):
    pass


_SAFE_INTEGER = 2**53 - 1
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False).encode


def _plain(value: Any) -> Any:
    """``value`` as Python's encoder writes exactly as RFC 8785 does (whole floats as integers; the same
    object when nothing changes), or _NotPlain (see ``canonical``)."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is int:
        if -_SAFE_INTEGER <= value <= _SAFE_INTEGER:
            return value
    elif kind is float:
        size = abs(value)
        if value.is_integer():
            if size <= _SAFE_INTEGER:  # beyond, RFC 8785 pads the shortest digits with zeros
                return int(value)
        elif 1e-4 <= size < 1e16:  # neither infinite nor NaN
            return value
    elif kind is dict:
        items = {}
        changed = False
        for key, item in value.items():
            if type(key) is not str or not (key.isascii() or max(key) <= "\uffff"):
                raise _NotPlain
            items[key] = written = _plain(item)
            changed = changed or written is not item
        return items if changed else value
    elif kind is list or kind is tuple:
        written = [_plain(item) for item in value]
        return written if any(a is not b for a, b in zip(written, value, strict=True)) else value
    elif isinstance(value, str):  # a subclass (a witness's operation is a TextChoices member): its characters
        return str.__str__(value)
    raise _NotPlain


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def iso(moment: datetime) -> str:
    """A timestamp as it enters signed bytes: UTC, microseconds, always the same shape."""
    if moment.tzinfo is None:
        raise ValueError("signed timestamps must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@lru_cache(maxsize=4)
def _load_private(path: str) -> Ed25519PrivateKey:
    key_path = Path(path)
    if not key_path.exists():
        _create_private(key_path)
    loaded = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ValueError(f"{key_path} does not hold an Ed25519 private key")
    return loaded


def _create_private(key_path: Path) -> None:
    """Write a new key whole to a temporary file, then link it into place. The name appears only with its
    complete contents, so a process or thread signing its first witness at the same moment reads either
    nothing (and links its own, which loses) or the whole winning key. Creating the file in place with
    O_EXCL and writing it afterwards let a racer read it empty: a 500 and a lost witness."""
    key_path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    temporary = key_path.with_name(f".{key_path.name}.{os.getpid()}.{os.urandom(6).hex()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, key_path)  # fails if another process got there first: theirs is kept
        except FileExistsError:
            pass
    finally:
        temporary.unlink()


class SiteKey:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)

    @property
    def private(self) -> Ed25519PrivateKey:
        return _load_private(self.path)

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    def sign(self, data: bytes) -> str:
        return base64.b64encode(self.private.sign(data)).decode("ascii")

    def verify(self, data: bytes, signature: str) -> bool:
        return verify(self.public, data, signature)

    def public_raw_hex(self) -> str:
        return self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()

    def public_pem(self) -> str:
        return self.public.public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")

    def key_id(self) -> str:
        """Short fingerprint: the first 16 hex digits of SHA-256 over the raw public key."""
        return sha256_hex(bytes.fromhex(self.public_raw_hex()))[:16]


def verify(public: Ed25519PublicKey, data: bytes, signature: str) -> bool:
    try:
        public.verify(base64.b64decode(signature, validate=True), data)
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_many(public_raw: bytes, items: list[tuple[bytes, str]]) -> list[bool]:
    """Each (data, signature) checked against the raw public key, with libsodium (PyNaCl); ``ledger.verify``
    runs it in child processes (``verify_serve``) while it reads and checks the rows. A signature libsodium
    refuses is checked again with ``verify`` before it counts as bad, so the
    answer never depends on which library looked."""
    from nacl.exceptions import BadSignatureError
    from nacl.signing import VerifyKey

    key = VerifyKey(public_raw)
    public = Ed25519PublicKey.from_public_bytes(public_raw)
    results = []
    for data, signature in items:
        try:
            key.verify(data, base64.b64decode(signature, validate=True))
            results.append(True)
        except (BadSignatureError, ValueError):
            results.append(verify(public, data, signature))
    return results


def verify_serve(read_fd: int, write_fd: int, public_raw_hex: str) -> None:
    """A signature-checking process's loop: first an empty message on ``write_fd`` (ready), then each
    message read from ``read_fd``, a pickled non-empty list of (data, signature) pairs, is answered with one
    byte per pair, 1 where ``verify_many`` accepts it and 0 where not; returns when the other end closes.
    No Django and no database here: ``ledger.verify`` runs this in child processes and feeds it the
    entries it reads."""
    import pickle
    import signal
    from multiprocessing.connection import Connection

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the verifier, which then closes the pipes
    public_raw = bytes.fromhex(public_raw_hex)
    verify_many(public_raw, [])  # loads libsodium's binding before saying ready
    incoming, outgoing = Connection(read_fd, writable=False), Connection(write_fd, readable=False)
    try:
        outgoing.send_bytes(b"")
        while True:
            items = pickle.loads(incoming.recv_bytes())  # noqa: S301  from the process that started this one
            outgoing.send_bytes(bytes(verify_many(public_raw, items)))
    except (EOFError, BrokenPipeError):  # the verifying process is done with this one
        return


# --- Checkpoints --------------------------------------------------------------------------------

def checkpoint_write(directory: str | os.PathLike[str], key: SiteKey, *, sequence: int, head_hash: str,
                     created_at: str) -> Path:
    """Append a signed (sequence, head hash, time) line to ``checkpoints.jsonl``."""
    body = {"sequence": sequence, "head_hash": head_hash, "created_at": created_at, "key_id": key.key_id()}
    line = {**body, "signature": key.sign(canonical(body))}
    path = Path(directory) / "checkpoints.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(line, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return path


def checkpoint_latest(directory: str | os.PathLike[str]) -> dict[str, Any] | None:
    path = Path(directory) / "checkpoints.jsonl"
    if not path.exists():
        return None
    latest = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.strip():
            entry = json.loads(raw)
            if latest is None or entry["sequence"] >= latest["sequence"]:
                latest = entry
    return latest


def checkpoint_signature_ok(checkpoint: dict[str, Any], public: Ed25519PublicKey) -> bool:
    body = {name: checkpoint[name] for name in ("sequence", "head_hash", "created_at", "key_id")}
    return verify(public, canonical(body), checkpoint.get("signature", ""))
