"""Where uploaded documents and generated packets are kept: a folder the web server never serves.

Files are named by the storage (a dated folder and a random name), never by what the uploader
called them, so a name cannot reach outside the folder or collide.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage


class DocumentStorage(FileSystemStorage):
    """A file system storage whose folder is read from settings each time it is used, so a test
    (or a deployment) that points CASEWORK_DOCUMENTS_ROOT elsewhere is honoured. Its files have
    no URL anyone can open: they are served only by the access-checked views."""

    @property
    def base_location(self) -> str:
        return str(settings.CASEWORK_DOCUMENTS_ROOT)

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)


def document_storage() -> Storage:
    # Readable by the application's user only: the files are health records.
    return DocumentStorage(file_permissions_mode=0o600, directory_permissions_mode=0o700)
