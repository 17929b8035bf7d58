"""The CEL bindings load without their interactive shell: the reconciler and every `handoff validate`
run would otherwise carry prompt_toolkit and rich (0.17 s, 24 MiB) for nothing."""

import subprocess
import sys

from handoff.policy.celmod import cel, stdlib


def test_policy_engines_do_not_load_the_cel_repl() -> None:
    code = ("import sys, handoff.policy.cel_engine, handoff.policy.vap; "
            "print(sorted(m for m in ('prompt_toolkit', 'rich') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"


def test_cel_still_evaluates_with_the_stdlib() -> None:
    context = cel.Context()
    stdlib.add_stdlib_to_context(context)
    assert cel.evaluate("'a,b'.split(',').size() == 2", context) is True
