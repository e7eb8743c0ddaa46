"""The client's API: FastAPI app over the published release (see :mod:`movierec.api.app`)."""

from movierec.api.app import create_app

__all__ = ["create_app"]
