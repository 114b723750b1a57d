"""Where uploaded documents and generated packets are kept: a folder the web server never serves.

Files are named by the storage (a dated folder and a random name), never by what the uploader
called them, so a name cannot reach outside the folder or collide.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage


def document_storage() -> Storage:
    # A callable, so tests that point CASEWORK_DOCUMENTS_ROOT elsewhere are honoured.
    return FileSystemStorage(location=settings.CASEWORK_DOCUMENTS_ROOT, base_url=None)
