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
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

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


# What a PDF can carry that runs, or drops a file, on the computer of whoever opens it: scripts,
# actions that start a program or send the form elsewhere, files packed inside (with or without
# their optional /Type), XFA forms, embedded media. A scan or a letter has none. Fillable forms
# made in Acrobat often carry small field-formatting scripts, so they are refused too: printing
# to PDF ("Save as PDF") keeps what was filled in and leaves the scripts out, as the message says.
ACTIVE_PDF_NAMES = frozenset(
    {
        "/JS",
        "/JavaScript",
        "/Launch",
        "/SubmitForm",
        "/EmbeddedFile",
        "/EmbeddedFiles",
        "/EF",
        "/FileAttachment",
        "/XFA",
        "/RichMedia",
        "/GoToE",
    }
)
MAX_PDF_OBJECTS = 100_000  # far beyond a scanned or written document


def _active_content(reader: PdfReader) -> bool:
    """Whether any object of the PDF reachable from its trailer (what a reader acts on) names
    active content, as a key (/JavaScript in the names tree) or a value (/S /Launch)."""
    seen: set[tuple[int, int]] = set()
    todo: list[Any] = [reader.trailer]
    while todo:
        item = todo.pop()
        if isinstance(item, IndirectObject):
            if (item.idnum, item.generation) in seen:
                continue
            seen.add((item.idnum, item.generation))
            if len(seen) > MAX_PDF_OBJECTS:
                raise UploadRefused(
                    "This PDF is too complex to check. Print it to a new PDF (“Save as PDF”) "
                    "and upload that copy."
                )
            todo.append(item.get_object())
        elif isinstance(item, DictionaryObject):
            if ACTIVE_PDF_NAMES.intersection(item.keys()):
                return True
            todo.extend(item.values())
        elif isinstance(item, ArrayObject):
            todo.extend(item)
        elif isinstance(item, NameObject) and item in ACTIVE_PDF_NAMES:
            return True
    return False


def _check_pdf(stream: IO[bytes] | Any) -> None:
    stream.seek(0)
    try:
        reader = PdfReader(stream)
        encrypted = reader.is_encrypted
        pages = 0 if encrypted else len(reader.pages)
        active = not encrypted and pages > 0 and _active_content(reader)
    except UploadRefused:
        raise
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
    if active:
        raise UploadRefused(
            "This PDF contains a script, a program or other files, which could run on the "
            "computer of whoever opens it. Print it to a new PDF (“Save as PDF”), which leaves "
            "them out, and upload that copy."
        )


MAX_FRAMES = 100  # pages of a TIFF scan, frames of a GIF
# All the pages of a file together: a hundred letter pages scanned at 300 dpi. A TIFF scan is
# drawn page by page to be shown, so this bounds the work of showing one.
MAX_TOTAL_PIXELS = MAX_FRAMES * 2550 * 3300


def _frame_sizes(image: Image.Image) -> list[tuple[int, int]]:
    """The size of each page or frame, read from the file's headers: nothing is decoded, as
    decoding a crafted animation's frames would take a server minutes."""
    if image.format != "TIFF":
        # GIF, PNG and WebP frames are all drawn on the image's canvas.
        frames = int(getattr(image, "n_frames", 1))
        return [image.size] * min(frames, MAX_FRAMES + 1)
    sizes = []
    for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
        sizes.append(frame.size)  # moving to a TIFF page reads its header only
        if number > MAX_FRAMES:
            break
    return sizes


def _check_every_frame(stream: IO[bytes] | Any) -> None:
    """A multi-page scan is checked page by page: a later page may be the oversized one."""
    stream.seek(0)
    with Image.open(stream) as image:
        sizes = _frame_sizes(image)
    if len(sizes) > MAX_FRAMES:
        raise UploadRefused(
            f"This file has more than {MAX_FRAMES} pages. Split it, or save it as a PDF."
        )
    pixels = [width * height for width, height in sizes]
    if Image.MAX_IMAGE_PIXELS and max(pixels) > Image.MAX_IMAGE_PIXELS:
        raise Image.DecompressionBombError("a page is too large")
    if sum(pixels) > MAX_TOTAL_PIXELS:
        raise Image.DecompressionBombError("the pages together are too large")


# How the image types we take begin, to tell a damaged image from something else entirely.
IMAGE_SIGNATURES = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"GIF87a",
    b"GIF89a",
    b"II*\x00",
    b"MM\x00*",
)
DAMAGED_IMAGE = "This image is damaged and cannot be read. Take the photo or scan again."


def _looks_like_an_image(stream: IO[bytes] | Any) -> bool:
    stream.seek(0)
    head = stream.read(12)
    return head.startswith(IMAGE_SIGNATURES) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


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
            if _looks_like_an_image(stream):
                raise UploadRefused(DAMAGED_IMAGE) from None
            return None
        except UploadRefused:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise UploadRefused(
                "This image is too large to show. Save it at a smaller size, or as a PDF."
            ) from None
        except Exception:  # Pillow raises many kinds of error on a broken file
            raise UploadRefused(DAMAGED_IMAGE) from None
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
