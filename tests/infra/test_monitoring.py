"""The dashboard, the alarms and who they tell; and that each alarm reads a metric the code emits,
with the exact dimensions it emits it with (else the alarm watches nothing, silently)."""

from __future__ import annotations

import importlib
import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.infra

pytest.importorskip("aws_cdk", reason="CDK tests need requirements-infra.txt installed")

from infra import constants  # noqa: E402
from openai_cf import errors as e  # noqa: E402
from openai_cf.api.logs import JsonFormatter, count_upstream_error  # noqa: E402
from openai_cf.routes import FUNCTIONS  # noqa: E402

Template = dict[str, Any]


@pytest.fixture(scope="module")
def template(synth_with: Callable[..., Template]) -> Template:
    return synth_with(alarm_email="ops@example.com")


@pytest.fixture(scope="module")
def quiet(synth_with: Callable[..., Template]) -> Template:
    return synth_with()


def of_type(template: Template, resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: r["Properties"] for k, r in template["Resources"].items() if r["Type"] == resource_type}


def alarms(template: Template) -> dict[str, dict[str, Any]]:
    """Alarms by their construct id: `MonitoringApi5xxRateB085961B` → `Api5xxRate`."""
    return {
        logical_id.removeprefix("Monitoring")[:-8]: props
        for logical_id, props in of_type(template, "AWS::CloudWatch::Alarm").items()
    }


