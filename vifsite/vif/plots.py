"""Reliability diagrams, as pure functions of the reliability bins (``calibration.Bins.rows()``)."""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import plotly.graph_objects as go  # noqa: E402


def _title(meta: dict[str, Any]) -> str:
    ece = meta.get("ece")
    return (f"Reliability (n = {meta.get('n', 0)}, ECE = {ece:.3f}, {meta.get('status', '')})" if ece is not None
            else f"Reliability (n = {meta.get('n', 0)})")


def reliability_figure(rows: list[dict[str, Any]], meta: dict[str, Any]) -> dict[str, Any]:
    """A plotly figure (as JSON) with accuracy per bin against the diagonal, and bin counts."""
    filled = [row for row in rows if row["count"]]
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect calibration",
                                line={"dash": "dash", "color": "grey"}))
    figure.add_trace(go.Bar(x=[(row["lower"] + row["upper"]) / 2 for row in filled],
                            y=[row["accuracy"] for row in filled],
                            width=[row["upper"] - row["lower"] for row in filled], name="accuracy",
                            customdata=[[row["count"], row["mean_confidence"]] for row in filled],
                            hovertemplate="accuracy %{y:.3f}<br>n = %{customdata[0]}<br>"
                                          "mean confidence %{customdata[1]:.3f}<extra></extra>", opacity=0.7))
    figure.add_trace(go.Scatter(x=[row["mean_confidence"] for row in filled], y=[row["accuracy"] for row in filled],
                                mode="markers", name="mean confidence", marker={"color": "black"}))
    figure.update_layout(title=_title(meta), xaxis={"title": "confidence", "range": [0, 1]},
                         yaxis={"title": "accuracy", "range": [0, 1]}, bargap=0)
    return figure.to_plotly_json()


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
