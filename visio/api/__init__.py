"""The JSON API (FastAPI, under /api) over the same services as the pages."""

from visio.api.app import create_api

__all__ = ["create_api"]
