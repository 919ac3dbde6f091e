"""The monitoring numbers in Prometheus text format, through prometheus_client's exposition."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from vifsite.vif import monitoring


class VifCollector(Collector):
    def __init__(self, window: str = "24h") -> None:
        self.window = window

    def collect(self) -> Iterator[GaugeMetricFamily]:
        report = monitoring.metrics_report(window=self.window)
        window = self.window

        def gauge(name: str, documentation: str, labels: list[str] | None = None) -> GaugeMetricFamily:
            return GaugeMetricFamily(name, f"{documentation} (last {window})", labels=labels)

        operations = gauge("vif_operations", "AI operations witnessed", ["band"])
        for band, row in report["bands"].items():
            operations.add_metric([band], row["count"])
        yield operations
        gated = gauge("vif_gated_operations", "κ-gate evaluations", ["criticality"])
        failures = gauge("vif_kappa_failures", "κ-gate abstentions", ["criticality"])
        failure_rate = gauge("vif_kappa_failure_rate", "abstentions over gated operations", ["criticality"])
        confidence = gauge("vif_average_confidence", "average gated confidence", ["criticality"])
        for tier, row in report["by_criticality"].items():
            gated.add_metric([tier], row["operations"])
            failures.add_metric([tier], row["kappa_failures"])
            if row["kappa_failure_rate"] is not None:
                failure_rate.add_metric([tier], row["kappa_failure_rate"])
            if row["average_confidence"] is not None:
                confidence.add_metric([tier], row["average_confidence"])
        yield from (gated, failures, failure_rate, confidence)
        cusum = gauge("vif_cusum_statistic", "Bernoulli CUSUM of accepted items' error rate", ["criticality"])
        alarm = gauge("vif_cusum_alarm", "1 when the CUSUM crossed its decision interval", ["criticality"])
        for tier, row in report["cusum"].items():
            cusum.add_metric([tier], row["statistic"])
            alarm.add_metric([tier], 1.0 if row["alarm"] else 0.0)
        yield from (cusum, alarm)
        alerts = gauge("vif_alerts", "active monitoring alerts", ["kind"])
        kinds: dict[str, int] = {}
        for alert in report["alerts"]:
            kinds[alert["kind"]] = kinds.get(alert["kind"], 0) + 1
        for kind in ("band_c", "kappa_failures", "confidence_drop", "calibration_degrading", "cusum"):
            alerts.add_metric([kind], kinds.get(kind, 0))
        yield alerts
        yield GaugeMetricFamily("vif_tool_calls", f"seismic tool calls witnessed (last {window})",
                                value=report["tool_calls"])
        yield GaugeMetricFamily("vif_ledger_length", "entries in the witness ledger", value=report["ledger_length"])


def render(window: str = "24h") -> tuple[bytes, str]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(VifCollector(window))
    return generate_latest(registry), CONTENT_TYPE_LATEST
