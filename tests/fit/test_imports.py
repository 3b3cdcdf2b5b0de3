"""The fit path runs on a bare GPU machine (torch and numpy only): importing it pulls in none
of the project's other dependencies."""

import subprocess
import sys

OPTIONAL = ["yaml", "scipy", "zarr", "ray", "trimesh", "mlflow", "igl", "fsspec", "skimage", "s3fs", "h5py"]


def test_the_fit_engine_imports_with_torch_and_numpy_alone():
    code = (
        "import sys, torch, numpy; before = {m.split('.')[0] for m in sys.modules};"
        "import inrzoo.fit, inrzoo.fit.engine, inrzoo.fit.streams;"
        f"print(sorted(({{m.split('.')[0] for m in sys.modules}} - before) & set({OPTIONAL!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
