"""Photos and files of a case: type checked by content, stored once by checksum.

Files live under `upload_dir/<first two hex>/<sha256>`; the database row says which case
(and which event) they belong to. A file written for a request that then fails stays on
disk unreferenced: harmless, because the same content reuses it.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

# What a grid worker's phone or a department sends: photos and documents. Detected from
# the first bytes, never trusted from the client's declared type or the file name.
SIGNATURES: tuple[tuple[str, int, bytes], ...] = (
    ("image/jpeg", 0, b"\xff\xd8\xff"),
    ("image/png", 0, b"\x89PNG\r\n\x1a\n"),
    ("image/gif", 0, b"GIF8"),
    ("application/pdf", 0, b"%PDF-"),
    ("image/heic", 4, b"ftypheic"),
    ("image/heic", 4, b"ftypheix"),
    ("image/heic", 4, b"ftypmif1"),
)
ALLOWED_TYPES = sorted({kind for kind, _, _ in SIGNATURES} | {"image/webp"})
# Declared types that say nothing: accepted, and replaced by the detected type.
VAGUE_TYPES = {"", "application/octet-stream", "binary/octet-stream"}


def detect_type(head: bytes) -> str | None:
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    for kind, offset, magic in SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return kind
    return None


def clean_filename(name: str | None) -> str:
    """The base name without paths or control characters, at most 200 characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    # Control characters, and bidirectional overrides that make "photo\u202egnp.exe" read
    # as "photoexe.png".
    base = re.sub(r"[\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]", "", base).strip()
    return base[:200] or "attachment"


def store(upload_dir: Path, content: bytes) -> str:
    """Write `content` once under its checksum; returns the sha256 hex digest."""
    digest = hashlib.sha256(content).hexdigest()
    target = path_of(upload_dir, digest)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a reader never sees half a file.
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
            tmp.write(content)
        os.replace(tmp.name, target)
    return digest


def path_of(upload_dir: Path, digest: str) -> Path:
    return upload_dir / digest[:2] / digest
