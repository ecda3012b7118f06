"""Materials over HTTP: list and add (links as JSON, files as multipart), authorized download."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from visio.api import presenters
from visio.api.bodies import BodyTooLarge
from visio.api.deps import DbDep, MaterialId, SessionId, TokenDep, UserDep
from visio.api.errors import error_responses
from visio.api.schemas import LinkIn, MaterialListOut, MaterialOut, storable_text
from visio.services import accounts, download_links, materials

router = APIRouter(tags=["materials"])

GRANT_HELP = (
    "Instead of the bearer token: the signed grant of a download link from the web pages "
    "(one file, one login, 30 minutes)"
)

FILE_FORM_SCHEMA = {
    "type": "object",
    "required": ["file"],
    "properties": {
        "file": {
            "type": "string",
            "format": "binary",
            "description": "PDF, image, video, "
            "audio or office document; its type is read from its bytes",
        },
        "title": {"type": "string", "description": "Default: the file's name"},
    },
}
ADD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": LinkIn.model_json_schema()},
            "multipart/form-data": {"schema": FILE_FORM_SCHEMA},
        },
    }
}


@router.get(
    "/sessions/{session_id}/materials",
    response_model=MaterialListOut,
    responses=error_responses(401, 403, 404, 422),
)
def list_materials(session_id: SessionId, db: DbDep, user: UserDep) -> MaterialListOut:
    """A session's materials, oldest first: for its teacher and its enrolled students."""
    found = materials.list_materials(db=db, actor=user, video_session_id=session_id)
    return MaterialListOut(items=[presenters.material_out(m) for m in found])


@router.post(
    "/sessions/{session_id}/materials",
    status_code=201,
    response_model=MaterialOut,
    responses=error_responses(401, 403, 404, 409, 413, 415, 422, 503),
    openapi_extra=ADD_BODY,
)
async def add_material(
    session_id: SessionId, request: Request, db: DbDep, user: UserDep
) -> MaterialOut:
    """Add a link (`{"kind": "link", "title", "url"}`) or upload a file (multipart: `file`,
    optional `title`); the session's teacher only."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == "application/json":
        link = _link(await request.body())
        added = await run_in_threadpool(
            materials.add_link,
            db=db,
            actor=user,
            video_session_id=session_id,
            title=link.title,
            url=link.url,
        )
    elif media_type == "multipart/form-data":
        # Strangers are refused before a byte of their upload is read (or spooled to disk).
        await run_in_threadpool(
            materials.check_can_add, db=db, actor=user, video_session_id=session_id
        )
        title, filename, data = await _upload(request)
        added = await run_in_threadpool(
            materials.add_file,
            db=db,
            actor=user,
            video_session_id=session_id,
            filename=filename,
            data=data,
            title=title,
        )
    else:
        raise HTTPException(415)
    return presenters.material_out(added)


def _invalid(field: str, kind: str, message: str) -> RequestValidationError:
    """A problem with the body, reported like FastAPI reports its own."""
    return RequestValidationError([{"type": kind, "loc": ("body", field), "msg": message}])


def _link(raw: bytes) -> LinkIn:
    try:
        return LinkIn.model_validate_json(raw)
    except ValidationError as error:
        problems = error.errors(include_url=False, include_input=False, include_context=False)
        raise RequestValidationError(
            [{**p, "loc": ("body", *p["loc"])} for p in problems]
        ) from None


async def _upload(request: Request) -> tuple[str | None, str, bytes]:
    """The upload's title, file name and bytes (read up to one byte past the size limit;
    `bodies.BoundedBodies` has already cut the body itself at the upload limit)."""
    try:
        form = await request.form(max_files=1, max_fields=10)
    except BodyTooLarge:
        raise
    except Exception:  # not the multipart body it claims to be, or too many parts
        raise _invalid("file", "multipart_invalid", "Invalid multipart body") from None
    upload, title = form.get("file"), form.get("title")
    if not isinstance(upload, UploadFile):
        raise _invalid("file", "missing", "Field required")
    if title is not None and not isinstance(title, str):
        raise _invalid("title", "string_type", "Input should be a valid string")
    try:
        title = storable_text(title) if title is not None else None
    except ValueError as error:
        raise _invalid("title", "value_error", str(error)) from None
    data = await upload.read(materials.upload_limit() + 1)
    return title, upload.filename or "", data


@router.get(
    "/materials/{material_id}/download",
    response_class=FileResponse,
    responses={
        200: {"description": "The file, as an attachment"},
        **error_responses(401, 403, 404, 422),
    },
)
def download_material(
    material_id: MaterialId,
    db: DbDep,
    token: TokenDep,
    grant: Annotated[str | None, Query(max_length=200, description=GRANT_HELP)] = None,
) -> FileResponse:
    """The stored file of a material: for the session's teacher and its enrolled students."""
    user = (
        download_links.user_for_grant(db=db, material_id=material_id, grant=grant)
        if grant is not None
        else accounts.authenticate(db=db, token=token)
    )
    found = materials.open_download(db=db, actor=user, material_id=material_id)
    return FileResponse(
        found.path,
        media_type=found.content_type,
        filename=found.filename,
        content_disposition_type="attachment",
        headers={
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
            # Even if a browser rendered it, the file could run nothing on our origin.
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
