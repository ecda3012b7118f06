"""/api/docs: Swagger UI over /api/openapi.json, its scripts pinned to one release by their
integrity hashes (FastAPI's default page loads whatever the CDN serves as "5" today)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

router = APIRouter(include_in_schema=False)

SWAGGER_UI = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.35.0"
# sha384 of the files of swagger-ui-dist 5.35.0 as published on npm.
BUNDLE_SRI = "sha384-gjRm0bEPMeTmMh5jT2cHccIwCUZSTd8YC+j0d0sXw0MdGEfScduGpSyF3ZSSLkX9"
CSS_SRI = "sha384-WlYgdmXYOOBWL5apwjDEZwN+U3HmXSSu5R6V5aGxEcf7z+KuRNwBhoxKVN1i3D5I"

PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Visio API</title>
<link rel="stylesheet" href="{SWAGGER_UI}/swagger-ui.css" integrity="{CSS_SRI}"
 crossorigin="anonymous">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{SWAGGER_UI}/swagger-ui-bundle.js" integrity="{BUNDLE_SRI}"
 crossorigin="anonymous"></script>
<script src="/api/docs/start.js"></script>
</body>
</html>
"""
# Served from here rather than inline, so that the page's policy allows no inline script.
START = """window.ui = SwaggerUIBundle({
  url: "/api/openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
"""


@router.get("/docs")
def docs() -> HTMLResponse:
    """The interactive documentation of the API."""
    return HTMLResponse(PAGE)


@router.get("/docs/start.js")
def docs_start() -> Response:
    return Response(START, media_type="text/javascript")
