"""备案审核台: the ICP access-filing review console."""

from console.app import create_app

__all__ = ["create_app"]
