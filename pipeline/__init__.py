"""Build a searchable schedule site from a folder of Markdown schedule items."""

import os

# The search stage imports numpy, which loads OpenBLAS, whose threads (one per core) start
# at once and spin for a while: a build never multiplies a matrix, yet they took 95 ms of
# a core from every process that imports numpy, measured, on a build that needs both cores.
# Set here, before any of the package's modules can import numpy; a value already set stays.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
