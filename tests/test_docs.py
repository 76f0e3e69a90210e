"""The README and docs/ stay short, linked and true to the tree.

- README.md is at most 300 lines (a newcomer reads it in five minutes);
- every page of docs/ (and bench/README.md) is linked from README.md;
- every repository path the docs name in backticks exists, and every local Markdown link (with its
  #anchor) resolves;
- README's test command is the one .ci/run runs.

Pure text: nothing is imported from harness/. A failure lists every stale path or link at once.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BENCH_README = ROOT / "bench" / "README.md"
MAX_README_LINES = 300


def doc_files() -> list[Path]:
    """README.md, every Markdown page under docs/ and bench/README.md."""
    return [README, *sorted((ROOT / "docs").rglob("*.md")), BENCH_README]


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# --- what counts as a repository path ------------------------------------------------------------

#: File name endings that mark a name in backticks as a file of this repository.
KNOWN_EXTENSIONS = (".py", ".yaml", ".yml", ".md", ".csv", ".cc", ".h", ".txt", ".rst", ".tle", ".sh",
                    ".toml", ".conf", ".cfg")

#: The repository's top-level entries a path in a fenced code block may start with (commands in
#: fenced blocks also name output files and remote paths, so only these are checked there).
TOP_LEVEL = ("harness/", "ns3_modules/", "topologies/", "sweeps/", "bench/", "docs/", "tests/", "ci/", ".ci/")

#: Files of the repository's top level: named bare, they must be there (CMakeLists.txt is the
#: top-level one, not the module's), in prose and in fenced blocks alike.
ROOT_FILES = {"CMakeLists.txt", "Dockerfile", "pyproject.toml", "README.md"}

#: Paths that are not in the repository on purpose.
NOT_IN_REPOSITORY = (
    "results/",          # a run's output (results/<name>/, the default --out), never committed
    "plots/",            # the figures folder of a results directory
    "harness/_cxx",      # where a wheel installs the C++ sources (pyproject.toml maps ns3_modules/ there)
    "dist/", "build/",   # what `pip wheel` / `python -m build` and `cmake -B build` write
)

#: Files a run or a sweep writes: named bare in the docs, found in a results directory, not here.
OUTPUT_FILES = {
    "tokens.csv", "layers.csv", "requests.csv", "satellites.csv", "satellite_busy.csv", "coverage_gaps.csv",
    "user_sites.csv", "sweep.csv", "paper.csv", "scenario.yaml", "kuiper_630_paths.csv", "paths.csv",
    "energy.csv", "sunlit.csv", "power.json",  # with power.enabled (docs/power.md)
    "kv_transfers.csv",  # disaggregated serving (docs/serving.md)
}


def is_placeholder_or_elsewhere(text: str) -> bool:
    """Not a path of this repository: a URL, a placeholder (<name>, OUT/, NAME.yaml), a glob, an
    absolute path (a container's /results, a worker's /opt/...), a home or cache directory (~/...),
    a path relative to another file (../), or an environment variable."""
    first = text.split("/", 1)[0]
    return ("://" in text or "<" in text or ">" in text or any(c in text for c in "*?[]{}$")
            or text.startswith(("/", "~", "..", "-"))
            or ("/" in text and first.isupper())          # OUT/..., DIR/...: a directory the reader picks
            or Path(text).stem.isupper() and Path(text).stem not in ("README", "SOURCE"))


def looks_like_path(text: str) -> bool:
    """A name in backticks that should exist in the repository: one token of path characters that
    contains a '/' or ends in a known extension, and is none of the exceptions above."""
    if not re.fullmatch(r"[A-Za-z0-9_.\-/+~<>*?\[\]{}$:]+", text):   # spaces, quotes, '=': code or a command
        return False
    if is_placeholder_or_elsewhere(text) or text.startswith(NOT_IN_REPOSITORY):
        return False
    if ":" in text:                                   # a C++ name (Class::Method) or host:port
        return False
    if re.fullmatch(r"[\d.]+/\w+", text) or re.fullmatch(r"\.\w+", text):   # 1/s, 0.8/0.95; an extension
        return False
    return "/" in text or text.endswith(KNOWN_EXTENSIONS) or text in ROOT_FILES


_FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.M | re.S)
_INLINE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")


def named_paths(text: str) -> list[str]:
    """Every repository path a Markdown text names: in inline code spans (by looks_like_path), and
    in fenced blocks the whitespace-separated words that start with a top-level folder."""
    found = []
    for block in _FENCE.findall(text):
        for word in re.split(r"[\s\"'=(),;|]+", block):
            word = word.rstrip(".:")
            if (word.startswith(TOP_LEVEL) and not is_placeholder_or_elsewhere(word)) or word in ROOT_FILES:
                found.append(word)
    prose = _FENCE.sub("", text)
    found += [span.strip() for span in _INLINE.findall(prose) if looks_like_path(span.strip())]
    return found


#: Folders that are not the project's: version control, virtual environments, caches, build output.
SKIPPED_DIRS = {"__pycache__", "results", "build", "dist", "venv", "node_modules"}


def tracked_names() -> set[str]:
    """File and folder names anywhere in the project (for names given without their folder)."""
    names = set()
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info")
                   and (not d.startswith(".") or d == ".ci")]
        names.update(dirs)
        names.update(files)
    return names


def path_exists(name: str, names: set[str]) -> bool:
    if name in ROOT_FILES:
        return (ROOT / name).exists()
    if "/" not in name:   # a bare file name: a run's output, or some file of the repository
        return name in OUTPUT_FILES or (ROOT / name).exists() or name in names
    path = ROOT / name.rstrip("/")
    if path.is_dir():   # a folder left behind by a move holds only __pycache__: that is not the folder
        return any(entry.name != "__pycache__" for entry in path.iterdir())
    return path.exists()


# --- Markdown links --------------------------------------------------------------------------------

_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation but - and _ dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = _FENCE.sub("", path.read_text())
    found = {slug(h) for h in re.findall(r"^#{1,6}\s+(.*?)\s*#*$", text, re.M)}
    return found | set(re.findall(r"<a\s+(?:id|name)=\"([^\"]+)\"", text))


def local_links(path: Path) -> list[tuple[str, Path, str]]:
    """(link as written, target file, #anchor or '') of every link to a local file."""
    links = []
    for target in _LINK.findall(_FENCE.sub("", path.read_text())):
        if re.match(r"[a-z]+:", target):   # http:, https:, mailto:
            continue
        file, _, anchor = target.partition("#")
        links.append((target, (path.parent / file).resolve() if file else path, anchor))
    return links


# --- the rule, on examples -----------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "harness/run/", "harness/formats/results.py", "tests/test_tle.py", "topologies/tiny.yaml", "tiny.yaml",
    ".ci/run", "ns3_modules/space-xnet/model/forwarding-table.cc", "docs/scenario-reference.md",
    "CMakeLists.txt", "harness/traces.py", "bench/README.md", "Dockerfile",
])
def test_these_look_like_paths(text):
    assert looks_like_path(text)


