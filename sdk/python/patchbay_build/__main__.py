"""``python -m patchbay_build PLUGIN_DIR``: build a Python plugin (see
``patchbay_build.build``)."""

from patchbay_build.build import main

main()
