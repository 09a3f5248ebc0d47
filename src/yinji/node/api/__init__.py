"""The node's REST API (FastAPI; OpenAPI schema at /openapi.json, docs at /docs)."""

from yinji.node.api.app import create_app

__all__ = ["create_app"]
