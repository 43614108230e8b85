"""Cold-start baseline: the smallest Starlette app, started like a function (a copy of run.sh beside it)."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def hello(request: Request) -> JSONResponse:
    return JSONResponse({"hello": "world"})


app = Starlette(routes=[Route("/", hello, methods=["GET", "POST"])])
