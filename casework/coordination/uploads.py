"""Checks an uploaded file by what it contains, never by what it is called.

A chart takes PDFs and photos or scans (JPEG, PNG, WebP, TIFF, GIF) and nothing else: the type
comes from the bytes (the PDF header and a full parse by pypdf; Pillow's reading of the image),
and a name whose extension says something else is refused, so a program or a web page cannot
slip in dressed as a scan. The name the person gave is kept, cleaned, for display and
downloads only; the stored file gets a random name.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import unicodedata
import warnings
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageSequence
from pypdf import PdfReader

from casework.coordination.errors import CoordinationError

NAME_LIMIT = 255  # Document.original_name
PDF = "application/pdf"
ACCEPTED = "PDF, JPEG, PNG, WebP, TIFF or GIF"


@dataclass(frozen=True)
class FileType:
    content_type: str
    label: str
    extensions: tuple[str, ...]  # the first is the one added to a name that has none


PDF_TYPE = FileType(PDF, "a PDF", (".pdf",))
IMAGE_TYPES: dict[str, FileType] = {
    "JPEG": FileType("image/jpeg", "a JPEG image", (".jpg", ".jpeg", ".jpe", ".jfif")),
    "PNG": FileType("image/png", "a PNG image", (".png",)),
    "WEBP": FileType("image/webp", "a WebP image", (".webp",)),
    "TIFF": FileType("image/tiff", "a TIFF image", (".tif", ".tiff")),
    "GIF": FileType("image/gif", "a GIF image", (".gif",)),
}
# Phone cameras write multi-picture JPEGs, which Pillow names MPO: to anyone else a JPEG.
IMAGE_TYPES["MPO"] = IMAGE_TYPES["JPEG"]
KNOWN_EXTENSIONS = frozenset(
    ext for kind in (PDF_TYPE, *IMAGE_TYPES.values()) for ext in kind.extensions
)


class UploadRefused(CoordinationError):
    """The file cannot go in the chart; the message says why and what to do instead."""

    field = "file"


@dataclass(frozen=True)
class CheckedUpload:
    """What the content check found: the stored name is random, the original is for people."""

    content_type: str
    size: int
    sha256: str
    original_name: str
    stored_name: str


def megabytes(limit: int) -> str:
    return f"{limit / 1_048_576:.3g} MB"


def _split(name: str) -> tuple[str, str]:
    """Stem and extension; a dotted tail that is no file type ("Scan 2024.01.05") is stem."""
    stem, ext = os.path.splitext(name)
    if re.fullmatch(r"\.[A-Za-z0-9]{1,5}", ext) and re.search(r"[A-Za-z]", ext):
        return stem, ext
    return name, ""


def clean_name(name: str, *, extension: str = "") -> str:
    """The name to show and to offer on download: no folders, no control or direction
    characters, at most 255 characters, and `extension` added when the name has none."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in name)
    stem, ext = _split(" ".join(name.split()).strip(" ."))
    stem = stem.rstrip(" .") or "document"
    ext = ext or extension
    return stem[: NAME_LIMIT - len(ext)].rstrip(" .") + ext


def _extension(name: str) -> str:
    return _split(clean_name(name))[1].lower()


def _sha256(uploaded: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in uploaded.chunks():
        digest.update(chunk)
    return digest.hexdigest()


def _check_pdf(stream: IO[bytes] | Any) -> None:
    stream.seek(0)
    try:
        reader = PdfReader(stream)
        encrypted = reader.is_encrypted
        pages = 0 if encrypted else len(reader.pages)
    except Exception:  # pypdf raises many kinds of error on a broken file
        raise UploadRefused(
            "This PDF is damaged and cannot be read. Save or scan it again, then upload that."
        ) from None
    if encrypted:
        raise UploadRefused(
            "This PDF is protected with a password or encryption. Open it, save or print it as "
            "a PDF without protection, then upload that copy."
        )
    if pages == 0:
        raise UploadRefused("This PDF has no pages. Check you picked the right file.")


MAX_FRAMES = 100  # pages of a TIFF scan, frames of a GIF


def _check_every_frame(stream: IO[bytes] | Any) -> None:
    """A multi-page scan is checked page by page: a later page may be the oversized one."""
    stream.seek(0)
    with Image.open(stream) as image:
        for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
            if number > MAX_FRAMES:
                raise UploadRefused(
                    f"This file has more than {MAX_FRAMES} pages. Split it, or save it as a PDF."
                )
            width, height = frame.size
            if Image.MAX_IMAGE_PIXELS and width * height > Image.MAX_IMAGE_PIXELS:
                raise Image.DecompressionBombError("a page is too large")


def _image_type(stream: IO[bytes] | Any) -> FileType | None:
    """The image's type by its content, or None if it is no image we take."""
    stream.seek(0)
    with warnings.catch_warnings():
        # An image that would fill gigabytes once decoded is refused, not warned about.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(stream, formats=["JPEG", "PNG", "WEBP", "TIFF", "GIF"]) as image:
                kind = IMAGE_TYPES.get(str(image.format))
                image.verify()
            _check_every_frame(stream)
        except Image.UnidentifiedImageError:
            return None
        except UploadRefused:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise UploadRefused(
                "This image is too large to show. Save it at a smaller size, or as a PDF."
            ) from None
        except Exception:  # Pillow raises many kinds of error on a broken file
            raise UploadRefused(
                "This image is damaged and cannot be read. Take the photo or scan again."
            ) from None
    return kind


def _unknown(extension: str) -> UploadRefused:
    named = (
        f" Its name ends in {extension}, but its content is something else."
        if extension in KNOWN_EXTENSIONS
        else ""
    )
    return UploadRefused(
        f"This file is not a PDF or an image ({ACCEPTED}).{named} Save the document as a PDF, "
        "or take a photo of it, and upload that."
    )


def upload_check(uploaded: UploadedFile) -> CheckedUpload:
    """Refuse anything but a readable PDF or image within the size limit; describe what it is."""
    limit = settings.CASEWORK_MAX_UPLOAD_BYTES
    size = uploaded.size or 0
    if size == 0:
        raise UploadRefused("The file is empty. Check you picked the right file.")
    if size > limit:
        raise UploadRefused(
            f"This file is larger than the limit of {megabytes(limit)}. Scan it at a lower "
            "resolution, or split it into parts, and upload those."
        )
    extension = _extension(uploaded.name or "")
    uploaded.seek(0)
    header = uploaded.read(5)
    kind = PDF_TYPE if header == b"%PDF-" else _image_type(uploaded)
    if kind is None:
        raise _unknown(extension)
    if extension and extension not in kind.extensions:
        raise UploadRefused(
            f"The file's name ends in {extension}, but it is {kind.label}. Check you picked the "
            f"right file; if you did, rename it to end in {kind.extensions[0]} and upload it again."
        )
    if kind is PDF_TYPE:
        _check_pdf(uploaded)
    uploaded.seek(0)
    return CheckedUpload(
        content_type=kind.content_type,
        size=size,
        sha256=_sha256(uploaded),
        original_name=clean_name(uploaded.name or "", extension=kind.extensions[0]),
        stored_name=secrets.token_hex(16) + kind.extensions[0],
    )
