"""Where the repository and the tools built by ``make tools`` live."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS_DIR = REPO_ROOT / ".tools"
TOOLS_BIN = TOOLS_DIR / "bin"

# The read-only real-world corpus sits beside the checkout (../shared/corpus), in CI as in a session.
CORPUS = REPO_ROOT.parent / "shared" / "corpus"
