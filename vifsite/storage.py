"""Static files: hashed names and pre-compressed copies (servestatic), so browsers may cache them for a year."""

from __future__ import annotations

from typing import Any

from servestatic.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    """`make run` runs collectstatic, which writes the manifest of hashed names. A server started without it
    (a test's own data directory, a developer's shell) still renders pages: an unknown name stays unhashed
    instead of raising, and servestatic then serves it, uncached, if it is there at all."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # servestatic's __init__ sets this from SERVESTATIC_MANIFEST_STRICT (default True), after the class attribute
        self.manifest_strict = False

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:
            return name
