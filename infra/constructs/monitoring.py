"""What an operator watches: one CloudWatch dashboard, alarms, and an SNS topic that tells them.

Alarms (5-minute windows, thresholds in infra/constants.py; each notifies the topic on ALARM and OK):

    Api5xxRate           API Gateway 5XXError / Count, in %, from ALARM_MIN_REQUESTS requests on
    UpstreamErrorRate    UpstreamErrors (HTTP functions + executor) / (requests + executor steps), in %
    GatewayThrottles     answers of the stage's throttling (access-log metric filter on THROTTLED)
    LambdaThrottles      Throttles of every function of the stack, summed
    DeadLetters          messages arrived in the run queue's dead-letter queue (a run step failed on
                         every delivery; the dead-letter function ends its run)
    DeadLetterDepth      the dead-letter queue holds messages (waiting or in flight) three windows in
                         a row: nothing settles them (the dead-letter function fails, or is missing)
    ExecutorErrors       failed invocations of the run executor (crashes, timeouts; failed steps are
                         partial batch failures and show as UpstreamErrors or dead letters instead)
    TimeToFirstByteP99   p99 time to the status line, measured by the app, three windows in a row

The app's metrics are read with the exact dimension sets the code emits (a CloudWatch alarm matches a
metric by name and all its dimensions): `service=api` from openai_cf/api/logs.py, and the executor's
Powertools metrics `service=run_executor` plus `status`; tests/infra/test_monitoring.py checks both
sides. The per-model metrics (endpoint, model) appear on the dashboard through SEARCH expressions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Acknowledgment, CfnOutput, Duration, Fn, Stack, Validations
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra import constants
from infra.config import DeployConfig
from infra.constructs.api import OpenAIRestApi
from infra.constructs.run_queue import RunQueue
from openai_cf.api.logs import NAMESPACE, SERVICE, TIME_TO_FIRST_BYTE, UPSTREAM_ERRORS

API_DIMENSIONS = {"service": SERVICE}
# The executor's Powertools Metrics: its service name, and the status of the run the step left.
# A step whose model call failed leaves its run `failed`.
EXECUTOR_UPSTREAM_DIMENSIONS = {"service": constants.EXECUTOR_NAME, "status": "failed"}
GATEWAY_THROTTLES = "GatewayThrottles"


def app_metric(name: str, dimensions: Mapping[str, str], statistic: str = "Sum") -> cw.Metric:
    return cw.Metric(
        namespace=NAMESPACE,
        metric_name=name,
        dimensions_map=dict(dimensions),
        statistic=statistic,
        period=constants.ALARM_PERIOD,
    )


def _percent(errors: cw.IMetric, requests: cw.IMetric, label: str) -> cw.MathExpression:
    return cw.MathExpression(
        expression=f"IF(requests >= {constants.ALARM_MIN_REQUESTS}, 100 * errors / requests, 0)",
        using_metrics={"errors": errors, "requests": requests},
        label=label,
        period=constants.ALARM_PERIOD,
    )


def _sum(prefix: str, metrics: Sequence[cw.IMetric], label: str) -> cw.MathExpression:
    """One series: the sum of `metrics`, a missing value counting 0 (ids unique within an alarm)."""
    ids = {f"{prefix}{i}": metric for i, metric in enumerate(metrics)}
    terms = ",".join(f"FILL({metric_id}, 0)" for metric_id in ids)
    return cw.MathExpression(
        expression=f"SUM([{terms}])", using_metrics=ids, label=label, period=constants.ALARM_PERIOD
    )


def _search(metric_name: str, dimensions: str, statistic: str) -> cw.MathExpression:
    """Every series of a metric whatever its dimension values (models, statuses): dashboards only,
    alarms cannot use SEARCH."""
    query = f'{{{NAMESPACE},{dimensions}}} MetricName="{metric_name}"'
    period = int(constants.ALARM_PERIOD.to_seconds())
    return cw.MathExpression(expression=f"SEARCH('{query}', '{statistic}', {period})", using_metrics={})


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api: OpenAIRestApi,
        functions: Mapping[str, lambda_.Function],
        executor: lambda_.Function,
        run_queue: RunQueue,
        workers: Mapping[str, lambda_.Function] | None = None,
        config: DeployConfig | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        config = config or DeployConfig.from_node(self.node)
        self.topic = self._topic(config.alarm_email)
        # Every function of the stack: the HTTP ones, the executor, other plain handlers (dead letters).
        self.all_functions = {**functions, constants.EXECUTOR_NAME: executor, **(workers or {})}
        self._metrics(api, executor)
        self.alarms = self._alarms(executor, run_queue)
        for alarm in self.alarms.values():
            alarm.add_alarm_action(actions.SnsAction(self.topic))
            alarm.add_ok_action(actions.SnsAction(self.topic))
        self.dashboard = self._dashboard(run_queue)
        region = Stack.of(self).region
        console = f"https://console.aws.amazon.com/cloudwatch/home?region={region}#dashboards:name="
        CfnOutput(
            self,
            "DashboardUrl",
            description="The CloudWatch dashboard of this deployment",
            value=console + self.dashboard.dashboard_name,
        )

    def _topic(self, email: str | None) -> sns.Topic:
        topic = sns.Topic(self, "Alarms", display_name="openai-cf alarms", enforce_ssl=True)
        if email:
            topic.add_subscription(subscriptions.EmailSubscription(email))
        Validations.of(topic).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SNS2",
                reason="Alarm notifications carry alarm names and states, nothing confidential. CloudWatch "
                "cannot publish to a topic encrypted with the AWS-managed SNS key, and a customer-managed "
                "key would add a KMS key and its policy to every deployment for no protected content.",
            )
        )
        return topic

    def _metrics(self, api: OpenAIRestApi, executor: lambda_.Function) -> None:
        period = constants.ALARM_PERIOD
        self.api_requests = api.stage.metric_count(statistic="Sum", period=period)
        self.api_5xx = api.stage.metric_server_error(statistic="Sum", period=period)
        self.upstream_errors = _sum(
            "upstream",
            [app_metric(UPSTREAM_ERRORS, API_DIMENSIONS), app_metric(UPSTREAM_ERRORS, EXECUTOR_UPSTREAM_DIMENSIONS)],
            "Upstream errors",
        )
        # Every request the app answered, and every run step (one invocation, batch size 1).
        self.upstream_attempts = _sum(
            "attempts",
            [
                app_metric(TIME_TO_FIRST_BYTE, API_DIMENSIONS, "SampleCount"),
                executor.metric_invocations(statistic="Sum", period=period),
            ],
            "Requests and run steps",
        )
        self.time_to_first_byte = app_metric(TIME_TO_FIRST_BYTE, API_DIMENSIONS, "p99")
        throttles = logs.MetricFilter(
            self,
            "GatewayThrottlesFilter",
            log_group=api.access_logs,
            filter_pattern=logs.FilterPattern.string_value("$.errorType", "=", "THROTTLED"),
            metric_namespace=NAMESPACE,
            metric_name=GATEWAY_THROTTLES,
            metric_value="1",
        )
        self.gateway_throttles = throttles.metric(statistic="Sum", period=period)

    def _alarms(self, executor: lambda_.Function, run_queue: RunQueue) -> dict[str, cw.Alarm]:
        period = constants.ALARM_PERIOD
        alarms = {
            "Api5xxRate": self._alarm(
                "Api5xxRate",
                _percent(self.api_5xx, self.api_requests, "5xx answers (%)"),
                constants.API_5XX_RATE_PERCENT,
                "More than {threshold} % of the API's answers were 5xx errors. See the functions' logs.",
            ),
            "UpstreamErrorRate": self._alarm(
                "UpstreamErrorRate",
                _percent(self.upstream_errors, self.upstream_attempts, "Upstream errors (%)"),
                constants.UPSTREAM_ERROR_RATE_PERCENT,
                "More than {threshold} % of requests and run steps met a Workers AI failure (unreachable, "
                "5xx, rate limit or quota, rejected credentials). Check the Cloudflare secret and status.",
            ),
            "GatewayThrottles": self._alarm(
                "GatewayThrottles",
                self.gateway_throttles,
                constants.GATEWAY_THROTTLES,
                "The stage's throttling answered {threshold} or more requests with 429 in 5 minutes: "
                "raise throttle_rate_limit / throttle_burst_limit if the traffic is wanted.",
            ),
            # The dead-letter queue has a consumer (it fails the runs), so its depth falls back to 0
            # within seconds: arrivals are counted as the consumer receives them.
            "DeadLetters": self._alarm(
                "DeadLetters",
                run_queue.dead_letters.metric_number_of_messages_received(statistic="Sum", period=period),
                1,
                "A run step failed on every delivery of its message, which went to the dead-letter queue.",
            ),
            # Waiting or being handled: a message the function fails on is in flight most of the time.
            "DeadLetterDepth": self._alarm(
                "DeadLetterDepth",
                _sum(
                    "depth",
                    [
                        run_queue.dead_letters.metric_approximate_number_of_messages_visible(
                            statistic="Maximum", period=period
                        ),
                        run_queue.dead_letters.metric_approximate_number_of_messages_not_visible(
                            statistic="Maximum", period=period
                        ),
                    ],
                    "Dead letters waiting or in flight",
                ),
                1,
                "Messages have waited in the run dead-letter queue for 15 minutes: nothing settles their "
                "runs. See the dead-letter function's logs.",
                evaluation_periods=constants.DEAD_LETTER_EVALUATION_PERIODS,
            ),
            "ExecutorErrors": self._alarm(
                "ExecutorErrors",
                executor.metric_errors(statistic="Sum", period=period),
                1,
                "The run executor's invocations failed (a crash or a timeout): see its logs.",
            ),
            "TimeToFirstByteP99": self._alarm(
                "TimeToFirstByteP99",
                self.time_to_first_byte,
                constants.TIME_TO_FIRST_BYTE_P99_MS,
                "p99 time to the first byte of an answer stayed above {threshold} ms for 15 minutes.",
                evaluation_periods=constants.LATENCY_EVALUATION_PERIODS,
                comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            ),
        }
        names = list(self.all_functions)
        size = constants.ALARM_MAX_METRICS
        for index in range(0, len(names), size):
            chunk = names[index : index + size]
            alarm_id = "LambdaThrottles" if index == 0 else f"LambdaThrottles{index // size + 1}"
            alarms[alarm_id] = self._alarm(
                alarm_id,
                _sum(
                    "throttles",
                    [self.all_functions[n].metric_throttles(statistic="Sum", period=period) for n in chunk],
                    "Lambda throttles",
                ),
                1,
                f"Lambda throttled invocations of {', '.join(chunk)}: the account's concurrency is spent.",
            )
        return alarms

    def _alarm(
        self,
        alarm_id: str,
        metric: cw.IMetric,
        threshold: float,
        description: str,
        *,
        evaluation_periods: int = 1,
        comparison: cw.ComparisonOperator = cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    ) -> cw.Alarm:
        return cw.Alarm(
            self,
            alarm_id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=evaluation_periods,
            comparison_operator=comparison,
            # No traffic is no news: missing data never raises an alarm.
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            alarm_description=description.format(threshold=threshold),
        )

    def _dashboard(self, run_queue: RunQueue) -> cw.Dashboard:
        def graph(title: str, left: Sequence[cw.IMetric], right: Sequence[cw.IMetric] = ()) -> cw.GraphWidget:
            return cw.GraphWidget(title=title, left=list(left), right=list(right), width=12, height=6)

        functions = self.all_functions
        period = constants.ALARM_PERIOD
        latency = [app_metric(TIME_TO_FIRST_BYTE, API_DIMENSIONS, s).with_(label=s) for s in ("p50", "p99")]
        widgets: list[list[cw.IWidget]] = [
            [cw.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms.values()), width=24, height=4)],
            [
                graph("API answers", [self.api_requests.with_(label="requests")], [self.api_5xx.with_(label="5xx")]),
                graph("Time to first byte (ms, app)", latency),
            ],
            [
                graph("Upstream errors", [self.upstream_errors], [self.upstream_attempts]),
                graph("Throttles", [self.gateway_throttles.with_(label="API Gateway 429")]),
            ],
            [
                graph("Generations by model", [_search("Requests", "endpoint,model", "Sum")]),
                graph(
                    "Tokens by model",
                    [_search("PromptTokens", "endpoint,model", "Sum")],
                    [_search("CompletionTokens", "endpoint,model", "Sum")],
                ),
            ],
            [
                graph("Runs by status", [_search("Runs", "service,status", "Sum")]),
                graph("Run latency (ms, p99)", [_search("RunLatency", "service,status", "p99")]),
            ],
            [
                graph(
                    "Function errors",
                    [f.metric_errors(statistic="Sum", period=period, label=n) for n, f in functions.items()],
                ),
                graph(
                    "Function duration (ms, p99)",
                    [f.metric_duration(statistic="p99", period=period, label=n) for n, f in functions.items()],
                ),
            ],
            [
                graph(
                    "Run queue",
                    [run_queue.queue.metric_approximate_number_of_messages_visible(label="waiting", period=period)],
                    [run_queue.queue.metric_approximate_age_of_oldest_message(label="oldest (s)", period=period)],
                ),
                graph(
                    "Dead letters",
                    [run_queue.dead_letters.metric_number_of_messages_received(label="arrived", period=period)],
                    [
                        run_queue.dead_letters.metric_approximate_number_of_messages_visible(label="waiting"),
                        # What the dead-letter function did with each (failed, expired, stale ...).
                        _search("DeadLetteredRuns", "service,outcome", "Sum"),
                    ],
                ),
            ],
        ]
        return cw.Dashboard(
            self,
            "Dashboard",
            dashboard_name=Fn.join("-", [Stack.of(self).stack_name, Stack.of(self).region]),
            default_interval=Duration.hours(6),
            widgets=widgets,
        )
