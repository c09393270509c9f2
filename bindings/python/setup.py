"""Build hooks: bundle libswerl.so.1 into the wheel.

`pip install ./bindings/python` (from a checkout of the repository) runs
`make lib` at the repository root, which builds build/lib/libswerl.so.1 (at
once if it is up to date), and copies it into the wheel next to the package;
swerl._ffi loads that copy when SWERL_LIBRARY is not set. To bundle a library
built elsewhere, set SWERL_WHEEL_LIBRARY=/path/to/libswerl.so.1.

The wheel holds a native library but no Python extension, so it is tagged
py3-none-<platform>: one wheel serves every Python 3 on that platform.
"""

import os
import shutil
import subprocess
import sysconfig

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

try:  # setuptools >= 70.1 has its own; before, the wheel package provides it
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # pragma: no cover
    from wheel.bdist_wheel import bdist_wheel  # type: ignore

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
LIBRARY = "libswerl.so.1"


def library_to_bundle() -> str:
    given = os.environ.get("SWERL_WHEEL_LIBRARY")
    if given:
        if not os.path.isfile(given):
            raise SystemExit("SWERL_WHEEL_LIBRARY=%s is not a file" % given)
        return given
    if not os.path.isfile(os.path.join(REPO, "Makefile")):
        raise SystemExit(
            "swerl: cannot bundle %s: not inside the Swerl repository (no %s/Makefile). "
            "Set SWERL_WHEEL_LIBRARY=/path/to/%s" % (LIBRARY, REPO, LIBRARY))
    print("swerl: make -C %s lib" % REPO, flush=True)
    subprocess.run(["make", "-C", REPO, "--no-print-directory", "lib"], check=True)
    return os.path.join(REPO, "build", "lib", LIBRARY)


class BuildWithLibrary(build_py):
    def run(self) -> None:
        super().run()
        if self.dry_run:
            return
        target = os.path.join(self.build_lib, "swerl", LIBRARY)
        source = library_to_bundle()
        print("swerl: bundling %s" % source, flush=True)
        shutil.copyfile(source, target)
        os.chmod(target, 0o755)


class BinaryDistribution(Distribution):
    """A distribution with a native part: the wheel is platform-specific."""

    def has_ext_modules(self) -> bool:
        return True


class PlatformWheel(bdist_wheel):
    def get_tag(self):  # type: ignore[no-untyped-def]
        return "py3", "none", sysconfig.get_platform().replace("-", "_").replace(".", "_")


setup(distclass=BinaryDistribution,
      cmdclass={"build_py": BuildWithLibrary, "bdist_wheel": PlatformWheel})
