"""Static files: hashed names and pre-compressed copies (whitenoise), so browsers may cache them for a year."""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    """`make run` runs collectstatic, which writes the manifest of hashed names. A server started without it
    (a test's own data directory, a developer's shell) still renders pages: an unknown name stays unhashed
    instead of raising, and whitenoise then serves it, uncached, if it is there at all."""

    manifest_strict = False

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:
            return name
