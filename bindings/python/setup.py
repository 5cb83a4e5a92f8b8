"""Builds the `spiral` extension module (metadata: pyproject.toml).

Either from the library's C++ sources that `make python-wheel` copies into cpp/ (an sdist
builds so, on any machine with the system libraries), or, in the checkout, against the static
libraries of a CMake build (SPIRAL_BUILD_DIR, default <repo>/build; `make python` builds them).
SPIRAL_BUILD_DIR, when set, wins over cpp/.
"""
import os
from pathlib import Path

from pybind11.setup_helpers import ParallelCompile, Pybind11Extension
from setuptools import setup

HERE = Path(__file__).resolve().parent
VERSION = "0.1.0"
# Dependants first, as the linker wants them (CMakeLists.txt's spiral_lib).
MODULES = ["api", "sim", "ipd", "lmm", "meta", "panel", "dsem", "formula", "data", "report"]
SYSTEM_LIBRARIES = ["tomlplusplus", "nlopt", "readstat", "sqlite3", "fmt"]
DEFINES = [("SPIRAL_VERSION", f'"{VERSION}"'), ("TOML_HEADER_ONLY", "0"), ("TOML_SHARED_LIB", "1")]


def checkout_build():
    repo = Path(os.environ.get("SPIRAL_REPO", HERE.parents[1]))
    build = Path(os.environ.get("SPIRAL_BUILD_DIR", repo / "build"))
    libraries = [build / f"libspiral_{m}.a" for m in MODULES]
    missing = [p for p in libraries if not p.exists()]
    if missing:
        raise SystemExit(f"spiral: build the C++ libraries first (make python): no {missing[0]}")
    return dict(include_dirs=[str(repo / "include")], extra_objects=[str(p) for p in libraries],
                depends=[str(p) for p in libraries])  # relink when the C++ libraries change


def packaged_sources():
    # The lmm kernels for the baseline instruction set only (no SPIRAL_AVX2_KERNELS).
    sources = sorted(str(p.relative_to(HERE)) for p in (HERE / "cpp" / "src").rglob("*.cpp"))
    return dict(sources=sources, include_dirs=["cpp/include", "cpp/src", "/usr/include/eigen3"],
                extra_link_args=["-pthread", "-ldl"])


if "SPIRAL_BUILD_DIR" not in os.environ and (HERE / "cpp" / "src").is_dir():
    parts = packaged_sources()
    ParallelCompile("SPIRAL_JOBS", default=2).install()
else:
    parts = checkout_build()

setup(
    ext_modules=[
        Pybind11Extension(
            "spiral._spiral",
            ["src/_spiral.cpp"] + parts.pop("sources", []),
            libraries=SYSTEM_LIBRARIES,
            define_macros=DEFINES,
            cxx_std=20,
            **parts,
        )
    ],
)
