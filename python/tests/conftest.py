"""Shared fixtures: where the repository's test data is.

The golden set ships as tests/data/golden.tar.zst and golden-real.tar.zst (golden/real/); a
CMake build with tests unpacks both into build/*/testdata/golden. Without such a build (pip
install . builds no tests) the session unpacks them into a temporary folder (needs the `zstd`
tool, installed by scripts/setup.sh).
GGUFKIT_GOLDEN_DIR overrides both.
"""
import os
import pathlib
import shutil
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
TEST_DATA = REPO / "tests" / "data"


@pytest.fixture(scope="session")
def golden_dir(tmp_path_factory) -> pathlib.Path:
    env = os.environ.get("GGUFKIT_GOLDEN_DIR")
    if env:
        return pathlib.Path(env)
    archives = [TEST_DATA / "golden.tar.zst", TEST_DATA / "golden-real.tar.zst"]
    for build in sorted((REPO / "build").glob("*/testdata/golden")):
        if (build / "ggml" / "manifest.json").exists() and (build / "real").is_dir():
            return build
    if shutil.which("zstd") is None:
        pytest.fail("no unpacked golden data and no zstd tool to unpack "
                    f"{archives[0]} (run scripts/setup.sh)")
    dest = tmp_path_factory.mktemp("testdata")
    for archive in archives:
        subprocess.run(f"zstd -dc '{archive}' | tar -x -C '{dest}'", shell=True, check=True)
    return dest / "golden"


@pytest.fixture(scope="session")
def sample_path() -> pathlib.Path:
    return TEST_DATA / "sample" / "tiny-q4_K.gguf"
