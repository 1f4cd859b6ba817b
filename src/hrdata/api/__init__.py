"""The REST API (FastAPI): routes under routes/, the error map applied, keys and roles.

Other rooms import the modules named in __all__; importing them loads FastAPI only then.
"""

__all__ = ["app", "idempotency", "logs", "server"]