def metric_stats(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """Every metric an alarm reads (directly or in its math), as (namespace, name, dimensions, stat)."""
    if "Metrics" not in alarm:
        stat = alarm.get("Statistic") or alarm.get("ExtendedStatistic")
        return [{"Namespace": alarm["Namespace"], "MetricName": alarm["MetricName"],
                 "Dimensions": alarm.get("Dimensions", []), "Stat": stat}]  # fmt: skip
    return [
        {**query["MetricStat"]["Metric"], "Dimensions": query["MetricStat"]["Metric"].get("Dimensions", []),
         "Stat": query["MetricStat"]["Stat"]}
        for query in alarm["Metrics"]
        if "MetricStat" in query
    ]  # fmt: skip


def dims(metric: dict[str, Any]) -> dict[str, Any]:
    return {d["Name"]: d["Value"] for d in metric["Dimensions"]}


def named(alarm: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [m for m in metric_stats(alarm) if m["MetricName"] == name]


def ref(template: Template, resource_type: str, prefix: str) -> dict[str, str]:
    """A Ref to the one resource of this type whose logical id starts with `prefix`."""
    (logical_id,) = [k for k, r in template["Resources"].items() if r["Type"] == resource_type and k.startswith(prefix)]
    return {"Ref": logical_id}


# -- who hears of it ----------------------------------------------------------------------------------
def test_alarms_tell_an_sns_topic_that_only_takes_tls(template: Template) -> None:
    ((topic_id, _),) = of_type(template, "AWS::SNS::Topic").items()
    (policy,) = of_type(template, "AWS::SNS::TopicPolicy").values()
    (deny,) = policy["PolicyDocument"]["Statement"]
    assert (deny["Effect"], deny["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})
    found = alarms(template)
    assert found
    for alarm in found.values():
        # Both ways: when it fires and when it is over
        assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": topic_id}]
        assert alarm["TreatMissingData"] == "notBreaching"


def test_the_alarm_email_is_subscribed_when_given(template: Template, quiet: Template) -> None:
    (subscription,) = of_type(template, "AWS::SNS::Subscription").values()
    assert (subscription["Protocol"], subscription["Endpoint"]) == ("email", "ops@example.com")
    assert not of_type(quiet, "AWS::SNS::Subscription")


def test_a_dashboard_shows_the_api_the_models_and_the_runs(template: Template) -> None:
    (dashboard,) = of_type(template, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["DashboardBody"])
    for shown in ("5XXError", "TimeToFirstByte", "UpstreamErrors", "GatewayThrottles", "PromptTokens",
                  "CompletionTokens", "Runs", "RunLatency", "ApproximateNumberOfMessagesVisible",
                  "DeadLetteredRuns"):  # fmt: skip
        assert shown in body, shown
    assert "DashboardUrl" in "".join(template["Outputs"])


# -- each alarm: what it reads, and when it fires ------------------------------------------------------
def test_api_5xx_rate(template: Template) -> None:
    alarm = alarms(template)["Api5xxRate"]
    (errors,) = named(alarm, "5XXError")
    (requests,) = named(alarm, "Count")
    for metric in (errors, requests):
        assert metric["Namespace"] == "AWS/ApiGateway"
        # API Gateway files its metrics under the API's name and the stage
        assert dims(metric)["ApiName"] == "Test"
        assert dims(metric)["Stage"] == ref(template, "AWS::ApiGateway::Stage", "ApiRestApiDeploymentStage")
        assert metric["Stat"] == "Sum"
    (expression,) = [q["Expression"] for q in alarm["Metrics"] if q.get("ReturnData", True) and "Expression" in q]
    assert "100 * errors / requests" in expression
    assert f"requests >= {constants.ALARM_MIN_REQUESTS}" in expression
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (5, "GreaterThanOrEqualToThreshold")


def test_upstream_error_rate_counts_the_functions_and_the_executor(template: Template) -> None:
    alarm = alarms(template)["UpstreamErrorRate"]
    upstream = sorted(json.dumps(dims(m), sort_keys=True) for m in named(alarm, "UpstreamErrors"))
    assert upstream == sorted(
        json.dumps(d, sort_keys=True)
        for d in ({"service": "api"}, {"service": constants.EXECUTOR_NAME, "status": "failed"})
    )
    # Out of every request the app answered and every run step the executor took
    (requests,) = named(alarm, "TimeToFirstByte")
    assert (dims(requests), requests["Stat"]) == ({"service": "api"}, "SampleCount")
    (steps,) = named(alarm, "Invocations")
    assert dims(steps) == {"FunctionName": ref(template, "AWS::Lambda::Function", "RunExecutorFunction")}
    assert alarm["Threshold"] == constants.UPSTREAM_ERROR_RATE_PERCENT


def test_gateway_throttles_come_from_the_access_logs(template: Template) -> None:
    alarm = alarms(template)["GatewayThrottles"]
    (metric_filter,) = of_type(template, "AWS::Logs::MetricFilter").values()
    assert metric_filter["FilterPattern"] == '{ $.errorType = "THROTTLED" }'
    assert metric_filter["LogGroupName"] == ref(template, "AWS::Logs::LogGroup", "ApiAccessLogs")
    (transformation,) = metric_filter["MetricTransformations"]
    assert (alarm["Namespace"], alarm["MetricName"]) == (
        transformation["MetricNamespace"], transformation["MetricName"]
    )  # fmt: skip
    assert (alarm["Statistic"], alarm["Threshold"]) == ("Sum", constants.GATEWAY_THROTTLES)


def test_lambda_throttles_of_every_function(template: Template) -> None:
    throttle_alarms = [a for name, a in alarms(template).items() if name.startswith("LambdaThrottles")]
    watched = [dims(m)["FunctionName"] for a in throttle_alarms for m in named(a, "Throttles")]
    functions = [ref(template, "AWS::Lambda::Function", "".join(p.capitalize() for p in n.split("_")) + "Function")
                 for n in (*FUNCTIONS, constants.EXECUTOR_NAME, constants.DEAD_LETTERS_NAME)]  # fmt: skip
    assert sorted(map(json.dumps, watched)) == sorted(map(json.dumps, functions))
    for alarm in throttle_alarms:
        # CloudWatch takes at most 10 metrics in one alarm
        assert len(metric_stats(alarm)) <= 10
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")


def _dead_letter_queue(template: Template) -> dict[str, Any]:
    (dlq,) = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::SQS::Queue" and "DeadLetters" in k]
    return {"QueueName": {"Fn::GetAtt": [dlq, "QueueName"]}}


def test_a_dead_letter_arrival_is_an_alarm(template: Template) -> None:
    # The queue has a consumer (it fails the runs), so arrivals are counted as it receives them
    alarm = alarms(template)["DeadLetters"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", "NumberOfMessagesReceived")
    assert dims(alarm) == _dead_letter_queue(template)
    assert (alarm["Statistic"], alarm["Threshold"], alarm["EvaluationPeriods"]) == ("Sum", 1, 1)


def test_dead_letters_nobody_settles_are_an_alarm(template: Template) -> None:
    alarm = alarms(template)["DeadLetterDepth"]
    depth = {m["MetricName"]: m for m in metric_stats(alarm)}
    # Waiting or in flight: a message the dead-letter function keeps failing on is mostly in flight
    assert set(depth) == {"ApproximateNumberOfMessagesVisible", "ApproximateNumberOfMessagesNotVisible"}
    for metric in depth.values():
        assert (metric["Namespace"], dims(metric), metric["Stat"]) == (
            "AWS/SQS",
            _dead_letter_queue(template),
            "Maximum",
        )
    assert alarm["Threshold"] == 1
    assert alarm["EvaluationPeriods"] == alarm["DatapointsToAlarm"] == constants.DEAD_LETTER_EVALUATION_PERIODS


def test_executor_errors(template: Template) -> None:
    alarm = alarms(template)["ExecutorErrors"]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("AWS/Lambda", "Errors", "Sum")
    assert dims(alarm) == {"FunctionName": ref(template, "AWS::Lambda::Function", "RunExecutorFunction")}
    assert alarm["Threshold"] == 1


def test_p99_time_to_first_byte(template: Template) -> None:
    alarm = alarms(template)["TimeToFirstByteP99"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("openai-cf", "TimeToFirstByte")
    assert dims(alarm) == {"service": "api"}
    assert alarm["ExtendedStatistic"] == "p99"
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (30_000, "GreaterThanThreshold")
    # Three windows in a row: one slow burst is not a page
    assert alarm["EvaluationPeriods"] == alarm["DatapointsToAlarm"] == 3


# -- the metrics exist as the alarms read them -------------------------------------------------------
def _emf(line: dict[str, Any], metric: str) -> tuple[str, dict[str, Any]]:
    (directive,) = line["_aws"]["CloudWatchMetrics"]
    (dimension_set,) = directive["Dimensions"]
    assert metric in [m["Name"] for m in directive["Metrics"]]
    return directive["Namespace"], {name: line[name] for name in dimension_set}


@pytest.fixture
def app_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("openai_cf")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)


def test_the_http_functions_emit_what_the_alarms_read(template: Template, app_log: io.StringIO) -> None:
    # When an HTTP function answers with an upstream failure
    count_upstream_error(e.BadGatewayError("Workers AI could not be reached."))
    (line,) = [json.loads(raw) for raw in app_log.getvalue().splitlines()]
    # Then the alarm's metric is that series
    emitted = _emf(line, "UpstreamErrors")
    (api_series,) = [m for m in named(alarms(template)["UpstreamErrorRate"], "UpstreamErrors")
                     if dims(m).get("service") == "api"]  # fmt: skip
    assert emitted == (api_series["Namespace"], dims(api_series))


def test_the_executor_emits_what_the_alarms_read(
    template: Template, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto import mock_aws

    from openai_cf.local.poller import LocalContext
    from openai_cf.local.provision import provision
    from openai_cf.settings import Settings
    from openai_cf.storage.aws import AwsClients
    from openai_cf.storage.table import Table

    # The executor's own test world (tests/unit: outside mypy's strict file set, hence by name).
    world_module = importlib.import_module("tests.unit.run_world")
    executor_tests = importlib.import_module("tests.unit.test_run_executor")

    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "test")
    with mock_aws():
        provision(Settings(aws_region="us-east-1", table_name="t", bucket_name="bucket-b"))
        table = Table(AwsClients(region="us-east-1"), "t")
        # Given a run whose model call fails upstream
        chat = world_module.ScriptedChat(e.BadGatewayError("Workers AI could not be reached."))
        world = world_module.World(table, chat)
        world.start("Hi")
        executor_tests.handler_for(world)(executor_tests.event(world.queue.sent[0]), LocalContext())
    lines = [json.loads(raw) for raw in capsys.readouterr().out.splitlines() if raw.startswith("{")]
    (line,) = [line for line in lines if "UpstreamErrors" in line]
    # Then the executor's series is the one the alarm reads
    emitted = _emf(line, "UpstreamErrors")
    (executor_series,) = [m for m in named(alarms(template)["UpstreamErrorRate"], "UpstreamErrors")
                          if dims(m).get("service") != "api"]  # fmt: skip
    assert emitted == (executor_series["Namespace"], dims(executor_series))
