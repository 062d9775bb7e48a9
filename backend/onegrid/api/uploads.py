"""Reading the one file of an upload, after the sender has been checked.

FastAPI parses a form parameter before any dependency runs, so a declared `UploadFile`
would let anyone without an account make the server take in a 10 MB form (and up to a
thousand parts of it) before being refused. The upload routes instead check who sends,
then call `read_upload`, which takes one file and a few small fields at most.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from onegrid.errors import InvalidInput

# For the OpenAPI schema, which cannot see a form read by hand.
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "a photo (JPEG, PNG, WebP, HEIC) or a PDF",
                        }
                    },
                }
            }
        },
    }
}
SEND_ONE_FILE = "send one photo or PDF as the multipart/form-data field 'file'"


@dataclass(frozen=True)
class Upload:
    content: bytes  # at most max_bytes + 1: one byte more tells the checker it is too big
    filename: str | None
    declared_type: str | None


async def read_upload(request: Request, max_bytes: int) -> Upload:
    """The file sent as the form field 'file'; other text fields are ignored."""
    try:
        form = await request.form(max_files=1, max_fields=4, max_part_size=4096)
    except (MultiPartException, HTTPException) as exc:
        reason = getattr(exc, "message", None) or getattr(exc, "detail", "")
        raise InvalidInput(f"{SEND_ONE_FILE}: {reason}", field="file") from exc
    try:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise InvalidInput(SEND_ONE_FILE, field="file")
        content = await file.read(max_bytes + 1)
        return Upload(content, file.filename, file.content_type)
    finally:
        await form.close()
