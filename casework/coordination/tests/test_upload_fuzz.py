"""Ugly uploads, posted through the real pages as the people allowed to post them.

The bytes and the names are what a hostile or broken client sends: multipart bodies are written
by hand, so a name like `../../etc/passwd` reaches the server as it was sent (Django's test
client would have cut it). Whatever arrives, the answer is never a 500; a refused file gets a
message about the file on the form and leaves nothing behind (no row, no file on disk); a file
that goes in is stored under a random name inside the documents folder, keeps a harmless name
for people, and its pages (detail, frame, download) answer. Then hypothesis: random bytes,
random names, and real files cut, flipped and padded.

The directory's CSV import, the other upload of this app, is fuzzed at the end.
"""

from __future__ import annotations

import html
import io
import os
import random
import re
import struct
import unicodedata
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.test import Client as HttpClient
from django.test import override_settings
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image
from pypdf import PdfWriter
from pypdf.actions import JavaScript

from casework.coordination.models import Document, Organization
from casework.coordination.tests.test_uploads import (
    EXE,
    encrypted_pdf,
    image_bytes,
    pdf_bytes,
)
from casework.core.models import User
from casework.testing.personas import Cast

pytestmark = pytest.mark.django_db

HttpAs = Callable[[User], HttpClient]
FUZZ = hypothesis_settings(
    max_examples=25,
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
STORED_NAME = re.compile(r"documents/\d{4}/\d{2}/[0-9a-f]{32}\.(pdf|jpg|png|webp|tif|gif)")
A_PDF = pdf_bytes()
A_PNG = image_bytes("PNG")
A_JPEG = image_bytes("JPEG")

# Seeded: test ids are made from the bytes, and every xdist worker must collect the same ones.
NOISE = random.Random(2026)


# -- Posting by hand --------------------------------------------------------------------------


def multipart(
    fields: dict[str, str], filename: bytes | None, content: bytes, content_type: str
) -> tuple[bytes, str]:
    """A multipart/form-data body as a client may send it: the file part's name is raw bytes."""
    boundary = uuid.uuid4().hex
    parts = []
    for key, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        )
    if filename is not None:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="'.encode()
            + filename
            + f'"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def upload_url(cast: Cast) -> str:
    return f"/clients/{cast.client.pk}/documents/new/"


def post_document(
    http: HttpClient,
    cast: Cast,
    name: str | bytes | None,
    content: bytes,
    content_type: str = "application/octet-stream",
    key: str | None = None,
) -> HttpResponse:
    fields = {
        "kind": Document.Kind.ID_CARD,
        "title": "Medicaid card, front",
        "dated_on": cast.agency.today().isoformat(),
        "submission_key": key or uuid.uuid4().hex,
    }
    filename = name.encode() if isinstance(name, str) else name
    body, header = multipart(fields, filename, content, content_type)
    return http.generic("POST", upload_url(cast), body, content_type=header)  # type: ignore[return-value]


def stored_files() -> set[Path]:
    root = Path(settings.CASEWORK_DOCUMENTS_ROOT)
    return {p for p in root.rglob("*") if p.is_file()}


@contextmanager
def nothing_kept_unless_taken(cast: Cast) -> Iterator[dict[str, int]]:
    """Counts the client's documents and files around a post: a refusal must leave neither."""
    before_rows = Document.objects.filter(client=cast.client).count()
    before_files = stored_files()
    outcome: dict[str, int] = {}
    yield outcome
    outcome["rows"] = Document.objects.filter(client=cast.client).count() - before_rows
    outcome["files"] = len(stored_files() - before_files)


def file_error(response: HttpResponse) -> str:
    found = re.search(r'id="id_file_error">(.*?)</span>', response.content.decode(), re.DOTALL)
    return html.unescape(found.group(1)) if found else ""


def assert_refused(
    cast: Cast, http: HttpClient, name: str | bytes | None, content: bytes, why: str, **more: str
) -> None:
    with nothing_kept_unless_taken(cast) as kept:
        response = post_document(http, cast, name, content, **more)
    assert response.status_code == 400, response.status_code
    assert why in file_error(response), file_error(response) or response.content.decode()[:500]
    assert kept == {"rows": 0, "files": 0}


def safe_display_name(name: str) -> bool:
    return (
        0 < len(name) <= 255
        and "/" not in name
        and "\\" not in name
        and name not in (".", "..")
        and not name.startswith(".")
        and not any(unicodedata.category(ch).startswith("C") for ch in name)
    )


