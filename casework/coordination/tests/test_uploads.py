"""An uploaded file is judged by its content: PDFs and images only, named for what they are."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image
from pypdf import PdfWriter

from casework.coordination.models import Document
from casework.coordination.uploads import (
    NAME_LIMIT,
    UploadRefused,
    clean_name,
    upload_check,
)
from casework.testing.coordination import document

# What the first bytes of a Windows program look like.
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def pdf_bytes(pages: int = 1) -> bytes:
    """A small PDF as pypdf writes it (A_PDF has no startxref, which pypdf 7 refuses)."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=612, height=792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


A_PDF = pdf_bytes()


def image_bytes(fmt: str, *, frames: int = 1, size: tuple[int, int] = (40, 30)) -> bytes:
    """A small real image in `fmt` (several pages for a TIFF when asked)."""
    buffer = io.BytesIO()
    pages = [Image.new("RGB", size, (200, 30 * n, 40)) for n in range(frames)]
    pages[0].save(buffer, fmt, save_all=frames > 1, append_images=pages[1:])
    return buffer.getvalue()


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    writer.encrypt(user_password="secret", algorithm="RC4-40")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_pdf_is_taken_as_a_pdf_with_its_size_and_hash() -> None:
    checked = upload_check(upload("summary.pdf", A_PDF))
    assert checked.content_type == "application/pdf"
    assert checked.size == len(A_PDF)
    assert checked.sha256 == hashlib.sha256(A_PDF).hexdigest()
    assert checked.original_name == "summary.pdf"


@pytest.mark.parametrize(
    ("fmt", "name", "content_type"),
    [
        ("JPEG", "card.jpg", "image/jpeg"),
        ("JPEG", "card.JPEG", "image/jpeg"),
        ("PNG", "card.png", "image/png"),
        ("WEBP", "card.webp", "image/webp"),
        ("TIFF", "fax.tif", "image/tiff"),
        ("GIF", "card.gif", "image/gif"),
    ],
)
def test_each_image_type_is_recognised_by_its_content(
    fmt: str, name: str, content_type: str
) -> None:
    assert upload_check(upload(name, image_bytes(fmt))).content_type == content_type


def test_the_type_comes_from_the_content_not_from_what_the_browser_said() -> None:
    sent = SimpleUploadedFile("card.png", image_bytes("PNG"), content_type="application/pdf")
    assert upload_check(sent).content_type == "image/png"


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(UploadRefused, match="The file is empty"):
        upload_check(upload("summary.pdf", b""))


@override_settings(CASEWORK_MAX_UPLOAD_BYTES=2 * 1_048_576)
def test_a_file_over_the_limit_is_refused_with_the_limit_in_mb() -> None:
    with pytest.raises(UploadRefused, match="larger than the limit of 2 MB"):
        upload_check(upload("big.pdf", A_PDF + b"%" * (2 * 1_048_576)))


def test_the_default_limit_is_ten_megabytes() -> None:
    assert settings.CASEWORK_MAX_UPLOAD_BYTES == 10 * 1_048_576


def test_png_bytes_named_pdf_are_refused_naming_what_they_are() -> None:
    with pytest.raises(UploadRefused, match=r"ends in \.pdf, but it is a PNG image"):
        upload_check(upload("summary.pdf", image_bytes("PNG")))


def test_a_pdf_named_jpg_is_refused() -> None:
    with pytest.raises(UploadRefused, match=r"ends in \.jpg, but it is a PDF"):
        upload_check(upload("photo.jpg", A_PDF))


def test_an_image_named_as_a_program_or_a_web_page_is_refused() -> None:
    for name in ("card.exe", "card.html", "card.svg"):
        with pytest.raises(UploadRefused, match="but it is a PNG image"):
            upload_check(upload(name, image_bytes("PNG")))


def test_a_program_named_pdf_is_refused() -> None:
    with pytest.raises(UploadRefused, match=r"not a PDF or an image.*ends in \.pdf"):
        upload_check(upload("summary.pdf", EXE))


