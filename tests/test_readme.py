"""The READMEs' srnet commands on data/ run as written, so they cannot rot (issue 18).

Every line of a fenced ``bash`` block of README.md (and data/examples/README.md)
that starts with ``srnet`` and names a ``data/`` path runs once (duplicates once) through :func:`srnet.cli.main` from the
repository root, with its output folder moved into ``tmp_path`` and small
budgets; it must exit 0 and write its report.  To keep the whole file fast,
SRNet's end-to-end refinement of constants is switched off and its
simplification capped: the commands, loading, search, composition and
reports are what is tested here, not the quality of the formulas.
"""

import re
import shlex
from pathlib import Path

import pytest

from srnet import cli
from srnet.extract import SRNet

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
READMES = (README, ROOT / "data" / "examples" / "README.md")
REPORTS = {"explain": "report.json", "compare": "compare.json"}


def bash_blocks(text: str) -> list[list[str]]:
    """The lines of each fenced ```bash block, continuation backslashes joined."""
    blocks = re.findall(r"^```bash\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)
    return [block.replace("\\\n", " ").splitlines() for block in blocks]


def srnet_lines(text: str) -> list[str]:
    return [line.strip() for block in bash_blocks(text) for line in block if line.strip().startswith("srnet ")]


def data_commands(text: str) -> list[list[str]]:
    """``srnet ...`` lines that name a data/ path, as argument lists (without 'srnet')."""
    commands = []
    for line in srnet_lines(text):
        words = shlex.split(line, comments=True)
        if any(word.startswith("data/") for word in words):
            commands.append(words[1:])
    return commands


def _set(args: list[str], option: str, value: str) -> list[str]:
    """``args`` with ``option``'s value replaced, or the option appended."""
    args = list(args)
    if option in args:
        args[args.index(option) + 1] = value
    else:
        args += [option, value]
    return args


def small(args: list[str], out: Path) -> list[str]:
    args = _set(args, "--out", str(out))
    args = _set(args, "--seconds", "1")
    if args[0] == "explain":
        args = _set(args, "--generations", "10")
    if args[0] == "compare":
        args = _set(args, "--points", "40")
    return args


def unique(commands) -> list[list[str]]:
    return [args for k, args in enumerate(commands) if args not in commands[:k]]


MAIN_COMMANDS = data_commands(README.read_text())
COMMANDS = unique([args for readme in READMES for args in data_commands(readme.read_text())])


def test_the_readme_has_commands_on_the_shipped_examples():
    assert len(MAIN_COMMANDS) >= 3, "README lost its srnet commands on data/examples"
    kinds = {args[0] for args in MAIN_COMMANDS}
    assert {"explain", "compare"} <= kinds
    for args in COMMANDS:
        for word in args:
            if word.startswith("data/"):
                assert (ROOT / word).exists(), f"README names {word}, which is not in the repository"


def test_readme_commands_that_need_shared_folders_say_so():
    """A command on ../shared (the SRNet paper's networks, the PMLB cache) sits in a block marked '# needs ...'."""
    for block in (b for readme in READMES for b in bash_blocks(readme.read_text())):
        if any(line.startswith("srnet ") and "../shared" in line for line in block):
            assert any(line.startswith("# needs") for line in block), block


@pytest.fixture
def quick_srnet(monkeypatch):
    fit = SRNet.fit

    def quick_fit(self, *args, **kwargs):
        self.refine, self.simplify_seconds = False, 0.5
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(SRNet, "fit", quick_fit)
    monkeypatch.chdir(ROOT)  # the README's paths are relative to the repository root


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a[:2]) for a in COMMANDS])
def test_readme_command_runs_as_written(args, tmp_path, quick_srnet, capsys):
    out = tmp_path / "out"
    status = cli.main(small(args, out))
    captured = capsys.readouterr()
    assert status == 0, captured.err[-2000:]
    assert (out / REPORTS[args[0]]).is_file(), captured.out[-2000:]
    if args[0] == "explain" and "softmax" in " ".join(args):  # a classifier: judged and sized per class logit
        assert "Pareto front (nodes, class agreement and class-probability R2 on the domain" in captured.out
        assert re.search(r"on the \d+ rows explained: class-probability R2 \d\.\d{6}, RMSE", captured.out), captured.out[-2000:]
        # judged by its classes: agreement per region, not the logits' R2, heads the formula
        assert re.search(r"^the network as one formula \(.*; class agreement with the network: rows \d+\.\d %",
                         captured.out, flags=re.MULTILINE), captured.out[-2000:]
        assert re.search(r"^  y2 = .*\(class 2's logit; \d+ nodes\)$", captured.out, flags=re.MULTILINE), \
            captured.out[-2000:]