def assert_taken(
    cast: Cast, http: HttpClient, response: HttpResponse, content_type: str
) -> Document:
    """The document is in the chart, stored safely, and each of its pages answers."""
    assert response.status_code == 302, file_error(response) or response.status_code
    document = Document.objects.filter(client=cast.client).latest("pk")
    assert response["Location"] == f"/clients/{cast.client.pk}/documents/{document.pk}/"
    assert document.content_type == content_type
    assert STORED_NAME.fullmatch(document.file.name), document.file.name
    root = Path(settings.CASEWORK_DOCUMENTS_ROOT).resolve()
    assert root in Path(document.file.path).resolve().parents
    assert safe_display_name(document.original_name), repr(document.original_name)
    assert http.get(response["Location"]).status_code == 200
    shown = http.get(f"{response['Location']}view/")
    assert shown.status_code == 200
    assert shown["X-Content-Type-Options"] == "nosniff"
    assert shown["Content-Security-Policy"] == "sandbox"
    assert shown["Content-Type"] in (content_type, "application/pdf")
    download = http.get(f"{response['Location']}download/")
    assert download.status_code == 200 and download["Content-Type"] == content_type
    assert download["Content-Disposition"].startswith("attachment;")
    assert (
        "\n" not in download["Content-Disposition"] and "\r" not in download["Content-Disposition"]
    )
    return document


# -- Ugly files, picked by hand ----------------------------------------------------------------


