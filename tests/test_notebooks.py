"""Every Colab notebook runs top to bottom, offline, with a small-data parameter (as papermill would inject)."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "colab").glob("*.ipynb"))
SMALL = {
    "01_quickstart": 'DATASET = "GunPoint"\nMAX_SERIES = 40',
    "02_finetune_convtimenet": 'DATASET = "ArrowHead"\nEPOCHS = 2\nSEED = 0\nCHECKPOINT_DIR = "ckpt"',
    "03_timenet_tnc": 'DATASET = "ItalyPowerDemand"\nLAYERS = None\nPOOLING = "last+mean+max"\nINPUTS = "series+diff"',
    "04_export_and_query": 'MODEL = "convtimenet"\nOUT = "exported"',
}


def test_every_notebook_has_an_install_cell_and_parameters():
    assert {p.stem for p in NOTEBOOKS} == set(SMALL)
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        tags = [c.metadata.get("tags", []) for c in nb.cells if c.cell_type == "code"]
        assert tags[0] == ["colab-install"] and "pip" in nb.cells[1].source
        assert ["parameters"] in tags


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if "parameters" in cell.metadata.get("tags", []):
            cell.source = SMALL[path.stem]
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
