"""CDK app entry point: `cdk synth` runs `python3 -m infra.app` from the repository root.

The Python that `python3` names must have requirements-infra.txt installed (activate `.venv`). Synth is
offline and environment-agnostic (no account, no lookups). cdk-nag's AwsSolutions pack runs as a policy
validation plugin: a finding that is neither fixed nor acknowledged (with a reason, next to the
construct it concerns) fails the synth.
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra import constants
from infra.stacks.api_stack import ApiStack


def add_checks(app: cdk.App) -> None:
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def main() -> None:
    app = cdk.App()
    add_checks(app)
    ApiStack(app, constants.STACK_ID)
    app.synth()


if __name__ == "__main__":
    main()
