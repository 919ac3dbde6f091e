"""The calibration and review-trend figures, as pure functions of the numbers (``calibration.Bins.rows()``,
``review.trends``): plotly JSON for the pages, PNG (matplotlib) for the API."""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
from plotly.subplots import make_subplots  # noqa: E402


def _title(meta: dict[str, Any]) -> str:
    ece = meta.get("ece")
    return (f"Reliability (n = {meta.get('n', 0)}, ECE = {ece:.3f}, {meta.get('status', '')})" if ece is not None
            else f"Reliability (n = {meta.get('n', 0)})")


TITLED_X = {"legend": {"orientation": "h", "x": 0, "y": -0.2, "yanchor": "top"},
            "margin": {"l": 60, "r": 20, "t": 50, "b": 60}}  # room for the x axis title above the legend
BLUE, ORANGE, GREY, RED, GREEN = "#1f5fa8", "#c0580a", "#6b6b6b", "#b3261e", "#2e7d32"
FONT = {"family": "system-ui, sans-serif", "size": 13}


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    return {"title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}}, "font": FONT,
            "margin": {"l": 60, "r": 20, "t": 50, "b": 50}, "plot_bgcolor": "white",
            "legend": {"orientation": "h", "x": 0, "y": -0.12, "yanchor": "top"}, "hovermode": "x unified", **extra}


def _axis(title: str, **extra: Any) -> dict[str, Any]:
    return {"title": {"text": title}, "gridcolor": "#e4e4e4", "zeroline": False, "linecolor": "#999",
            "showline": True, **extra}


def _date_axis() -> dict[str, Any]:
    return _axis("", type="date", tickformat="%b %-d")


def reliability_figure(rows: list[dict[str, Any]], meta: dict[str, Any]) -> dict[str, Any]:
    """A plotly figure (as JSON): accuracy per bin at its mean confidence against the diagonal, with the bin's
    interval (``interval``) as error bars and the consistency band (``null_band``: where a calibrated model's
    accuracy would fall) shaded around the diagonal when the rows carry them; the count per bin as bars under it."""
    filled = [row for row in rows if row["count"]]
    mid = [(row["lower"] + row["upper"]) / 2 for row in rows]
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.74, 0.26], vertical_spacing=0.06)
    banded = [row for row in rows if row.get("null_band")]
    if banded:  # a box per bin: the band holds over the whole bin, not at its centre only
        xs = [x for row in banded for x in (row["lower"], row["upper"], row["upper"], row["lower"], row["lower"], None)]
        ys = [y for row in banded for low, high in (row["null_band"],) for y in (low, low, high, high, low, None)]
        figure.add_trace(go.Scatter(x=xs, y=ys, mode="lines", fill="toself", fillcolor="rgba(107,107,107,0.22)",
                                    line={"width": 0}, hoverinfo="skip", name="95% band of a calibrated model"),
                         row=1, col=1)
    figure.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect calibration", hoverinfo="skip",
                                line={"dash": "dash", "color": GREY}), row=1, col=1)
    intervals = [row.get("interval") for row in filled]
    error_y = ({"type": "data", "symmetric": False, "color": BLUE, "thickness": 1.5, "width": 4,
                "array": [(iv[1] - row["accuracy"]) if iv else 0 for iv, row in zip(intervals, filled, strict=True)],
                "arrayminus": [(row["accuracy"] - iv[0]) if iv else 0
                               for iv, row in zip(intervals, filled, strict=True)]}
               if any(intervals) else None)
    figure.add_trace(go.Scatter(
        x=[row["mean_confidence"] for row in filled], y=[row["accuracy"] for row in filled], mode="markers",
        name="accuracy (95% Wilson interval)", marker={"color": BLUE, "size": 9}, error_y=error_y,
        customdata=[[row["count"], row["lower"], row["upper"]] for row in filled],
        hovertemplate="bin %{customdata[1]:.1f}–%{customdata[2]:.1f}: accuracy %{y:.3f} at mean confidence "
                      "%{x:.3f}, n = %{customdata[0]}<extra></extra>"), row=1, col=1)
    figure.add_trace(go.Bar(x=mid, y=[row["count"] for row in rows],
                            width=[row["upper"] - row["lower"] for row in rows], name="outcomes per bin",
                            marker={"color": "#9db7d5", "line": {"color": "white", "width": 1}},
                            hovertemplate="n = %{y}<extra></extra>"), row=2, col=1)
    figure.update_layout(**_layout(_title(meta), hovermode="closest", bargap=0, **TITLED_X))
    figure.update_xaxes(**_axis("", range=[0, 1], dtick=0.1), row=1, col=1)
    figure.update_xaxes(**_axis("stated confidence", range=[0, 1], dtick=0.1), row=2, col=1)
    figure.update_yaxes(**_axis("accuracy", range=[0, 1.02]), row=1, col=1)
    figure.update_yaxes(**_axis("outcomes", rangemode="tozero"), row=2, col=1)
    return figure.to_plotly_json()


