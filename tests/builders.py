"""One set of row builders for the tests: contract ``orders`` and ``order_items`` from tuples.

Used through the ``make_orders`` / ``make_items`` fixtures of ``tests/conftest.py`` or
imported directly (``from tests.builders import orders_frame``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

ORDER_COLUMNS = (
    "order_id",
    "customer_id",
    "order_ts",
    "channel",
    "status",
    "gross_amount",
    "discount_amount",
    "net_amount",
    "currency",
)


#: The default layout of an order row: the first three are needed, the rest optional.
ORDER_ROW = ("customer_id", "order_ts", "net_amount", "status", "channel")


def orders_frame(
    rows: Iterable[Sequence[Any]],
    *,
    layout: Sequence[str] = ORDER_ROW,
    channel: str = "site",
    currency: str = "CNY",
    id_prefix: str = "o",
    ts_unit: str = "ns",
) -> pd.DataFrame:
    """Contract ``orders`` from short tuples.

    Parameters
    ----------
    rows
        One tuple per order, its values in the order of ``layout``; by default
        ``(customer_id, order_ts, net_amount[, status[, channel]])``.
    layout
        Column names of the tuple positions (any of :data:`ORDER_COLUMNS`; ``order_id``,
        ``status`` and ``channel`` may be left out or be trailing and absent).
    channel, currency
        Values for orders that do not give them.
    id_prefix
        ``order_id`` is ``o0, o1, …`` in row order unless the layout has ``order_id``.
    ts_unit
        Resolution of ``order_ts`` (``"ns"``, or ``"us"`` as a DuckDB table reads back).

    Returns
    -------
    pandas.DataFrame
        The contract ``orders`` columns; ``status`` defaults to ``"paid"``; gross equals
        net (no discount).
    """
    out = []
    for i, row in enumerate(rows):
        given = dict(zip(layout, row, strict=False))
        amount = given["net_amount"]
        out.append(
            {
                "order_id": given.get("order_id", f"{id_prefix}{i}"),
                "customer_id": given["customer_id"],
                "order_ts": pd.Timestamp(given["order_ts"]),
                "channel": given.get("channel", channel),
                "status": given.get("status", "paid"),
                "gross_amount": amount,
                "discount_amount": 0.0,
                "net_amount": amount,
                "currency": currency,
            }
        )
    frame = pd.DataFrame(out, columns=list(ORDER_COLUMNS))
    frame["order_ts"] = frame["order_ts"].astype(f"datetime64[{ts_unit}]")
    return frame


def items_frame(rows: Iterable[Sequence[Any]]) -> pd.DataFrame:
    """Contract ``order_items`` from ``(order_id, sku, quantity, unit_price[, unit_cost])``.

    ``list_price`` equals ``unit_price``; a missing ``unit_cost`` is null.
    """
    out = []
    for row in rows:
        order_id, sku, quantity, unit_price, *rest = row
        out.append(
            {
                "order_id": order_id,
                "sku": sku,
                "quantity": int(quantity),
                "unit_price": float(unit_price),
                "list_price": float(unit_price),
                "unit_cost": rest[0] if rest else None,
            }
        )
    return pd.DataFrame(out)


def write_notebook(path: Path, parameters: str, code: str, kernel: str = "python3") -> Path:
    """A small notebook file for runner tests: a cell tagged ``parameters``, then ``code``.

    Parameters
    ----------
    path
        Where to write it (``NN_name.ipynb``).
    parameters
        The source of the parameters cell (``'top_n: int = 3  # help'``).
    code
        The source of the one code cell after it.
    kernel
        The kernelspec name (``python3``, or ``shopbook`` for the project's kernel).
    """
    import nbformat
    import nbformat.v4 as nbv

    params = nbv.new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb = nbv.new_notebook()
    nb.cells = [params, nbv.new_code_cell(code)]
    nb.metadata["kernelspec"] = {
        "name": kernel,
        "display_name": "Python 3" if kernel == "python3" else kernel,
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


@dataclass
class Interrupted:
    """What :func:`interrupt_run` saw: the exit status, stderr, the seconds from the
    signal to the exit, and what ``before`` returned."""

    returncode: int
    err: str
    seconds: float
    before: Any


def interrupt_run(
    args: Sequence[str], sig: int, sleeping: int = 1, before: Any = None
) -> Interrupted:
    """Start ``python -m shopbook.cli *args``, wait until ``sleeping`` notebooks are in
    their last cell (``cell 4/4``: the sleepers of the runner tests), call
    ``before(proc)``, wait a second and send ``sig``.

    The run starts with SIGHUP at its default (as from a terminal): under ``nohup`` the
    run rightly keeps an inherited ignored SIGHUP.
    """
    import os
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "shopbook.cli", *args],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_DFL),
    )
    try:
        deadline, seen = time.monotonic() + 90, ""
        while time.monotonic() < deadline and seen.count("cell 4/4") < sleeping:
            line = proc.stderr.readline()
            seen += line
            assert line or proc.poll() is None, seen
        assert seen.count("cell 4/4") >= sleeping, f"the run never reached its last cell:\n{seen}"
        got = before(proc) if before is not None else None
        time.sleep(1.0)
        sent = time.monotonic()
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        seconds = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    return Interrupted(proc.returncode, err, seconds, got)
