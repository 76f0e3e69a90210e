"""The Dockerfile installs the harness the way README.md's "Install" section says.

Parses the README's "## Install" fenced ``sh`` block and the Dockerfile's RUN instructions, and
compares the venv creation and the pip install commands after normalising what may differ
between a person's shell and an image build: whitespace and quoting, the venv's path, how pip is
invoked, and flags that change no result (``--no-cache-dir``, ``-q``...). Also checks the image's
default command and base image. Pure text: no container engine is needed.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

DEFAULT_BASE_IMAGE = "python:3.11-slim-bookworm"
DEFAULT_SCENARIO = "topologies/walker_1584.yaml"

#: pip flags that change how pip talks, caches or warns, never what gets installed.
NEUTRAL_PIP_FLAGS = {
    "--no-cache-dir", "-q", "-qq", "-qqq", "--quiet", "--no-input", "--disable-pip-version-check",
    "--root-user-action=ignore", "--progress-bar=off",
}
#: the same, as two tokens (flag, value).
NEUTRAL_PIP_FLAG_VALUES = {("--root-user-action", "ignore"), ("--progress-bar", "off")}
SEPARATORS = {"&&", "||", ";", "|", "&"}
VENV = "<venv>"


# --- parsing -----------------------------------------------------------------------------------

def readme_install_block(text: str) -> str:
    """The first fenced ``sh`` block of the "## Install" section."""
    section = re.search(r"^## Install[ \t]*\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert section, "README.md has no '## Install' section"
    block = re.search(r"^```(?:sh|bash|shell|console)[ \t]*\n(.*?)^```", section.group(1), re.M | re.S)
    assert block, "README.md's '## Install' section has no fenced sh block"
    return block.group(1)


def shell_commands(script: str) -> list[list[str]]:
    """Simple commands (token lists) of a shell script: lines joined at a trailing backslash, then
    split at newlines, &&, ||, ; and |, respecting quotes; comments dropped."""
    script = re.sub(r"\\\n", " ", script)
    commands: list[list[str]] = []
    for line in script.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        current: list[str] = []
        for token in lexer:
            if token in SEPARATORS:
                if current:
                    commands.append(current)
                current = []
            else:
                current.append(token)
        if current:
            commands.append(current)
    return commands


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order: continuation lines joined, comment lines dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):  # a comment inside a continued instruction
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = (pending + stripped).strip()
        pending = ""
        if full:
            keyword, _, rest = full.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def run_scripts(text: str) -> list[str]:
    """The shell commands of the RUN instructions (shell form), without RUN's --mount=... flags."""
    scripts = []
    for keyword, rest in dockerfile_instructions(text):
        if keyword != "RUN":
            continue
        while re.match(r"--[a-z-]+=\S+\s", rest + " "):
            rest = rest.split(None, 1)[1] if " " in rest else ""
        scripts.append(rest)
    return scripts


def dockerfile_commands(text: str) -> list[list[str]]:
    return [command for script in run_scripts(text) for command in shell_commands(script)]


# --- normalising -------------------------------------------------------------------------------

def _strip_env_assignments(command: list[str]) -> list[str]:
    i = 0
    while i < len(command) and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", command[i]):
        i += 1
    return command[i:]


def pip_install(command: list[str]) -> list[str] | None:
    """``["pip", "install", args...]`` with neutral flags dropped, if ``command`` is a pip install
    (``pip``, ``pip3``, ``/path/pip``, ``python -m pip``, ``/path/python3.11 -m pip``)."""
    command = _strip_env_assignments(command)
    if not command:
        return None
    program = posixpath.basename(command[0])
    if re.fullmatch(r"pip[0-9.]*", program):
        rest = command[1:]
    elif re.fullmatch(r"python[0-9.]*", program) and command[1:3] == ["-m", "pip"]:
        rest = command[3:]
    else:
        return None
    if not rest or rest[0] != "install":
        return None
    args: list[str] = []
    i = 1
    while i < len(rest):
        if rest[i] in NEUTRAL_PIP_FLAGS:
            i += 1
        elif tuple(rest[i:i + 2]) in NEUTRAL_PIP_FLAG_VALUES:
            i += 2
        else:
            args.append(rest[i])
            i += 1
    return ["pip", "install", *args]


