"""Run the site's processes together and stop them together: ``python -m vifsite.runner``.

Starts the web server (``python -m vifsite.serve``) and the django-q2 cluster (``manage.py
qcluster``), each in a session of its own, so a signal meant for the site reaches the runner alone.
On SIGINT, SIGTERM or SIGHUP (Ctrl-C in a terminal, or a supervisor stopping the service) the runner
asks each process to stop the way it stops cleanly (SIGINT to its main process: uvicorn drains its
requests and closes websockets, the cluster's main process stops its sentinel and workers), and
after ``--grace`` seconds kills whatever is left, whole process groups, so nothing outlives it (an
import's SEGYImport included). If one process dies on its own, the others are stopped too.

Exit status: 0 when the site was asked to stop and every process stopped in time; otherwise the
first non-zero status seen (a process killed after the grace period counts as 1).

Why not a generic Procfile runner: it would signal each process group with SIGTERM, and the
django-q2 sentinel dies of SIGTERM at once (it keeps the default handler), leaving the cluster's
main process waiting on it.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from vifsite import childproc

BASE_DIR = Path(__file__).resolve().parent.parent
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def commands(port: int, host: str) -> dict[str, list[str]]:
    python = sys.executable
    return {
        "web": [python, "-m", "vifsite.serve", "--host", host, "--port", str(port)],
        "worker": [python, str(BASE_DIR / "manage.py"), "qcluster"],
    }


class Runner:
    def __init__(self, programs: dict[str, list[str]], grace: float) -> None:
        self.programs = programs
        self.grace = grace
        self.processes: dict[str, subprocess.Popen] = {}
        self.stop_requested = False
        self.status = 0

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if not self.stop_requested:
            print(f"runner: {signal.Signals(signum).name} received, stopping", file=sys.stderr, flush=True)
        self.stop_requested = True

    def run(self) -> int:
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._on_signal)
        for name, command in self.programs.items():
            # A session of its own: a terminal's Ctrl-C or a group signal reaches only the runner.
            # And it is told to stop (SIGINT) should the runner itself be killed outright.
            self.processes[name] = subprocess.Popen(command, cwd=BASE_DIR, start_new_session=True,
                                                    preexec_fn=childproc.die_with_parent(signal.SIGINT))
            print(f"runner: {name} started (pid {self.processes[name].pid})", file=sys.stderr, flush=True)
        while not self.stop_requested:
            for name, process in self.processes.items():
                code = process.poll()
                if code is not None:
                    print(f"runner: {name} exited with status {code}, stopping the others", file=sys.stderr,
                          flush=True)
                    self.status = code or 1
                    self.stop_requested = True
                    break
            else:
                time.sleep(0.1)
        self.stop()
        return self.status

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                try:
                    os.kill(process.pid, signal.SIGINT)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + self.grace
        while time.monotonic() < deadline and any(p.poll() is None for p in self.processes.values()):
            time.sleep(0.05)
        for name, process in self.processes.items():
            if process.poll() is None:
                print(f"runner: {name} did not stop within {self.grace:g} s, killed", file=sys.stderr, flush=True)
                self.status = self.status or 1
            # The whole session: the cluster's sentinel and workers, an import's SEGYImport.
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            process.wait()
            if process.returncode not in (0, -signal.SIGINT, 130) and not self.status:
                self.status = process.returncode if process.returncode > 0 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the web server and the task workers; stop them together.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--grace", type=float, default=4.0, help="seconds to stop cleanly before killing")
    args = parser.parse_args(argv)
    print(f"Serving on http://{args.host}:{args.port}/ (Ctrl-C to stop)", flush=True)
    return Runner(commands(args.port, args.host), args.grace).run()


if __name__ == "__main__":
    sys.exit(main())