def ece_timeline_figure(days: list[dict[str, Any]], thresholds: tuple[float, float]) -> dict[str, Any]:
    """ECE per day as a line (days without outcomes left as gaps), each day's null band p95 dashed, the status
    thresholds as horizontal lines, and the days calibration.degradation would have warned marked."""
    dates = [d["date"] for d in days]
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=dates, y=[d["null_p95"] for d in days], mode="lines+markers",
                                name="noise (p95, calibrated)", line={"color": GREY, "dash": "dot"},
                                marker={"color": GREY, "symbol": "line-ew-open", "size": 12}, connectgaps=False,
                                hovertemplate="noise p95 %{y:.3f}<extra></extra>"))
    figure.add_trace(go.Scatter(x=dates, y=[d["ece"] for d in days], mode="lines+markers", name="ECE",
                                line={"color": BLUE}, customdata=[d["n"] for d in days],
                                hovertemplate="ECE %{y:.3f} (n = %{customdata})<extra></extra>"))
    warned = [d for d in days if d["degrading"]]
    figure.add_trace(go.Scatter(x=[d["date"] for d in warned], y=[d["ece"] for d in warned], mode="markers",
                                name="degradation warning", marker={"color": RED, "symbol": "x", "size": 13},
                                customdata=[d["reason"] for d in warned],
                                hovertemplate="%{customdata}<extra></extra>"))
    good, acceptable = thresholds
    for value, label, colour in ((good, f"well calibrated ≤ {good:.2f}", GREEN),
                                 (acceptable, f"acceptable ≤ {acceptable:.2f}", ORANGE)):
        figure.add_hline(y=value, line={"color": colour, "dash": "dash", "width": 1.5}, annotation_text=label,
                         annotation_position="top left", annotation_font={"color": colour, "size": 12})
    peak = max([d["ece"] or 0 for d in days] + [d["null_p95"] or 0 for d in days] + [acceptable * 1.3])
    figure.update_layout(**_layout("ECE per day"), xaxis=_date_axis(),
                         yaxis=_axis("ECE", range=[0, peak * 1.08]))
    return figure.to_plotly_json()


def trends_figures(trends: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The statistics page's plots from review.trends.review_trends: decisions per day, time to decision,
    SLA breaches and overturned labels per day, and the backlog by age."""
    daily = trends["daily"]
    dates = [d["date"] for d in daily]
    decisions = go.Figure([
        go.Bar(x=dates, y=[d["final_decisions"] for d in daily], name="final decisions", marker={"color": BLUE}),
        go.Bar(x=dates, y=[d["decisions"] - d["final_decisions"] for d in daily], name="first of two approvals",
               marker={"color": "#9db7d5"})])
    decisions.update_layout(**_layout("Decisions per day", barmode="stack"), xaxis=_date_axis(),
                            yaxis=_axis("decisions", rangemode="tozero"))
    longest = max([d["p90_hours"] or 0 for d in daily] + [0])
    # A fast day reads in minutes or seconds, not in µh.
    unit, scale = (("seconds", 3600.0) if longest < 1 / 60 else ("minutes", 60.0)) if longest < 1 else ("hours", 1.0)

    def scaled(key: str) -> list[float | None]:
        return [None if d[key] is None else d[key] * scale for d in daily]

    timing = go.Figure([
        go.Scatter(x=dates, y=scaled("median_hours"), mode="lines+markers", name="median", line={"color": BLUE},
                   hovertemplate=f"median %{{y:.2f}} {unit}<extra></extra>"),
        go.Scatter(x=dates, y=scaled("p90_hours"), mode="lines+markers", name="90th percentile",
                   line={"color": ORANGE, "dash": "dash"}, hovertemplate=f"p90 %{{y:.2f}} {unit}<extra></extra>")])
    timing.update_layout(**_layout("Time to decision (items decided that day)"), xaxis=_date_axis(),
                         yaxis=_axis(unit, rangemode="tozero"))
    quality = go.Figure([
        go.Bar(x=dates, y=[d["sla_breaches"] for d in daily], name="decided after the SLA", marker={"color": RED}),
        go.Bar(x=dates, y=[d["overturned"] for d in daily], name="automatic labels overturned",
               marker={"color": ORANGE})])
    if not any(d["sla_breaches"] or d["overturned"] for d in daily):
        quality.add_annotation(text="none in these days", showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5,
                               font={"color": GREY, "size": 14})
    quality.update_layout(**_layout("SLA breaches and overturned labels per day", barmode="group"),
                          xaxis=_date_axis(), yaxis=_axis("items", rangemode="tozero"))
    backlog_rows = trends["backlog"]
    ages = [b["age"] for b in backlog_rows]
    backlog = go.Figure([
        go.Bar(x=ages, y=[b["items"] - b["overdue"] for b in backlog_rows], name="within SLA", marker={"color": BLUE}),
        go.Bar(x=ages, y=[b["overdue"] for b in backlog_rows], name="overdue", marker={"color": RED})])
    backlog.update_layout(**_layout("Open items by age", barmode="stack", hovermode="x"),
                          xaxis=_axis(""), yaxis=_axis("open items", rangemode="tozero"))
    return {"decisions": decisions.to_plotly_json(), "timing": timing.to_plotly_json(),
            "quality": quality.to_plotly_json(), "backlog": backlog.to_plotly_json()}


def reliability_png(rows: list[dict[str, Any]], meta: dict[str, Any]) -> bytes:
    filled = [row for row in rows if row["count"]]
    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    try:
        ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
        ax.bar([row["lower"] for row in filled], [row["accuracy"] for row in filled],
               width=[row["upper"] - row["lower"] for row in filled], align="edge", alpha=0.6, edgecolor="black",
               label="accuracy")
        ax.plot([row["mean_confidence"] for row in filled], [row["accuracy"] for row in filled], "ko",
                label="mean confidence")
        ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence", ylabel="accuracy", title=_title(meta))
        ax.legend(loc="upper left")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", bbox_inches="tight")
    finally:
        plt.close(fig)
    return buffer.getvalue()