@pytest.mark.parametrize("text", [
    "python -m pytest", "results/<name>/", "results/tiny/", "~/.cache/space-xnet/build-<hash>/", "/results",
    "OUT/points/*/", "OUT/paper.csv", "https://example.org/a.md", "sweeps/paper_*.yaml", "harness/_cxx",
    "MoeTrafficPlan::SetPrefill", "tcp://SCHEDULER:8786", "1/s", "model.preset", "space-xnet",
    "time_s,prompt_tokens[,output_tokens]", "SWEEP.yaml", "dist/space_xnet_harness-0.1.0-py3-none-any.whl",
    "--scheduler ADDRESS", "../topologies/polar_1056.yaml", "harness.pipeline.run_scenario", ".npy",
    "plots/placement_map.png",
])
def test_these_do_not(text):
    assert not looks_like_path(text)


def test_a_stale_path_is_caught():
    text = "See `harness/no_such_module.py` and\n```sh\npython bench/no_such_bench.py\n```\n"
    names = tracked_names()
    assert [p for p in named_paths(text) if not path_exists(p, names)] == [
        "bench/no_such_bench.py", "harness/no_such_module.py"]


@pytest.mark.parametrize("heading, anchor", [
    ("The paper's unstated choices", "the-papers-unstated-choices"),
    ("TTFT of a 512-token prompt on polar_1056", "ttft-of-a-512-token-prompt-on-polar_1056"),
    ("Saturation: the load sweep", "saturation-the-load-sweep"),
])
def test_heading_anchors_follow_github(heading, anchor):
    assert slug(heading) == anchor


def test_a_broken_link_is_caught(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# A page\n\n[here](#a-page) [there](#elsewhere) [gone](missing.md)\n")
    links = [(written, target.exists(), not anchor or anchor in anchors(target))
             for written, target, anchor in local_links(page)]
    assert links == [("#a-page", True, True), ("#elsewhere", True, False), ("missing.md", False, True)]


# --- the docs ------------------------------------------------------------------------------------

def test_readme_is_short():
    lines = len(README.read_text().splitlines())
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines; move detail to a docs/ page"


def test_every_docs_page_is_linked_from_the_readme():
    linked = {target for _, target, _ in local_links(README)}
    pages = [p for p in doc_files() if p != README]
    missing = [rel(p) for p in pages if p.resolve() not in linked]
    assert missing == [], f"not linked from README.md: {missing}"


def test_every_path_named_in_the_docs_exists():
    names = tracked_names()
    missing = [f"{rel(doc)}: {name}" for doc in doc_files()
               for name in dict.fromkeys(named_paths(doc.read_text())) if not path_exists(name, names)]
    assert missing == [], "paths named in the docs that are not in the repository:\n" + "\n".join(missing)


def test_every_local_link_resolves():
    broken = []
    for doc in doc_files():
        for written, target, anchor in local_links(doc):
            if not target.exists():
                broken.append(f"{rel(doc)}: ({written}): no such file")
            elif anchor and target.suffix == ".md" and anchor not in anchors(target):
                broken.append(f"{rel(doc)}: ({written}): no heading or anchor #{anchor} in {rel(target)}")
    assert broken == [], "broken links:\n" + "\n".join(broken)


def test_readme_test_command_is_what_ci_runs():
    section = re.search(r"^## Test[ \t]*\n(.*?)(?=^## |\Z)", README.read_text(), re.M | re.S)
    assert section, "README.md has no '## Test' section"
    block = _FENCE.search(section.group(1))
    assert block, "README.md's '## Test' section has no fenced block"
    readme_commands = [shlex.split(line) for line in block.group(1).splitlines() if line.strip()]
    ci = (ROOT / ".ci" / "run").read_text()
    ci_commands = [shlex.split(line) for line in ci.splitlines() if line.strip().startswith("python -m pytest")]
    assert readme_commands == [["python", "-m", "pytest"]], readme_commands
    assert ci_commands == readme_commands, ci_commands
