"""Prometheus metrics of one bridge process, on a registry of its own (nothing global, nothing at import)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Upper bounds (seconds) of the probe's delay buckets: from a busy loop's few milliseconds to a stall Slack's 3 s
# ack deadline would feel.
LOOP_DELAY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.http_requests = Counter(
            "bridge_http_requests",
            "Inbound HTTP requests by route and status",
            ["route", "status"],
            registry=self.registry,
        )
        self.api_calls = Counter(
            "bridge_api_calls",
            "Outbound API calls by service, method and outcome",
            ["service", "method", "outcome"],
            registry=self.registry,
        )
        self.api_rate_limited = Counter(
            "bridge_api_rate_limited", "429 answers received, by service", ["service"], registry=self.registry
        )
        self.api_latency = Histogram(
            "bridge_api_seconds", "Outbound API call latency", ["service"], registry=self.registry
        )
        self.webhook_events = Counter(
            "bridge_webhook_events", "Asana webhook events received, by outcome", ["outcome"], registry=self.registry
        )
        self.inbox = Gauge("bridge_inbox_events", "Inbox events by state", ["state"], registry=self.registry)
        self.inbox_lag = Gauge(
            "bridge_inbox_lag_seconds", "Age of the oldest pending inbox event", registry=self.registry
        )
        self.parked = Gauge("bridge_parked_events", "Inbox events parked after failing", registry=self.registry)
        self.health_problems = Gauge(
            "bridge_health_problems", "Problems /healthz reported at its last check", registry=self.registry
        )
        self.nags_sent = Counter("bridge_nags_sent", "Nags posted, by kind", ["kind"], registry=self.registry)
        self.loop_lag = Gauge(
            "bridge_event_loop_lag_seconds",
            "Worst delay of the event-loop probe in the last minute (how long something held the loop)",
            registry=self.registry,
        )
        # Every wake of the probe (20 a second): how often the loop was held how long, and between any two scrapes,
        # the worst it was held meanwhile (the gauges above keep a minute, and the whole run).
        self.loop_delays = Histogram(
            "bridge_event_loop_delay_seconds",
            "How late the event-loop probe woke, each time (every 50 ms)",
            buckets=LOOP_DELAY_BUCKETS,
            registry=self.registry,
        )
        self.loop_lag_max = Gauge(
            "bridge_event_loop_lag_max_seconds",
            "Worst delay of the event-loop probe since start",
            registry=self.registry,
        )
        self.asana_quota = Gauge(
            "bridge_asana_quota_per_minute",
            "This replica's share of the Asana token's per-minute quota",
            registry=self.registry,
        )
