"""Warm kernels: a run's kernels are forked from a server that imported the libraries,
and are otherwise the kernels a cold start gives (environment, folder, figures, signals);
a kernel the server cannot fork starts cold, and no forked kernel outlives its run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from jupyter_client.manager import KernelManager

from shopbook.report import warm
from shopbook.report.execute import Progress
from shopbook.report.plan import plan
from shopbook.report.runs import run
from tests.builders import write_notebook

SHOW = (
    "import json, os, sys\n"
    "import matplotlib.pyplot as plt\n"
    "fig, ax = plt.subplots(); ax.plot([1, 2])\n"
    "print(json.dumps({'pandas': 'pandas' in sys.modules, 'shopbook': 'shopbook' in sys.modules,"
    " 'cwd': os.getcwd(), 'marker': os.environ.get('SHOPBOOK_TEST_MARKER'),"
    " 'argv0': sys.argv[0], 'pid': os.getpid(), 'ppid': os.getppid()}))"
)


def _outputs(path: Path) -> tuple[dict, list[str]]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    outs = [o for c in nb["cells"] for o in c.get("outputs", [])]
    text = "".join("".join(o["text"]) for o in outs if o.get("name") == "stdout")
    kinds = [k for o in outs for k in o.get("data", {})]
    return json.loads(text.splitlines()[-1]), kinds


def _gone(pid: int, seconds: float = 10) -> bool:
    """Whether the process ``pid`` ends within ``seconds`` (exited: gone, or a zombie
    its new parent has not reaped yet)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (ProcessLookupError, FileNotFoundError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def test_a_run_forks_its_kernels_warm_and_they_are_kernels_like_any(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOPBOOK_TEST_MARKER", "seen")
    paths = [
        write_notebook(tmp_path / f"{k}_warm.ipynb", "x = 1", SHOW, kernel="shopbook")
        for k in ("10", "20")
    ]
    tasks = plan([str(p) for p in paths])[1]
    result = run(tasks, out=tmp_path / "reports", progress=Progress(quiet=True), workers=2)
    seen = [_outputs(result.folder / p.name) for p in paths]
    for shown, kinds in seen:
        assert shown["pandas"] is True  # imported before the fork
        assert shown["shopbook"] is False  # nothing of Shopbook is
        assert shown["marker"] == "seen"  # the environment the runner gave
        assert shown["argv0"].endswith("ipykernel_launcher.py")
        assert "image/png" in kinds  # the inline backend shows figures
    assert seen[0][0]["pid"] != seen[1][0]["pid"]
    assert seen[0][0]["ppid"] == seen[1][0]["ppid"]  # both forked by the one server
    assert _gone(seen[0][0]["ppid"])  # which ends with the run
    assert all(_gone(s["pid"]) for s, _ in seen)


def test_turned_off_the_kernels_start_cold(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOPBOOK_WARM_KERNELS", "0")
    paths = [
        write_notebook(tmp_path / f"{k}_cold.ipynb", "x = 1", SHOW, kernel="shopbook")
        for k in ("10", "20")
    ]
    result = run(
        plan([str(p) for p in paths])[1],
        out=tmp_path / "reports",
        progress=Progress(quiet=True),
        workers=2,
    )
    assert [_outputs(result.folder / p.name)[0]["pandas"] for p in paths] == [False, False]


class _Through(KernelManager):
    """A blocking kernel manager whose kernel command goes through ``server`` (the
    runner's manager does the same, asynchronously: the run tests above use it)."""

    server: warm.WarmKernels | None = None

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        return self.server.command(cmd) if self.server is not None else cmd


def _kernel(server: warm.WarmKernels | None, **env: str) -> KernelManager:
    km = _Through(kernel_name="shopbook")
    km.server = server
    km.start_kernel(env={**os.environ, **env})
    return km


def _ask(km: KernelManager, code: str) -> dict:
    client = km.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        out: list[str] = []
        client.execute_interactive(
            code, timeout=60, output_hook=lambda m: out.append(m["content"].get("text", ""))
        )
        return json.loads("".join(out).strip().splitlines()[-1])
    finally:
        client.stop_channels()


PIDS = (
    "import json, os, sys\n"
    "print(json.dumps({'pid': os.getpid(), 'pandas': 'pandas' in sys.modules}))"
)


@pytest.fixture
def server():
    with warm.WarmKernels(options=warm.kernel_options("shopbook")) as s:
        yield s


def test_a_killed_kernel_command_takes_its_forked_kernel_with_it(server):
    km = _kernel(server)
    try:
        got = _ask(km, PIDS)
        assert got["pandas"] is True
        assert got["pid"] != km.provisioner.process.pid  # the client is not the kernel
    finally:
        km.shutdown_kernel(now=True)  # kills the kernel command (the client)
    assert _gone(got["pid"])


def test_an_interrupt_reaches_the_forked_kernel(server):
    km = _kernel(server)
    try:
        client = km.client()
        client.start_channels()
        client.wait_for_ready(timeout=60)
        msg = client.execute(
            "import time\ntry:\n    time.sleep(60)\nexcept KeyboardInterrupt:\n    print('stopped')"
        )
        time.sleep(1.5)
        km.interrupt_kernel()
        reply = client.get_shell_msg(timeout=20)
        while reply["parent_header"].get("msg_id") != msg:  # kernel_info replies before
            reply = client.get_shell_msg(timeout=20)
        out = []
        while True:
            m = client.get_iopub_msg(timeout=10)
            if m["msg_type"] == "stream":
                out.append(m["content"]["text"])
            if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                break
        assert "stopped" in "".join(out)
        client.stop_channels()
    finally:
        km.shutdown_kernel(now=True)


def test_a_kernel_whose_imports_would_differ_starts_cold(server):
    km = _kernel(server, MPLBACKEND="agg")  # the server imported matplotlib for inline
    try:
        assert _ask(km, PIDS)["pandas"] is False
    finally:
        km.shutdown_kernel(now=True)


def test_without_a_server_the_kernel_command_starts_cold(tmp_path):
    missing = warm.WarmKernels(options=warm.kernel_options("shopbook"))
    missing.path = str(tmp_path / "no-server")
    missing.process = object()  # type: ignore[assignment] - "started", but not listening
    km = _kernel(missing)
    try:
        assert _ask(km, PIDS)["pandas"] is False
    finally:
        km.shutdown_kernel(now=True)


def test_only_ipykernels_of_this_python_are_forked(server):
    other = ["/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "c.json"]
    assert server.command(other) == other
    assert server.command([sys.executable, "-m", "other"]) == [sys.executable, "-m", "other"]
    mine = [sys.executable, *server.options, "-m", "ipykernel_launcher", "-f", "c.json"]
    assert server.command(mine)[:3] == [sys.executable, "-S", str(warm.CLIENT)]
    flagged = [sys.executable, "-X", "dev", "-m", "ipykernel_launcher", "-f", "c.json"]
    assert server.command(flagged) == flagged  # options the server was not started with


def test_the_server_ends_its_kernels_when_the_run_ends():
    with warm.WarmKernels(options=warm.kernel_options("shopbook")) as s:
        km = _kernel(s)
        pid = _ask(km, PIDS)["pid"]
    assert _gone(pid)
    assert s.process is not None and s.process.poll() is not None
    assert not Path(s.path).exists()
    km.cleanup_resources()


def test_a_killed_runner_takes_the_server_with_it(tmp_path):
    runner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\nfrom shopbook.report import warm\n"
            "w = warm.WarmKernels().__enter__()\nprint(w.process.pid, flush=True)\ntime.sleep(120)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    server = int(runner.stdout.readline())
    runner.kill()  # no __exit__: the server notices its runner is gone (after its imports)
    runner.wait()
    assert _gone(server, seconds=60)
