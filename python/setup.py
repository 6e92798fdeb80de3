"""Builds slotdiff._slotdiff with the repository's CMake (SLOTDIFF_BUILD_PYTHON=ON, only that target)
and puts it into the wheel beside the pure-Python files. Environment:
  SLOTDIFF_CMAKE_ARGS   extra configure arguments (e.g. "-DSLOTDIFF_NATIVE=ON")
  SLOTDIFF_BUILD_DIR    build in this CMake folder; one already configured (with SLOTDIFF_BUILD_PYTHON=ON)
                        is only built, its options untouched (default: setuptools' temporary folder)
  CMAKE_BUILD_PARALLEL_LEVEL  compile jobs (default 2)
"""
import os
import pathlib
import shlex
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent  # the repository: the extension is built from its CMakeLists.txt


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        if not (ROOT / "CMakeLists.txt").exists() or not (ROOT / "include" / "slotdiff").is_dir():
            raise RuntimeError(f"{ROOT} is not the slotdiff repository: build from its python/ folder")
        build = pathlib.Path(os.environ.get("SLOTDIFF_BUILD_DIR") or pathlib.Path(self.build_temp).resolve() / "cmake")
        args = ["-S", str(ROOT), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release", "-DSLOTDIFF_BUILD_PYTHON=ON",
                "-DSLOTDIFF_BUILD_TESTS=OFF", "-DSLOTDIFF_BUILD_TOOLS=OFF", "-DSLOTDIFF_BUILD_CUDA=OFF",
                f"-DSLOTDIFF_PYTHON_EXECUTABLE={sys.executable}"]
        if shutil.which("ninja"):
            args += ["-G", "Ninja"]
        if shutil.which("ccache"):
            args += ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"]
        args += shlex.split(os.environ.get("SLOTDIFF_CMAKE_ARGS", ""))
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", "2")
        if os.environ.get("SLOTDIFF_BUILD_DIR") and (build / "CMakeCache.txt").exists():
            print(f"slotdiff: reusing the configured build {build}", flush=True)  # its options stay as they are
        else:
            print("slotdiff: cmake " + " ".join(args), flush=True)
            subprocess.run(["cmake"] + args, check=True)
        subprocess.run(["cmake", "--build", str(build), "--target", "slotdiff_python", "-j", jobs], check=True)
        built = sorted((build / "python" / "slotdiff").glob("_slotdiff*"))
        if not built:
            raise RuntimeError(f"the build left no _slotdiff module in {build / 'python' / 'slotdiff'}")
        dest = pathlib.Path(self.get_ext_fullpath(ext.name))
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built[0], dest)
        os.chmod(dest, 0o755)


setup(ext_modules=[CMakeExtension("slotdiff._slotdiff")], cmdclass={"build_ext": CMakeBuild})
