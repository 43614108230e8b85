"""The names SAM CLI knows the functions by, for `sam local invoke -t cdk.out/OpenAICf.template.json
ChatCompletions -e events/chat_completions.json` (docs: deploy guide, "Invoking a function locally").

SAM CLI derives a CDK function's id from its `aws:cdk:path` only for `<stack>/<id>/Resource`; ours are
one level deeper (`OpenAICf/ChatCompletions/Function/Resource`), so it would fall back to the logical
id, `ChatCompletionsFunctionA7ED5C8F`, whose suffix is a hash. It reads the `SamResourceId` metadata
first: this gives each function the id of the construct that owns it.
"""

from __future__ import annotations

import jsii
from aws_cdk import IAspect
from aws_cdk import aws_lambda as lambda_
from constructs import IConstruct

SAM_RESOURCE_ID = "SamResourceId"


@jsii.implements(IAspect)
class SamFunctionIds:
    def __init__(self) -> None:
        self._given: set[str] = set()

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, lambda_.CfnFunction):
            return
        function = node.node.scope
        assert function is not None
        # EndpointFunction / WorkerFunction hold theirs as "Function"; other functions are named themselves.
        owner = function.node.scope if function.node.id == "Function" and function.node.scope else function
        name = owner.node.id
        if name not in self._given:  # a second function of that name keeps its logical id
            self._given.add(name)
            node.add_metadata(SAM_RESOURCE_ID, name)