def raw_pdf(*objects: bytes) -> bytes:
    """A one-page PDF written by hand (object 1 is the catalogue), with a correct cross-reference
    table: for the names pypdf would never write, such as `/J#61vaScript`."""
    body = [b"%PDF-1.7\n"]
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(sum(map(len, body)))
        body.append(b"%d 0 obj\n%s\nendobj\n" % (number, obj))
    xref = sum(map(len, body))
    body.append(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    body += [b"%010d 00000 n \n" % offset for offset in offsets]
    body.append(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return b"".join(body)


PAGES = [
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
]


def pdf_with_open_action() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    writer.add_open_action(JavaScript("app.alert('hello')"))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_with_attachment() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    writer.add_attachment("invoice.exe", EXE)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header says `width` x `height`, followed by a token of data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def canvas_gif(frames: int, width: int, height: int) -> bytes:
    """A GIF of `frames` one-pixel frames on a `width` x `height` canvas, written by hand: a few
    bytes a frame on disk, the whole canvas for each frame once decoded."""
    one = io.BytesIO()
    Image.new("P", (1, 1), 0).save(one, "GIF")
    pixel = one.getvalue()  # header, screen, 2 colours, one frame, trailer
    screen = b"GIF89a" + struct.pack("<HH", width, height) + pixel[10:19]
    return screen + pixel[19:-1] * frames + b";"


def animation(fmt: str, frames: int, size: tuple[int, int]) -> bytes:
    """An animation of `frames` frames of `size`, alternating two colours (small on disk)."""
    pictures = [Image.new("L", size, 255 * (n % 2)) for n in range(frames)]
    out = io.BytesIO()
    pictures[0].save(out, fmt, save_all=True, append_images=pictures[1:])
    return out.getvalue()


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.html", "<script>alert(1)</script>")
    return out.getvalue()


DAMAGED_PDF = "This PDF is damaged"
ACTIVE_PDF = "This PDF contains a script, a program or other files"
NOT_A_DOCUMENT = "This file is not a PDF or an image"
TOO_LARGE = "This image is too large to show"


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("empty.pdf", b"", "The file is empty"),
        ("random.pdf", NOISE.randbytes(2048), NOT_A_DOCUMENT),
        ("random.png", NOISE.randbytes(2048), NOT_A_DOCUMENT),
        ("random.jpg", NOISE.randbytes(2048), NOT_A_DOCUMENT),
        ("noise", NOISE.randbytes(64), NOT_A_DOCUMENT),
        ("truncated.pdf", A_PDF[: len(A_PDF) // 2], DAMAGED_PDF),
        ("header-only.pdf", b"%PDF-1.7\n", DAMAGED_PDF),
        ("pdf-then-garbage.pdf", b"%PDF-1.4\n" + NOISE.randbytes(4096), DAMAGED_PDF),
        ("encrypted.pdf", encrypted_pdf(), "protected with a password"),
        ("script.pdf", pdf_with_open_action(), ACTIVE_PDF),
        ("attachment.pdf", pdf_with_attachment(), ACTIVE_PDF),
        (
            "launch.pdf",
            raw_pdf(
                b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /Launch /F (calc.exe) >> >>",
                *PAGES,
            ),
            ACTIVE_PDF,
        ),
        (
            "hidden-script.pdf",  # the name written with a hex escape, as malware does
            raw_pdf(
                b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
                *PAGES,
                b"<< /S /J#61vaScript /J#53 (app.alert(1)) >>",
            ),
            ACTIVE_PDF,
        ),
        (
            "page-script.pdf",  # a script run when a page opens, deep in the page tree
            raw_pdf(
                b"<< /Type /Catalog /Pages 2 0 R >>",
                PAGES[0],
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /AA << /O << /S /JavaScript /JS (x) >> >> >>",
            ),
            ACTIVE_PDF,
        ),
        ("png-then-garbage.png", A_PNG[:40] + NOISE.randbytes(512), "This image is damaged"),
        ("bomb.png", png_declaring(100_000, 100_000), TOO_LARGE),
        ("wide.png", png_declaring(2**31 - 1, 1), TOO_LARGE),
        # 2 KB whose 100 frames each fill an 81-megapixel canvas: decoding them to check them
        # took a minute of the server's time; the sizes in the headers are enough.
        ("frames.gif", canvas_gif(100, 9000, 9000), TOO_LARGE),
        ("many-frames.gif", animation("GIF", 101, (8, 8)), "more than 100 pages"),
        ("program.pdf", EXE, NOT_A_DOCUMENT),
        ("archive.pdf", zip_bytes(), NOT_A_DOCUMENT),
        ("page.png", b"<!doctype html><script>alert(1)</script>", NOT_A_DOCUMENT),
        (
            "drawing.png",
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
            NOT_A_DOCUMENT,
        ),
        ("scan.html", A_JPEG, "ends in .html, but it is a JPEG image"),
        ("scan.svg", A_PNG, "ends in .svg, but it is a PNG image"),
        ("invoice\u202egnp.exe", A_PNG, "ends in .exe, but it is a PNG image"),
        ("photo.pdf", A_PNG, "ends in .pdf, but it is a PNG image"),
    ],
)
def test_an_ugly_file_is_refused_on_the_form_and_nothing_is_kept(
    cast: Cast, http_as: HttpAs, name: str, content: bytes, why: str
) -> None:
    assert_refused(cast, http_as(cast.case_manager), name, content, why)


def test_no_file_at_all_asks_for_one(cast: Cast, http_as: HttpAs) -> None:
    assert_refused(cast, http_as(cast.case_manager), None, b"", "Choose the file to add")


@override_settings(CASEWORK_MAX_UPLOAD_BYTES=len(A_PNG))
def test_a_file_one_byte_over_the_limit_is_refused_and_one_at_the_limit_goes_in(
    cast: Cast, http_as: HttpAs
) -> None:
    http = http_as(cast.case_manager)
    assert_refused(cast, http, "scan.png", A_PNG + b"\0", "larger than the limit")
    assert_taken(cast, http, post_document(http, cast, "scan.png", A_PNG), "image/png")


def test_a_file_over_the_default_limit_is_refused_by_its_size(cast: Cast, http_as: HttpAs) -> None:
    big = A_PDF + b"%" * settings.CASEWORK_MAX_UPLOAD_BYTES
    assert_refused(
        cast, http_as(cast.case_manager), "big.pdf", big, "larger than the limit of 10 MB"
    )


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        (b"../../../../etc/passwd", "passwd.png"),
        (b"..\\..\\Windows\\System32\\scan.png", "scan.png"),
        (b"/var/lib/casework/private/documents/x.png", "x.png"),
        (b"scan\x00.png", "scan.png"),
        (b"scan\x1b[31m.png", "scan[31m.png"),
        ("r\u00e9sum\u00e9 \u202efdp.png".encode(), "r\u00e9sum\u00e9 fdp.png"),
        (
            "\u8a3a\u65ad\u66f8 \u2013 \u00dcberweisung.png".encode(),
            "\u8a3a\u65ad\u66f8 \u2013 \u00dcberweisung.png",
        ),
        (b"....png", "png.png"),
        (b"  .png", "png.png"),
        (b"no-extension", "no-extension.png"),
        (b"CON", "CON.png"),
        (b"<img src=x onerror=alert(1)>.png", "<img src=x onerror=alert(1)>.png"),
        (b"x" * 800 + b".png", "x" * 251 + ".png"),
    ],
)
def test_any_name_is_kept_harmless_and_the_file_is_stored_under_a_random_one(
    cast: Cast, http_as: HttpAs, sent: bytes, kept: str
) -> None:
    http = http_as(cast.case_manager)
    document = assert_taken(cast, http, post_document(http, cast, sent, A_PNG), "image/png")
    assert document.original_name == kept
    for page in (
        f"/clients/{cast.client.pk}/documents/",
        f"/clients/{cast.client.pk}/documents/{document.pk}/",
    ):
        assert "<img src=x" not in http.get(page).content.decode()