def venv_creation(command: list[str]) -> tuple[list[str], str] | None:
    """(``[python, "-m", "venv", flags..., "<venv>"]``, the venv's path) if ``command`` makes a
    venv; the interpreter keeps its name (``python3.11``), the path is normalised away."""
    command = _strip_env_assignments(command)
    if len(command) < 4 or command[1:3] != ["-m", "venv"]:
        return None
    *flags, path = command[3:]
    return [posixpath.basename(command[0]), "-m", "venv", *flags, VENV], path


def install_steps(commands: list[list[str]]) -> dict:
    """The venv and pip install commands; a pip install repeated (the Dockerfile's second pass of
    the same command, after its dependency layer) counts once."""
    pips = list(dict.fromkeys(tuple(p) for p in map(pip_install, commands) if p is not None))
    pips = [list(p) for p in pips]
    venvs = [v for v in map(venv_creation, commands) if v is not None]
    return {"pip": pips, "venv": [v[0] for v in venvs], "venv_paths": [v[1] for v in venvs]}


def install_differences(readme_text: str, dockerfile_text: str) -> list[str]:
    """How the Dockerfile's install departs from README.md's (empty: none)."""
    readme = install_steps(shell_commands(readme_install_block(readme_text)))
    docker = install_steps(dockerfile_commands(dockerfile_text))
    differences = []
    for step in ("venv", "pip"):
        if not readme[step]:
            differences.append(f"README.md's Install block has no {step} command")
        if readme[step] != docker[step]:
            differences.append(f"{step}: README.md {readme[step]} != Dockerfile {docker[step]}")
    return differences


# --- fixtures ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def readme_text() -> str:
    return README.read_text()


@pytest.fixture(scope="module")
def dockerfile_text() -> str:
    return DOCKERFILE.read_text()


# --- the recipe --------------------------------------------------------------------------------

def test_readme_install_block_is_parsed(readme_text):
    steps = install_steps(shell_commands(readme_install_block(readme_text)))
    assert len(steps["venv"]) == 1, steps
    assert len(steps["pip"]) >= 1, steps
    assert all(any(arg.startswith(".") for arg in p[2:]) for p in steps["pip"]), steps


def test_dockerfile_installs_as_readme_says(readme_text, dockerfile_text):
    assert install_differences(readme_text, dockerfile_text) == []


def test_venv_is_activated_in_the_image(dockerfile_text):
    """README activates the venv; the image puts the same venv's bin/ first on PATH."""
    paths = install_steps(dockerfile_commands(dockerfile_text))["venv_paths"]
    assert len(paths) == 1, paths
    env = " ".join(rest for keyword, rest in dockerfile_instructions(dockerfile_text) if keyword == "ENV")
    assert re.search(rf"(^|\s)PATH=\"?{re.escape(paths[0].rstrip('/'))}/bin:", env), env


def test_default_command_runs_walker_1584_into_results(dockerfile_text):
    cmds = [rest for keyword, rest in dockerfile_instructions(dockerfile_text) if keyword == "CMD"]
    assert len(cmds) == 1, cmds
    command = json.loads(cmds[0])  # exec form
    assert command[:4] == ["python", "-m", "harness", "run"], command
    assert DEFAULT_SCENARIO in command, command
    assert command[command.index("--out") + 1] == "/results", command
    assert (ROOT / DEFAULT_SCENARIO).is_file()
    entrypoints = [rest for keyword, rest in dockerfile_instructions(dockerfile_text) if keyword == "ENTRYPOINT"]
    assert entrypoints == [], "an ENTRYPOINT would change what the CMD runs"


