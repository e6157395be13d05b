"""The malformed corpus (tests/data/malformed): every file raises GGUFError naming the problem,
at open or at the latest when its tensors are read; the interpreter never crashes."""
import pathlib

import numpy as np
import pytest

import ggufkit

CORPUS = pathlib.Path(__file__).resolve().parents[2] / "tests" / "data" / "malformed"


def manifest():
    rows = []
    for line in (CORPUS / "MANIFEST.tsv").read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        name, _tools, phrase = line.split("\t")
        rows.append((name, phrase))
    return rows


CASES = manifest()


def test_corpus_is_there():
    assert len(CASES) >= 90


@pytest.mark.parametrize("name,phrase", CASES, ids=[c[0] for c in CASES])
def test_malformed_file_raises(name, phrase):
    path = CORPUS / name
    with pytest.raises(ggufkit.GGUFError) as e:
        with ggufkit.GGUFFile(path) as f:
            f.metadata
            for t in f.tensors:
                f.read(t.name, out=bytearray(t.n_elements * 4)) if t.n_elements < (1 << 26) \
                    else f.read(t.name, rows=(0, min(1, t.n_rows)))
    message = str(e.value)
    assert isinstance(e.value, ValueError)
    # the phrase column lists alternatives separated by '|'
    assert any(p.lower() in message.lower() for p in phrase.split("|")), message
    # the file (for split models: one of its shards) is named
    assert name.split("-0000")[0] in message


@pytest.mark.parametrize("path", sorted((CORPUS / "fuzz_regressions").glob("*")) +
                         sorted((CORPUS / "valid").glob("*")), ids=lambda p: p.name)
def test_other_corpus_files_never_crash(path):
    try:
        with ggufkit.GGUFFile(path) as f:
            f.metadata
            for t in f.tensors:
                if t.n_elements <= (1 << 24):
                    f.read(t.name)
                    f.raw(t.name)
    except ggufkit.GGUFError as e:
        assert str(e)
    np.zeros(1)  # the interpreter is still alive
