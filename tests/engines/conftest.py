"""Real engines for tests that need them, started here and stopped at the end.

PostgreSQL runs from Debian's server package: when ``initdb`` is not on the machine and
the tests run as root (CI does), it is installed with ``apt-get``. The server lives in a
temporary folder, listens on 127.0.0.1 on a free port, and is stopped after the session.
Spark runs in local mode (two cores, no UI) in this process. No engine is mocked.

The small synthetic shop (:mod:`tests.engines.shop`) is written once per session as a
DuckDB file (the reference), a folder of Parquet files (``spark://`` reads it) and a
PostgreSQL database ``smallshop``.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _install_postgres() -> None:
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "postgresql"],
        check=True,
        env=env,
        capture_output=True,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_uri():
    """A running PostgreSQL server with an empty database ``shop``; yields its URI."""
    if _pg_bin("initdb") is None:
        _install_postgres()
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.fail(
            "PostgreSQL server binaries not found and could not be installed (needs root + apt-get)"
        )
    root = Path(tempfile.mkdtemp(prefix="shopbook-pg-"))
    data = root / "data"
    # PostgreSQL refuses to run as root: run it as an unprivileged user.
    runas: list[str] = []
    user = os.environ.get("USER", "postgres")
    if os.geteuid() == 0:
        user = "nobody"
        shutil.chown(root, user="nobody")
        os.chmod(root, 0o700)
        runas = ["runuser", "-u", "nobody", "--"]
    port = _free_port()
    subprocess.run(
        [*runas, initdb, "-D", str(data), "-U", user, "--auth=trust", "-E", "UTF8", "--no-sync"],
        check=True,
        capture_output=True,
    )
    opts = (
        f"-c listen_addresses=127.0.0.1 -c port={port} "
        f"-c unix_socket_directories={root} -c fsync=off"
    )
    subprocess.run(
        [
            *runas,
            pg_ctl,
            "-D",
            str(data),
            "-o",
            opts,
            "-l",
            str(root / "log"),
            "-w",
            "-t",
            "60",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        import psycopg

        for _ in range(50):
            try:
                with psycopg.connect(
                    host="127.0.0.1", port=port, user=user, dbname="postgres", autocommit=True
                ) as c:
                    c.execute("CREATE DATABASE shop")
                break
            except psycopg.OperationalError:
                time.sleep(0.2)
        yield f"postgres://{user}@127.0.0.1:{port}/shop"
    finally:
        subprocess.run(
            [*runas, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def spark_backend(tmp_path_factory):
    """A local-mode Spark session (two cores, no UI) wrapped as an ibis backend."""
    pytest.importorskip("pyspark", reason="install the spark extra: pip install -e '.[spark]'")
    import ibis
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    warehouse = tmp_path_factory.mktemp("spark-warehouse")

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("shopbook-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(warehouse))
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={warehouse}")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        yield ibis.pyspark.connect(spark)
    finally:
        spark.stop()


@pytest.fixture(scope="session")
def shop_files(tmp_path_factory):
    """The small shop as ``(DuckDB file, Parquet folder)``."""
    from tests.engines import shop

    root = tmp_path_factory.mktemp("engine-shop")
    frames = shop.tables()
    return shop.write_duckdb(frames, root / "shop.duckdb"), shop.write_parquet(
        frames, root / "parquet"
    )


@pytest.fixture(scope="session")
def pg_shop(postgres_uri, shop_files):
    """The URI of a PostgreSQL database ``smallshop`` holding the small shop."""
    import psycopg

    from tests.engines import shop

    base, _ = postgres_uri.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as c:
        c.execute("DROP DATABASE IF EXISTS smallshop")
        c.execute("CREATE DATABASE smallshop")
    uri = base + "/smallshop"
    shop.load_postgres(shop_files[0], uri)
    return uri


@pytest.fixture(scope="session")
def spark_shop(spark_backend, shop_files):
    """``spark://`` URI of the small shop's Parquet folder (read by the test session)."""
    return f"spark://{shop_files[1]}"
