"""CDK app entry point: `npx cdk synth` runs `.venv/bin/python -m infra.app` from the repository root
(cdk.json), the venv `make cdk-setup` makes with requirements-infra.txt. Synth makes no AWS calls and is
environment-agnostic (no account, no lookups); its only network use is pip fetching the pinned wheels
for the dependency layer, once (infra/constructs/layers.py). cdk-nag's AwsSolutions pack runs as a policy
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
