"""`openai-cf serve`: the whole API on one local port, with moto, the run executor fed from the run
queue, and (without Cloudflare credentials) the offline Workers AI emulator."""

from __future__ import annotations

import argparse
import importlib.util
import os
import secrets
import sys
from collections.abc import Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openai_cf.local.aws import LocalAWS
    from openai_cf.local.poller import QueuePoller

EMULATOR_TOKEN = "emulator-token"  # noqa: S105 - the local emulator's fixed, non-secret token
# `pip install openai-cf` brings what the Lambda functions need; `serve` also needs the `local` extra.
LOCAL_EXTRA_HINT = "pip install 'openai-cf[local]'"


class MissingExtraError(Exception):
    """`serve` cannot run on this installation: it lacks the `local` extra."""

    def __init__(self, missing: Sequence[str]) -> None:
        self.message = (
            f"openai-cf serve needs modules this installation lacks: {', '.join(repr(m) for m in missing)}. "
            f"They come with the package's 'local' extra (`pip install openai-cf` leaves it out):\n\n"
            f"    {LOCAL_EXTRA_HINT}\n"
        )
        super().__init__(self.message)


def needed_modules(env: Mapping[str, str], *, with_aws: bool) -> list[str]:
    """Third-party modules this `serve` would import: the `local` extra's moto (the embedded AWS),
    boto3 (the Lambda runtime's when deployed; here it sets moto up and polls the run queue) and
    jsonschema (the offline emulator), and uvicorn (a base dependency: a broken install gets the
    same cure)."""
    needed = ["uvicorn"]
    if with_aws and not env.get("AWS_ENDPOINT_URL"):
        needed.append("moto")
    if with_aws:
        needed.append("boto3")
    if not (env.get("CLOUDFLARE_ACCOUNT_ID") and env.get("CLOUDFLARE_API_TOKEN")):
        needed.append("jsonschema")
    return needed


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def check_local_extra(env: Mapping[str, str], *, with_aws: bool) -> None:
    missing = [module for module in needed_modules(env, with_aws=with_aws) if not _installed(module)]
    if missing:
        raise MissingExtraError(missing)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="openai-cf", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the whole API locally")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--no-aws", action="store_true", help="do not start the embedded moto server")
    return parser


def configure_upstream(env: MutableMapping[str, str]) -> object | None:
    """Point the app at real Workers AI if credentials are set, else start the emulator."""
    if env.get("CLOUDFLARE_ACCOUNT_ID") and env.get("CLOUDFLARE_API_TOKEN"):
        env["OPENAI_CF_UPSTREAM_LABEL"] = "workers-ai"
        return None
    from openai_cf.local.emulator import EmulatorServer

    emulator = EmulatorServer(api_token=EMULATOR_TOKEN)
    emulator.start()
    env.update(
        CLOUDFLARE_API_BASE_URL=emulator.base_url,
        CLOUDFLARE_ACCOUNT_ID="emulator",
        CLOUDFLARE_API_TOKEN=EMULATOR_TOKEN,
        OPENAI_CF_UPSTREAM_LABEL="emulator",
    )
    return emulator


def configure_aws(env: MutableMapping[str, str]) -> LocalAWS | None:
    """Start the embedded moto server unless `AWS_ENDPOINT_URL` names another endpoint (a moto
    server, LocalStack, DynamoDB Local: state then survives a restart), and create the table,
    bucket and run queue it lacks. The embedded server, if one was started."""
    aws = None
    if not env.get("AWS_ENDPOINT_URL"):
        from openai_cf.local.aws import LocalAWS

        aws = LocalAWS()
        aws.start(env)
    # Local emulations take any credentials.
    env.setdefault("AWS_ACCESS_KEY_ID", "local")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    from openai_cf.local.provision import provision
    from openai_cf.settings import settings_from_env

    env.setdefault("OPENAI_CF_RUN_QUEUE_URL", provision(settings_from_env(env)))
    return aws


def start_run_executor(env: MutableMapping[str, str]) -> QueuePoller:
    """Poll the run queue in the background and hand its messages to the run executor's handler,
    the one Lambda calls (moto's own SQS → Lambda trigger would run nothing, aws-notes 5)."""
    from openai_cf.executor.handler import handler
    from openai_cf.local.poller import QueuePoller
    from openai_cf.settings import settings_from_env
    from openai_cf.storage.aws import AwsClients

    # EMF metric lines on the console are noise locally (as the request log lines are).
    env.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    settings = settings_from_env(env)
    if not settings.run_queue_url:
        raise SystemExit("openai-cf serve: no run queue (OPENAI_CF_RUN_QUEUE_URL)")
    sqs = AwsClients(region=settings.aws_region, endpoint_url=settings.aws_endpoint_url).client("sqs")
    poller = QueuePoller(
        sqs, settings.run_queue_url, handler, visibility_timeout=settings.local_visibility_timeout,
        region=settings.aws_region or "us-east-1",
    )  # fmt: skip
    return poller.start()


