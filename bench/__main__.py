"""python -m bench — see bench/run.py."""

import os
import sys
from pathlib import Path

# The pipeline package lives in plugins/ (installed editable in .venv; this also works from a
# plain checkout).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

from .run import main

if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
