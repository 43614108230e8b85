"""Tiny wheels made on the spot, for testing the dependency layer's pip install without a network."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def make_wheel(
    directory: Path, name: str, version: str, tag: str, files: dict[str, bytes],
    *, scripts: dict[str, str] | None = None,
) -> Path:  # fmt: skip
    """`directory/<name>-<version>-<tag>.whl` holding `files` (path → content) and its metadata."""
    info = f"{name}-{version}.dist-info"
    pure = tag.endswith("-none-any")
    contents = dict(files)
    contents[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    contents[f"{info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: openai-cf-tests\nRoot-Is-Purelib: {str(pure).lower()}\nTag: {tag}\n"
    ).encode()
    if scripts:
        lines = "".join(f"{script} = {target}\n" for script, target in scripts.items())
        contents[f"{info}/entry_points.txt"] = f"[console_scripts]\n{lines}".encode()
    record = [_record_line(path, data) for path, data in contents.items()] + [f"{info}/RECORD,,"]
    contents[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = directory / f"{name}-{version}-{tag}.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in contents.items():
            archive.writestr(path, data)
    return wheel
