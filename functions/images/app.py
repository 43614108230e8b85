"""The `images` function: its ASGI app, served by uvicorn behind the Lambda Web Adapter (run.sh)."""

from openai_cf.api.app import create_app

app = create_app("images")