def test_base_image_is_a_build_argument_defaulting_to_python_slim(dockerfile_text):
    instructions = dockerfile_instructions(dockerfile_text)
    first_from = next(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    args = [rest for keyword, rest in instructions[:first_from] if keyword == "ARG"]
    assert f"BASE_IMAGE={DEFAULT_BASE_IMAGE}" in args, args
    assert instructions[first_from][1].split()[0] in ("${BASE_IMAGE}", "$BASE_IMAGE")


def test_module_is_compiled_at_build_time_into_the_image(dockerfile_text):
    """``doctor`` builds and loads the module, run from outside the checkout (the WORKDIR), so that
    it sees the installed package, after the checkout is copied and installed."""
    instructions = dockerfile_instructions(dockerfile_text)
    env_at = [i for i, (k, rest) in enumerate(instructions) if k == "ENV" and "SPACEXNET_CACHE_DIR=" in rest]
    load_at = [i for i, (k, rest) in enumerate(instructions)
               if k == "RUN" and re.search(r"\bcd /\S* && (space-xnet|python -m harness) doctor\b", rest)]
    copy_at = [i for i, (k, rest) in enumerate(instructions) if k == "COPY" and rest.split()[0] == "."]
    assert env_at and load_at and copy_at, (env_at, load_at, copy_at)
    assert env_at[0] < load_at[0] and copy_at[0] < load_at[0]
    installs_after_copy = [i for i, (k, rest) in enumerate(instructions)
                           if k == "RUN" and copy_at[0] < i < load_at[0] and "pip install" in rest]
    assert installs_after_copy, "the copied checkout is installed before the module is compiled"


def test_readme_and_image_install_the_package_not_an_editable_link(readme_text, dockerfile_text):
    """A user's install (and the image's) is ``pip install .``: the package, with its C++ sources,
    in site-packages. An editable install is for working on the harness (README, .ci/run)."""
    for commands in (shell_commands(readme_install_block(readme_text)), dockerfile_commands(dockerfile_text)):
        pips = install_steps(commands)["pip"]
        assert pips and not any("-e" in p or "--editable" in p for p in pips), pips


def test_no_local_certificates_or_indexes_are_baked_in(dockerfile_text):
    """The host's CA (for a TLS-intercepting proxy) reaches a local build as a secret only."""
    for keyword, rest in dockerfile_instructions(dockerfile_text):
        if keyword in ("ENV", "ARG"):
            assert not re.search(r"PIP_CERT|SSL_CERT|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE|PIP_INDEX_URL|"
                                 r"PIP_EXTRA_INDEX_URL|PIP_FIND_LINKS", rest), (keyword, rest)
        if keyword in ("COPY", "ADD"):
            assert not re.search(r"\.(crt|pem)\b|ca-certificates|pip\.conf", rest), (keyword, rest)


def test_dockerignore_keeps_local_state_out_of_the_context():
    patterns = {line.strip().rstrip("/") for line in DOCKERIGNORE.read_text().splitlines()
                if line.strip() and not line.startswith("#")}
    for needed in (".git", ".venv", "results", "build"):
        assert needed in patterns or f"**/{needed}" in patterns, needed


# --- the check itself catches drift --------------------------------------------------------------

README_SAMPLE = """# x

## Install

Text.

```sh
python3.11 -m venv .venv && . .venv/bin/activate
pip install -e ".[test]"
```

## Run
"""

DOCKERFILE_SAMPLE = """ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}
# a comment
RUN python3.11 -m venv /opt/venv
ENV PATH=/opt/venv/bin:/usr/bin:/bin
RUN --mount=type=secret,id=ca \\
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \\
 && /opt/venv/bin/python -m pip install --no-cache-dir -q  -e '.[test]'
RUN python -c "from harness.cxx.runtime import load; load()"
CMD ["python", "-m", "harness", "run", "topologies/walker_1584.yaml", "--out", "/results"]
"""


def test_normalisation_accepts_equivalent_spellings():
    assert install_differences(README_SAMPLE, DOCKERFILE_SAMPLE) == []


@pytest.mark.parametrize("old, new", [
    ('pip install -e ".[test]"', 'pip install -e "."'),
    ('pip install -e ".[test]"', 'pip install -e ".[test,plots]"'),
    ('pip install -e ".[test]"', 'pip install ".[test]"'),
    ('pip install -e ".[test]"', 'pip install -e ".[test]"\npip install extra-package'),
    ("python3.11 -m venv .venv", "python3.12 -m venv .venv"),
    ("python3.11 -m venv .venv", "python3.11 -m venv --system-site-packages .venv"),
])
def test_a_readme_change_alone_is_reported(old, new):
    changed = README_SAMPLE.replace(old, new)
    assert changed != README_SAMPLE
    assert install_differences(changed, DOCKERFILE_SAMPLE) != []


def test_a_change_to_the_real_readme_pip_line_is_reported(readme_text, dockerfile_text):
    block = readme_install_block(readme_text)
    pip_lines = [line for line in block.splitlines() if re.search(r"\bpip\b.*\binstall\b", line)]
    assert pip_lines
    changed = readme_text.replace(pip_lines[0], pip_lines[0] + " numpy")
    assert install_differences(changed, dockerfile_text) != []


# --- no package-mirror host in the repository ---------------------------------------------------

CONTAINER_CHECK = ROOT / "ci" / "container_check.sh"
MIRROR_HOST = re.compile(r"\b(deb|ftp[0-9]*|archive|security|httpredir|cdn)(\.[a-z]{2})?\.(debian|ubuntu)\.(org|net|com)\b")


def test_no_debian_mirror_host_is_written_in_the_repository():
    places = ["README.md", "Dockerfile", ".dockerignore", "pyproject.toml", ".ci", "ci", "harness", "ns3_modules",
              "tests", "bench", "docs", "topologies", "sweeps"]
    files = [f for place in places if (ROOT / place).exists()
             for f in ([ROOT / place] if (ROOT / place).is_file() else (ROOT / place).rglob("*"))
             if f.is_file() and "__pycache__" not in f.parts and f.suffix not in {".png", ".npz", ".so", ".pyc"}]
    assert CONTAINER_CHECK in files and README in files and DOCKERFILE in files
    found = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in files
             for m in MIRROR_HOST.finditer(p.read_text(errors="replace"))]
    assert found == []


