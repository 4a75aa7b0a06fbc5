"""The browser scripts the app's page needs, installed once so the page works offline.

Solara's page loads its JavaScript (the Vue/Vuetify application, RequireJS, the icon font)
through a local proxy at ``/_solara/cdn/...`` that, on a cache miss, downloads the file
from a public CDN. On a machine without internet the page would stay blank, and even
with internet every first visit would reach outside the machine. This module fills the
proxy's cache folder from the npm registry with ``npm pack`` (npm's ordinary client), so
the server answers every such request from disk. The Plotly library itself comes from the
installed ``plotly`` Python package and needs nothing here.

Run it once after installing the project (``.ci/run`` does)::

    uv run python -m simulation.viz.assets          # install what is missing
    uv run python -m simulation.viz.assets --check  # exit 1 if something is missing

Example:
    >>> all("@" in spec for spec in required_packages())
    True
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from simulation.errors import AssetError

_SPEC = re.compile(r"\{\{cdn\}\}/((?:@[\w.-]+/)?[\w.-]+@\d+\.\d+\.\d+[\w.+-]*)/")


def required_packages() -> list[str]:
    """npm packages (``name@version``) the page loads, read from Solara's own page template.

    Reading the template rather than hard-coding versions keeps this right when Solara is
    upgraded. Only the Vue 3 application is kept when the installed ipyvue is version 3
    (the template names both and picks one at run time).
    """
    import ipyvue
    import solara
    import solara.server.settings as server_settings

    template = Path(solara.__file__).parent / "server" / "templates" / "solara.html.j2"
    text = template.read_text(encoding="utf-8")
    specs = list(dict.fromkeys(_SPEC.findall(text)))
    vue3 = ipyvue.__version__.startswith("3")
    unused = "@widgetti/solara-vuetify-app@" if vue3 else "@widgetti/solara-vuetify3-app@"
    specs = [s for s in specs if not s.startswith(unused)]
    if server_settings.assets.fontawesome_enabled:
        font = server_settings.assets.fontawesome_path.strip("/").split("/")[0]
        specs.append(font)
    return list(dict.fromkeys(specs))


def cache_dir() -> Path:
    """The folder Solara's proxy serves ``/_solara/cdn/`` from."""
    import solara.server.settings as server_settings

    return Path(server_settings.assets.proxy_cache_dir)


def missing_packages() -> list[str]:
    """Required packages not yet in the cache folder."""
    root = cache_dir()
    return [spec for spec in required_packages() if not (root / spec).is_dir()]


def install(specs: list[str], npm: str = "npm") -> list[Path]:
    """Download each package with ``npm pack`` and unpack it into the cache folder.

    Each package is unpacked into a temporary folder beside its target and renamed into
    place, so an interrupted install never leaves a half-filled package behind.
    """
    if not specs:
        return []
    if shutil.which(npm) is None:
        raise AssetError(
            "npm is not installed; install it (e.g. 'apt-get install npm') and run "
            "'python -m simulation.viz.assets' again"
        )
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    done: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="ppsim-assets-") as tmp:
        for spec in specs:
            target = root / spec
            result = subprocess.run(
                [npm, "pack", spec, "--silent", "--pack-destination", tmp],
                capture_output=True,
                text=True,
                check=False,
            )
            lines = result.stdout.strip().splitlines()
            if result.returncode != 0 or not lines:
                reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
                raise AssetError(f"npm pack {spec} failed: {reason}")
            tarball = Path(tmp) / lines[-1].strip()
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target.parent))
            try:
                with tarfile.open(tarball) as archive:
                    archive.extractall(staging, filter="data")
                unpacked = staging / "package"
                if not unpacked.is_dir():
                    raise AssetError(f"npm pack {spec}: unexpected archive layout")
                os.replace(unpacked, target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            done.append(target)
    return done


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: install the missing packages, or only check with ``--check``."""
    parser = argparse.ArgumentParser(
        prog="python -m simulation.viz.assets",
        description="Install the browser scripts the ppsim app's page needs (once, via npm).",
    )
    parser.add_argument(
        "--check", action="store_true", help="only report; exit 1 if anything is missing"
    )
    args = parser.parse_args(argv)
    missing = missing_packages()
    if args.check:
        for spec in missing:
            print(f"missing: {spec}")
        print(f"{len(missing)} missing in {cache_dir()}")
        return 1 if missing else 0
    try:
        for path in install(missing):
            print(f"installed {path}")
    except AssetError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    print(f"all {len(required_packages())} page script packages present in {cache_dir()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
