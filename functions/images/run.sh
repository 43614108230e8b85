#!/bin/bash
# Started by the Lambda Web Adapter: AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap execs
# "$LAMBDA_TASK_ROOT/$_HANDLER", and the handler is this file. The managed Python runtime never
# starts, so the layer (/opt/python) and the runtime's boto3 ($LAMBDA_RUNTIME_DIR) are put on the
# path here. Locally, `functions/<name>/run.sh` serves one function the same way.
# Every functions/<name>/run.sh is the same file (tests/infra checks it): each function's code asset is
# its own directory, so the script cannot live one level up.
set -euo pipefail
cd "$(dirname "$0")"
export PYTHONPATH="/opt/python${LAMBDA_RUNTIME_DIR:+:$LAMBDA_RUNTIME_DIR}${PYTHONPATH:+:$PYTHONPATH}"
# Our launcher, not `uvicorn` directly: it binds the socket so accepted connections get TCP_NODELAY
# (see openai_cf/api/server.py); otherwise keep-alive responses to LWA can stall ~40 ms.
exec python -m openai_cf.api.server app:app --host 127.0.0.1 --port "${PORT:-8000}"
