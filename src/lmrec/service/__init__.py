"""The HTTP service: ``lmrec serve`` (FastAPI + uvicorn) over an embedded store."""

from lmrec.service.app import create_app

__all__ = ["create_app"]
