"""One validation per run: the runner validates a source two notebooks read once, their
kernels read the saved checks, and the checks are gone when the run ends."""

from __future__ import annotations

import json
from pathlib import Path

from shopbook.report.checks import shared_checks
from shopbook.report.execute import Progress
from shopbook.report.plan import plan
from shopbook.report.runs import run
from tests.builders import write_notebook

ORDERS = (
    "order_id,customer_id,order_ts,channel,status,gross_amount,discount_amount,net_amount,"
    "currency\no1,c1,2024-01-02,site,paid,100,10,90,CNY\no2,c2,2024-01-03,jd,paid,20,0,20,CNY\n"
)
PARAMS = 'source: str = ""  # the data (the run gives it)'
SHOW = (
    "import json, os\n"
    "from shopbook.data import open_source\n"
    "from shopbook.data.validation import shared, validate\n"
    "report = validate(source)\n"
    "saved = shared.find(open_source(source), ['orders'])\n"
    "print(json.dumps({'folder': os.environ.get(shared.VARIABLE),"
    " 'saved': saved is not None, 'kept': report.tables['orders'].kept}))"
)


def _seen(folder: Path, name: str) -> dict:
    nb = json.loads((folder / name).read_text(encoding="utf-8"))
    outs = [o for c in nb["cells"] for o in c.get("outputs", []) if o.get("name") == "stdout"]
    return json.loads("".join("".join(o["text"]) for o in outs).splitlines()[-1])


def test_two_notebooks_of_one_source_read_the_checks_the_runner_saved(tmp_path):
    shop = tmp_path / "shop"
    shop.mkdir()
    (shop / "orders.csv").write_text(ORDERS)
    paths = [
        write_notebook(tmp_path / f"{k}_read.ipynb", PARAMS, SHOW, kernel="shopbook")
        for k in ("10", "20")
    ]
    tasks = plan([str(p) for p in paths], source=str(shop))[1]
    result = run(tasks, out=tmp_path / "reports", progress=Progress(quiet=True), workers=2)
    seen = [_seen(result.folder, p.name) for p in paths]
    assert [s["saved"] for s in seen] == [True, True]
    assert [s["kept"] for s in seen] == [2, 2]
    assert seen[0]["folder"] == seen[1]["folder"]
    assert not Path(seen[0]["folder"]).exists()  # removed with the run


def test_a_source_one_notebook_reads_is_left_to_it(tmp_path):
    shop = tmp_path / "shop"
    shop.mkdir()
    (shop / "orders.csv").write_text(ORDERS)
    path = write_notebook(tmp_path / "10_one.ipynb", PARAMS, "1")
    with shared_checks(plan([str(path)], source=str(shop))[1]) as variables:
        assert variables == {}
    # a notebook whose own default names the source counts as reading it
    other = write_notebook(tmp_path / "20_own.ipynb", f'source: str = "{shop}"  # here', "1")
    tasks = plan([str(path), str(other)], source=None)[1]
    tasks[0].parameters["source"] = str(shop)
    with shared_checks(tasks) as variables:
        assert list(variables) == ["SHOPBOOK_CHECKED"]


def test_a_source_that_does_not_validate_is_left_to_each_notebook(tmp_path):
    shop = tmp_path / "shop"
    shop.mkdir()
    (shop / "orders.csv").write_text("order_id\no1\n")  # columns missing: a ContractError
    paths = [write_notebook(tmp_path / f"{k}_x.ipynb", PARAMS, "1") for k in ("10", "20")]
    with shared_checks(plan([str(p) for p in paths], source=str(shop))[1]) as variables:
        assert variables == {}
