"""The HTTP layer shared by every function: app factory, auth, errors, SSE. Only this package knows ASGI."""
