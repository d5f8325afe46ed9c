"""The command line stays light: `import autodl` and `autodl --help` load no framework."""

import subprocess
import sys

HEAVY = ("tensorflow", "torch", "numpy", "sklearn", "matplotlib", "PIL", "google.protobuf")


def _modules_loaded(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_import_autodl_is_light():
    loaded = _modules_loaded("import autodl")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_help_is_light_and_lists_every_verb():
    code = (
        "import contextlib, io\n"
        "from autodl.cli import main, VERBS\n"
        "buf = io.StringIO()\n"
        "with contextlib.redirect_stdout(buf):\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "assert all(v in buf.getvalue() for v in VERBS), buf.getvalue()\n"
    )
    loaded = _modules_loaded(code)
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_version(cli):
    proc = cli("--version", check=True)
    assert proc.stdout.startswith("autodl ")
