"""Materials over HTTP: the authorized download of a stored file."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from visio.api.deps import DbDep, UserDep
from visio.services import materials

router = APIRouter(tags=["materials"])

ERROR_RESPONSES = {
    401: {"description": "No or invalid token"},
    403: {"description": "Neither the session's teacher nor an enrolled student"},
    404: {"description": "Unknown material, or a link (nothing to download)"},
}


@router.get(
    "/materials/{material_id}/download",
    response_class=FileResponse,
    responses={200: {"description": "The file, as an attachment"}, **ERROR_RESPONSES},
)
def download_material(material_id: int, db: DbDep, user: UserDep) -> FileResponse:
    """The stored file of a material: for the session's teacher and its enrolled students."""
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