def test_a_zip_archive_named_pdf_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("run.exe", EXE)
    with pytest.raises(UploadRefused, match="not a PDF or an image"):
        upload_check(upload("summary.pdf", buffer.getvalue()))


def test_a_web_page_and_an_svg_are_not_images_we_take() -> None:
    for name, content in (
        ("page.png", b"<html><script>alert(1)</script></html>"),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ):
        with pytest.raises(UploadRefused, match="not a PDF or an image"):
            upload_check(upload(name, content))


def test_a_pdf_header_in_front_of_garbage_is_refused_as_damaged() -> None:
    with pytest.raises(UploadRefused, match="damaged"):
        upload_check(upload("summary.pdf", b"%PDF-1.7\n" + b"\x00garbage" * 20))


def test_a_broken_image_is_refused_as_damaged() -> None:
    broken = image_bytes("PNG")[:60]
    with pytest.raises(UploadRefused, match="damaged"):
        upload_check(upload("card.png", broken))


def test_an_encrypted_pdf_is_refused_with_what_to_do() -> None:
    with pytest.raises(UploadRefused, match="protected with a password"):
        upload_check(upload("locked.pdf", encrypted_pdf()))


def test_a_name_without_an_extension_gets_the_one_of_its_content() -> None:
    assert upload_check(upload("IMG_4032", image_bytes("JPEG"))).original_name == "IMG_4032.jpg"
    assert upload_check(upload("Scan 2024.01.05", A_PDF)).original_name == "Scan 2024.01.05.pdf"


def test_names_lose_folders_control_and_direction_characters() -> None:
    assert clean_name("../../etc/passwd.pdf") == "passwd.pdf"
    assert clean_name("C:\\Users\\maria\\scan.pdf") == "scan.pdf"
    assert clean_name("invoice\u202egpj.pdf") == "invoice gpj.pdf"
    assert clean_name("two\nlines\t.pdf") == "two lines.pdf"
    assert clean_name("", extension=".pdf") == "document.pdf"


def test_a_unicode_name_is_kept_as_typed() -> None:
    name = "Überweisung \u2013 診断書.pdf"
    assert upload_check(upload(name, A_PDF)).original_name == name


def test_a_long_name_is_cut_to_255_characters_keeping_its_extension() -> None:
    name = clean_name("ä" * 400 + ".pdf")
    assert len(name) == NAME_LIMIT
    assert name.endswith("ä.pdf")


def test_the_stored_name_is_random_and_keeps_nothing_of_the_original() -> None:
    first = upload_check(upload("María O'Connor ID.jpg", image_bytes("JPEG")))
    second = upload_check(upload("María O'Connor ID.jpg", image_bytes("JPEG")))
    assert first.stored_name != second.stored_name
    assert first.stored_name.endswith(".jpg")
    assert "Mar" not in first.stored_name


def test_the_document_field_stores_under_the_configured_documents_root() -> None:
    storage = Document._meta.get_field("file").storage
    assert Path(storage.path("x")).parent == Path(settings.CASEWORK_DOCUMENTS_ROOT)


def test_a_scan_is_checked_page_by_page() -> None:
    with pytest.raises(UploadRefused, match="more than 100 pages"):
        upload_check(upload("scan.tif", image_bytes("TIFF", frames=101, size=(4, 4))))
    small_first = io.BytesIO()
    pages = [Image.new("L", (4, 4)), Image.new("L", (3000, 3000))]
    pages[0].save(small_first, "TIFF", save_all=True, append_images=pages[1:])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000_000)
        with pytest.raises(UploadRefused, match="too large"):
            upload_check(upload("scan.tif", small_first.getvalue()))


@pytest.mark.django_db
def test_stored_documents_are_readable_by_the_application_only(cast) -> None:  # type: ignore[no-untyped-def]
    stored = document(client=cast.client, by=cast.case_manager)
    assert Path(stored.file.path).stat().st_mode & 0o777 == 0o600