def print_mirror(apt_etc: Path, mirror: str | None = None):
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "DEBIAN_MIRROR"}
    env["APT_ETC"] = str(apt_etc)
    if mirror is not None:
        env["DEBIAN_MIRROR"] = mirror
    return subprocess.run(["bash", str(CONTAINER_CHECK), "--print-mirror"], capture_output=True, text=True,
                          env=env, check=False)


@pytest.mark.parametrize("files, expected", [
    ({"sources.list.d/debian.sources": "Types: deb\nURIs: http://mirror.example.net/debian\nSuites: bookworm "
      "bookworm-updates\nComponents: main\n\nTypes: deb\nURIs: http://security.example.net/debian-security\n"
      "Suites: bookworm-security\n"}, "http://mirror.example.net/debian"),
    ({"sources.list": "# a comment\ndeb-src http://src.example.org/debian bookworm main\n"
      "deb [arch=amd64 signed-by=/k.gpg] http://one.example.org/debian bookworm main\n"},
     "http://one.example.org/debian"),
    ({"sources.list.d/other.list": "deb http://old.example.org/debian bullseye main\n"
      "deb http://two.example.org/debian bookworm main contrib\n"}, "http://two.example.org/debian"),
])
def test_container_check_takes_the_mirror_from_apt(tmp_path, files, expected):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    done = print_mirror(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == expected
    override = print_mirror(tmp_path, "http://chosen.example.com/debian")
    assert override.stdout.strip() == "http://chosen.example.com/debian"


def test_container_check_without_a_mirror_stops_with_one_clear_line(tmp_path):
    (tmp_path / "sources.list").write_text("deb http://old.example.org/debian bullseye main\n")
    done = print_mirror(tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert "no Debian mirror" in line and "DEBIAN_MIRROR" in line
    assert print_mirror(tmp_path, "http://chosen.example.com/debian").returncode == 0
