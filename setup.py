"""Build script: installs the ecelerity package, its loadable modules and conf/.

Cython twins in ecelerity/_speedups/ are optional extensions (gevent-style): when no
compiler or no Cython is available the package still installs and runs on the
pure-Python reference modules. ECELERITY_REQUIRE_CEXT=1 turns a failed build into
an error, so CI cannot pass a broken build off as pure Python.
"""
import glob
import os

from setuptools import find_packages, setup
from setuptools.command.build_ext import build_ext

REQUIRE_CEXT = os.environ.get("ECELERITY_REQUIRE_CEXT") == "1"


def cython_extensions():
    """Every ecelerity/_speedups/_c_*.pyx and _c_*.py becomes an optional extension."""
    try:
        from Cython.Build import cythonize
    except ImportError:
        if REQUIRE_CEXT:
            raise
        return []
    from setuptools import Extension

    sources = sorted(glob.glob("ecelerity/_speedups/_c_*.pyx"))
    exts = [
        Extension(
            "ecelerity._speedups." + os.path.splitext(os.path.basename(src))[0],
            [src],
            optional=not REQUIRE_CEXT,
            extra_compile_args=["-O2"],
        )
        for src in sources
    ]
    return cythonize(exts, language_level=3, quiet=True)


class OptionalBuildExt(build_ext):
    """Keep going without a compiler unless ECELERITY_REQUIRE_CEXT=1."""

    def run(self):
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - any toolchain failure
            if REQUIRE_CEXT:
                raise
            print(f"warning: compiled speedups not built ({exc}); using pure Python")


setup(
    name="ecelerity",
    version="0.1.0",
    description="Open-source, Momentum-compatible high-concurrency MTA",
    python_requires=">=3.11",
    packages=find_packages(include=["ecelerity", "ecelerity.*"]) + ["ecelerity_modules"],
    package_dir={"ecelerity_modules": "modules"},
    package_data={"ecelerity.policy.lua": ["*.lua", "scripts/*/*.lua"]},
    data_files=[
        ("share/ecelerity/conf", glob.glob("conf/*.conf")),
        ("share/ecelerity/conf/examples", glob.glob("conf/examples/*.conf")),
        ("share/ecelerity/conf/examples/include", glob.glob("conf/examples/include/*.conf")),
    ],
    ext_modules=cython_extensions(),
    cmdclass={"build_ext": OptionalBuildExt},
    install_requires=[
        "gevent>=24",
        "dnspython>=2.6",
        "dkimpy>=1.1",
        "cryptography>=42",  # fast RSA for dkimpy signing (ecelerity/dkim/fastrsa.py)
        "lxml>=5",
        "pyyaml>=6",
        "pcre2>=0.7",
        "lupa>=2.0",
        "pycurl>=7.45",
        "psycopg[binary]>=3.1",  # pgsql datasources (ecelerity/datasource/driver_pgsql.py)
        "PyMySQL>=1.1",  # mysql/mariadb datasources (driver_mysql.py)
        "ldap3>=2.9",  # ldap datasources (driver_ldap.py)
    ],
    extras_require={
        "test": ["pytest>=8", "pytest-timeout", "pytest-xdist", "hypothesis>=6", "ruff", "aiosmtpd"],
    },
    entry_points={
        "console_scripts": [
            "ecelerity = ecelerity.daemon.main:main",
            "ec_console = ecelerity.control.console:main",
            "validate_config = ecelerity.config.tools:validate_main",
            "ec_dump_config = ecelerity.config.tools:dump_main",
            "ec_show = ecelerity.core.show:main",
            "ec_rotate = ecelerity.log.rotate:main",
        ]
    },
)