def test_a_name_too_long_for_the_form_gets_a_page_saying_so_and_nothing_is_kept(
    cast: Cast, http_as: HttpAs
) -> None:
    """Django refuses a form part whose headers pass 1 KB: no file system has such names, but a
    client can send one."""
    with nothing_kept_unless_taken(cast) as kept:
        response = post_document(http_as(cast.case_manager), cast, b"x" * 2000 + b".png", A_PNG)
    assert response.status_code == 400 and kept == {"rows": 0, "files": 0}
    assert "give it a shorter name" in response.content.decode()


def test_a_polyglot_goes_in_as_the_image_it_is_and_is_served_inert(
    cast: Cast, http_as: HttpAs
) -> None:
    """A real PNG with a ZIP and a web page after its end: browsers and readers see the PNG,
    and it is only ever sent as image/png, never sniffed, in a sandbox."""
    http = http_as(cast.case_manager)
    polyglot = A_PNG + zip_bytes() + b"<html><script>alert(1)</script></html>"
    document = assert_taken(
        cast, http, post_document(http, cast, "scan.png", polyglot), "image/png"
    )
    assert document.original_name == "scan.png" and document.file.name.endswith(".png")


@pytest.mark.parametrize("claimed", ["text/html", "image/svg+xml", "application/x-msdownload", ""])
def test_what_the_browser_says_the_type_is_does_not_count(
    cast: Cast, http_as: HttpAs, claimed: str
) -> None:
    http = http_as(cast.case_manager)
    response = post_document(
        http, cast, "summary.pdf", A_PDF, content_type=claimed or "application/octet-stream"
    )
    assert assert_taken(cast, http, response, "application/pdf").content_type == "application/pdf"


def test_sending_the_same_form_twice_adds_one_document(cast: Cast, http_as: HttpAs) -> None:
    http = http_as(cast.case_manager)
    first = post_document(http, cast, "scan.jpg", A_JPEG, key="same-form")
    again = post_document(http, cast, "scan.jpg", A_JPEG, key="same-form")
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert Document.objects.filter(client=cast.client).count() == 1


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("summary.pdf", A_PDF, "application/pdf"),
        ("summary.pdf", pdf_bytes(pages=3), "application/pdf"),
        ("card.jpg", A_JPEG, "image/jpeg"),
        ("card.png", A_PNG, "image/png"),
        ("card.webp", image_bytes("WEBP"), "image/webp"),
        ("card.gif", image_bytes("GIF"), "image/gif"),
        ("fax.tif", image_bytes("TIFF", frames=3), "image/tiff"),
        ("frames.gif", animation("GIF", 10, (640, 480)), "image/gif"),
    ],
)
def test_a_valid_file_still_goes_in(
    cast: Cast, http_as: HttpAs, name: str, content: bytes, content_type: str
) -> None:
    http = http_as(cast.case_manager)
    document = assert_taken(cast, http, post_document(http, cast, name, content), content_type)
    assert document.original_name == name
    with document.file.open("rb") as stored:
        assert stored.read() == content


def test_someone_who_may_not_add_documents_is_refused_before_the_file_is_read(
    cast: Cast, http_as: HttpAs
) -> None:
    with nothing_kept_unless_taken(cast) as kept:
        response = post_document(http_as(cast.billing), cast, "scan.png", A_PNG)
    assert response.status_code == 403 and kept == {"rows": 0, "files": 0}


# -- Hypothesis ---------------------------------------------------------------------------------


EXTENSIONS = [
    ".pdf",
    ".PDF",
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
    ".tif",
    ".webp",
    ".exe",
    ".html",
    ".svg",
    ".zip",
    "",
]
SEEDS = {
    "pdf": A_PDF,
    "png": A_PNG,
    "jpg": A_JPEG,
    "gif": animation("GIF", 3, (32, 32)),
    "tif": image_bytes("TIFF", frames=2),
    "webp": image_bytes("WEBP"),
}
names = st.builds(
    lambda stem, ext: (stem + ext).encode("utf-8", "surrogatepass"),
    st.text(st.characters(codec="utf-8", exclude_characters='"'), max_size=80),
    st.sampled_from(EXTENSIONS),
)


