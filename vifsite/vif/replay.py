"""Replay of witnessed operations.

A tool witness is replayed by the app that owns the tool: it registers a function here (``register``)
that recomputes the result from the recorded parameters and returns the result hash and the current
value of each recorded input it depends on (so a mismatch can say which input changed). ``vif``
never imports the apps that register, keeping dependencies one way.

An LLM witness cannot be recomputed here (the model is the caller's): the caller supplies the output
its model produced with the recorded seed and parameters, and we compare hashes and inputs.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from vifsite.errors import InputError
from vifsite.vif.models import Witness


@dataclass
class ToolReplay:
    result_hash: str
    inputs: dict[str, Any] = field(default_factory=dict)  # current values of recorded inputs


Replayer = Callable[[Mapping[str, Any]], ToolReplay]
_REPLAYERS: dict[str, Replayer] = {}
# Functions that register replayers when a replay first needs them: an app's ready() adds one instead of
# importing its tools (numerical libraries) in every process that starts Django, commands included.
_LOADERS: list[Callable[[], None]] = []
_LOADING = threading.Lock()


def register(tool_id: str, replayer: Replayer) -> None:
    _REPLAYERS[tool_id] = replayer


def register_loader(loader: Callable[[], None]) -> None:
    """Call ``loader`` (which calls ``register``) before the first replay looks a tool up."""
    if loader not in _LOADERS:
        _LOADERS.append(loader)


def replayer_of(tool_id: str) -> Replayer | None:
    if _LOADERS:
        with _LOADING:  # another thread's first replay waits until the loaders have run, not one of them
            while _LOADERS:
                _LOADERS[0]()
                _LOADERS.pop(0)
    return _REPLAYERS.get(tool_id)


def _differences(recorded: Mapping[str, Any], current: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"input": name, "recorded": recorded.get(name), "current": value}
            for name, value in current.items() if name in recorded and recorded.get(name) != value]


def replay_tool(witness: Witness, *, runs: int = 1) -> dict[str, Any]:
    tool_id = witness.tool_ids[0] if witness.tool_ids else ""
    replayer = replayer_of(tool_id)
    if replayer is None:
        raise InputError(f"Tool {tool_id!r} has no replayer.")
    if witness.retired_at is not None:
        raise InputError("This witness is retired to hashes only: its parameters are gone, it cannot be replayed.")
    results = [replayer(witness.tool_parameters) for _ in range(runs)]
    hashes = [result.result_hash for result in results]
    matches = hashes[0] == witness.tool_results_hash
    differences = _differences(witness.tool_parameters, results[0].inputs)
    return {
        "vif_id": str(witness.vif_id), "kind": "tool", "tool_id": tool_id, "matches": matches,
        "recorded_hash": witness.tool_results_hash, "replayed_hash": hashes[0], "runs": runs,
        "distinct_results": len(set(hashes)), "deterministic": len(set(hashes)) == 1,
        "differences": differences,
        "explanation": ("The recomputed result is identical, bit for bit." if matches else
                        ("The result differs; recorded inputs that changed: "
                         + ", ".join(d["input"] for d in differences) + "." if differences else
                         "The result differs although every recorded input is unchanged: the computation "
                         "itself changed (software version) or is not deterministic.")),
    }


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def replay_llm(witness: Witness, supplied: Mapping[str, Any]) -> dict[str, Any]:
    outputs: list[str] = list(supplied.get("outputs") or [])
    if supplied.get("output") is not None:
        outputs.insert(0, supplied["output"])
    hashes = [_sha(text) for text in outputs]
    if not hashes and supplied.get("output_hash"):
        hashes = [str(supplied["output_hash"]).lower()]
    if not hashes:
        raise InputError("Give the replayed output (output, outputs or output_hash) to compare with the record.")
    current: dict[str, Any] = {}
    if supplied.get("prompt") is not None:
        current["prompt_hash"] = _sha(supplied["prompt"])
    elif supplied.get("prompt_hash"):
        current["prompt_hash"] = str(supplied["prompt_hash"]).lower()
    for name in ("model_id", "replay_seed", "temperature", "top_p", "top_k", "max_tokens"):
        if supplied.get(name) is not None:
            current[name] = supplied[name]
    recorded = {name: getattr(witness, name) for name in
                ("prompt_hash", "model_id", "replay_seed", "temperature", "top_p", "top_k", "max_tokens")}
    differences = _differences(recorded, current)
    matching = [h == witness.output_hash for h in hashes]
    return {
        "vif_id": str(witness.vif_id), "kind": "llm", "matches": all(matching), "matching_runs": sum(matching),
        "recorded_hash": witness.output_hash, "replayed_hash": hashes[0], "runs": len(hashes),
        "distinct_results": len(set(hashes)), "deterministic": len(set(hashes)) == 1,
        "differences": differences,
        "recorded_parameters": {k: v for k, v in recorded.items() if k != "prompt_hash"},
        "explanation": ("The replayed output is identical to the recorded one." if all(matching) else
                        ("The output differs; inputs that differ from the record: "
                         + ", ".join(d["input"] for d in differences) + "." if differences else
                         "The output differs with the same recorded inputs: the model is not deterministic "
                         "under these parameters (or they were not all supplied).")),
    }


def replay(witness: Witness, supplied: Mapping[str, Any]) -> dict[str, Any]:
    if witness.operation == Witness.Operation.TOOL:
        return replay_tool(witness, runs=int(supplied.get("runs") or 1))
    return replay_llm(witness, supplied)
