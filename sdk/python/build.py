#!/usr/bin/env python3
"""Builds a Python Patchbay plugin from a checkout: ``python sdk/python/build.py
PLUGIN_DIR [--bindings]``, the same as ``python -m patchbay_build`` with the
``patchbay-sdk`` package installed (see ``patchbay_build/build.py``)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from patchbay_build.build import main  # noqa: E402

if __name__ == "__main__":
    main()