@st.composite
def mangled(draw: st.DrawFn) -> bytes:
    """A real file with a few bytes flipped or inserted, something added at the end, or cut
    short: mostly in its second half, where the pictures and pages are, so that many still
    open and go on to be shown."""
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        at = draw(st.integers(min_value=len(data) // 2, max_value=max(len(data) - 1, 0)))
        how = draw(st.sampled_from(["flip", "flip", "insert", "append", "append", "cut"]))
        junk = draw(st.binary(min_size=1, max_size=64))
        if how == "cut":
            del data[at:]
        elif how == "flip" and data:
            data[at] ^= junk[0] or 0xFF
        elif how == "insert":
            data[at:at] = junk
        else:
            data += junk
    return bytes(data)


def answered_sensibly(cast: Cast, http: HttpClient, name: bytes, content: bytes) -> None:
    """One post, in a savepoint rolled back afterwards: taken (and then its pages answer) or
    refused with a message about the file and nothing kept. Never a 500."""
    with transaction.atomic():
        with nothing_kept_unless_taken(cast) as kept:
            response = post_document(http, cast, name, content)
        event(f"answered {response.status_code}")
        if response.status_code == 302:
            document = assert_taken(
                cast, http, response, Document.objects.latest("pk").content_type
            )
            assert document.size == len(content)
        else:
            assert response.status_code == 400, response.status_code
            assert file_error(response) or b"error-summary" in response.content
            assert kept == {"rows": 0, "files": 0}
        transaction.set_rollback(True)


@FUZZ
@given(name=names, content=st.binary(max_size=4096))
def test_random_bytes_under_random_names_never_break_the_page(
    cast: Cast, http_as: HttpAs, name: bytes, content: bytes
) -> None:
    answered_sensibly(cast, http_as(cast.case_manager), name, content)


@FUZZ
@given(name=st.sampled_from([f"file{ext}".encode() for ext in EXTENSIONS]), content=mangled())
def test_damaged_real_files_are_taken_whole_or_refused_with_a_reason(
    cast: Cast, http_as: HttpAs, name: bytes, content: bytes
) -> None:
    answered_sensibly(cast, http_as(cast.case_manager), name, content)


# -- The directory's CSV import --------------------------------------------------------------


def post_csv(http: HttpClient, name: bytes, content: bytes) -> HttpResponse:
    body, header = multipart({}, name, content, "text/csv")
    return http.generic("POST", "/directory/import/", body, content_type=header)  # type: ignore[return-value]


CSV_HEADER = b"name,service_types,address,phone,email,website,accepting_referrals\r\n"
CSV_LINE = b"Harbor Food Bank,food,1200 Harbor Way,253-555-0141,intake@harbor.example,https://harbor.example,yes\r\n"


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"", "The file is empty"),
        (b"\xff\xfe" + "name\r\nx\r\n".encode("utf-16-le"), "is not UTF-8 text"),
        (CSV_HEADER + b"Harbor\x00,food\r\n", "not a CSV text file"),
        (A_PNG, "not UTF-8 text"),
        (CSV_HEADER, "a header line but no organisations"),
        (b"=cmd|' /C calc'!A0,x\r\n", "names a column this import does not know"),
        (CSV_HEADER + b'"' + b"x" * 200_000 + b'",food\r\n', "cannot be read as CSV"),
        (CSV_HEADER + CSV_LINE * 5001, "more than 5,000 organisations"),
        (b"name\r\n" + b"x" * (1024 * 1024), "the limit is 1 MB"),
    ],
)
def test_a_broken_csv_is_refused_with_what_is_wrong_and_imports_nothing(
    cast: Cast, http_as: HttpAs, content: bytes, why: str
) -> None:
    response = post_csv(http_as(cast.admin), b"directory.csv", content)
    assert response.status_code in (200, 400)
    assert why in html.unescape(response.content.decode())
    assert not Organization.objects.filter(agency=cast.agency).exists()


def test_a_csv_with_a_byte_order_mark_and_a_hostile_name_is_read(
    cast: Cast, http_as: HttpAs
) -> None:
    http = http_as(cast.admin)
    response = post_csv(http, b"../../etc/directory.csv", b"\xef\xbb\xbf" + CSV_HEADER + CSV_LINE)
    assert response.status_code == 200 and "Harbor Food Bank" in response.content.decode()


@FUZZ
@given(
    content=st.one_of(
        st.binary(max_size=2048), st.text(max_size=600).map(lambda t: CSV_HEADER + t.encode())
    )
)
def test_random_csv_files_never_break_the_import(
    cast: Cast, http_as: HttpAs, content: bytes
) -> None:
    http = http_as(cast.admin)
    with transaction.atomic():
        response = post_csv(http, b"directory.csv", content)
        assert response.status_code in (200, 400), response.status_code
        transaction.set_rollback(True)
    assert not Organization.objects.filter(agency=cast.agency).exists()