def start_dead_letter_handler(env: MutableMapping[str, str]) -> QueuePoller | None:
    """Poll the run queue's dead-letter queue and hand its messages to the dead-letter handler, as
    the `run_dead_letters` function is fed on AWS: a run whose message the queue gave up on fails."""
    from openai_cf.executor.dead_letters import handler
    from openai_cf.local.poller import QueuePoller, dead_letter_queue_url
    from openai_cf.settings import settings_from_env
    from openai_cf.storage.aws import AwsClients

    settings = settings_from_env(env)
    sqs = AwsClients(region=settings.aws_region, endpoint_url=settings.aws_endpoint_url).client("sqs")
    url = dead_letter_queue_url(sqs, settings.run_queue_url) if settings.run_queue_url else None
    if url is None:
        return None
    poller = QueuePoller(
        sqs, url, handler, visibility_timeout=settings.local_visibility_timeout,
        region=settings.aws_region or "us-east-1", function_name="run_dead_letters",
    )  # fmt: skip
    return poller.start()


def banner(base_url: str, token: str, env: MutableMapping[str, str], generated: bool) -> str:
    emulated = env.get("OPENAI_CF_UPSTREAM_LABEL") == "emulator"
    upstream = (
        "OFFLINE EMULATOR (CLOUDFLARE_ACCOUNT_ID / CLOUDFLARE_API_TOKEN unset): answers are synthetic, not a model's"
        if emulated
        else f"Cloudflare Workers AI at {env.get('CLOUDFLARE_API_BASE_URL', 'https://api.cloudflare.com/client/v4')}"
    )
    lines = [
        "",
        f"  openai-cf is serving the OpenAI API at  {base_url}",
        f"  upstream:      {upstream}",
        f"  access token:  {token}" + ("   (generated; set ACCESS_TOKEN to choose one)" if generated else ""),
        f"  local AWS:     {env.get('AWS_ENDPOINT_URL', 'not started')}",
        f"  run queue:     {env.get('OPENAI_CF_RUN_QUEUE_URL', 'none (runs are refused)')}",
        "",
        "  curl:",
        f"    curl {base_url}/chat/completions -H 'Authorization: Bearer {token}' \\",
        "      -H 'Content-Type: application/json' \\",
        '      -d \'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]}\'',
        "",
        "  Python (pip install openai):",
        "    from openai import OpenAI",
        f'    client = OpenAI(base_url="{base_url}", api_key="{token}")',
        '    print(client.chat.completions.create(model="gpt-4o-mini",',
        '          messages=[{"role": "user", "content": "Hello"}]).choices[0].message.content)',
        "",
        "  Ctrl-C stops everything.",
        "",
    ]
    return "\n".join(lines)


def serve(host: str, port: int, *, with_aws: bool = True) -> int:
    env = os.environ
    # One JSON line per request on the console is noise locally; warnings and errors still show.
    env.setdefault("LOG_LEVEL", "WARNING")
    generated = not env.get("ACCESS_TOKEN")
    if generated:
        env["ACCESS_TOKEN"] = f"sk-local-{secrets.token_urlsafe(24)}"
    token = env["ACCESS_TOKEN"].split(",")[0].strip()
    aws = configure_aws(env) if with_aws else None
    emulator = configure_upstream(env)
    poller = start_run_executor(env) if with_aws else None
    dead_letters = start_dead_letter_handler(env) if with_aws else None
    try:
        from openai_cf.api.app import create_app
        from openai_cf.api.server import serve as serve_app

        display_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        print(banner(f"http://{display_host}:{port}/v1", token, env, generated), flush=True)
        serve_app(create_app(), host, port)
    except KeyboardInterrupt:
        # uvicorn re-raises the Ctrl-C it handled once it has shut down; that is our normal exit.
        pass
    finally:
        if poller is not None:
            poller.stop()
        if dead_letters is not None:
            dead_letters.stop()
        if emulator is not None:
            emulator.stop()  # type: ignore[attr-defined]
        if aws is not None:
            aws.stop()
        print("openai-cf stopped.", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command != "serve":
        return 2
    try:
        check_local_extra(os.environ, with_aws=not args.no_aws)
        return serve(args.host, args.port, with_aws=not args.no_aws)
    except MissingExtraError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    except ModuleNotFoundError as exc:
        # A dependency of the extra's own (moto's server needs flask, for one) missing: the same cure.
        if exc.name is None or exc.name.partition(".")[0] == "openai_cf":
            raise
        print(MissingExtraError([exc.name]).message, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
