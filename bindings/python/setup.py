"""Builds the `spiral` Python module against the static libraries of a CMake build of the
checkout (SPIRAL_BUILD_DIR, default: <repo>/build; `make python` builds them)."""
import os
from pathlib import Path

from pybind11.setup_helpers import Pybind11Extension
from setuptools import setup

REPO = Path(os.environ.get("SPIRAL_REPO", Path(__file__).resolve().parents[2]))
BUILD = Path(os.environ.get("SPIRAL_BUILD_DIR", REPO / "build"))
# Dependants first, as the linker wants them (CMakeLists.txt's spiral_lib).
MODULES = ["api", "sim", "ipd", "lmm", "meta", "panel", "formula", "data", "report"]
SYSTEM_LIBRARIES = ["tomlplusplus", "nlopt", "readstat", "sqlite3", "fmt"]

LIBRARIES = [str(BUILD / f"libspiral_{m}.a") for m in MODULES]
missing = [m for m in MODULES if not (BUILD / f"libspiral_{m}.a").exists()]
if missing:
    raise SystemExit(f"spiral: build the C++ libraries first (make python): no libspiral_{missing[0]}.a in {BUILD}")

setup(
    name="spiral",
    version="0.1.0",
    description="Session-by-session psychotherapy process research: lagged mixed models, meta-analysis, RI-CLPM",
    packages=["spiral"],
    python_requires=">=3.9",
    install_requires=["numpy", "pandas"],
    ext_modules=[
        Pybind11Extension(
            "spiral._spiral",
            ["src/_spiral.cpp"],
            include_dirs=[str(REPO / "include")],
            extra_objects=LIBRARIES,
            depends=LIBRARIES,  # relink when the C++ libraries change
            libraries=SYSTEM_LIBRARIES,
            cxx_std=20,
        )
    ],
)
