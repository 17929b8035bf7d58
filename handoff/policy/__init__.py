"""Policies after schemas: the built-in CEL pack and policy files, ValidatingAdmissionPolicies with
their bindings, conftest Rego, and waivers. The only layer that imports policy engines
(``cel``, ``regopy``); their errors become ``handoff`` errors here.

``PolicyCheck(options)`` is the entry point: build it once, call it with rendered objects, get a
``ValidationReport``; it is what ``handoff.validate``'s ``extra_checks`` expects.
"""

from handoff.policy.model import PolicyContext, PolicyEngine, PolicyObject
from handoff.policy.runner import PolicyCheck, PolicyOptions, options_from_config

__all__ = [
    "PolicyCheck",
    "PolicyContext",
    "PolicyEngine",
    "PolicyObject",
    "PolicyOptions",
    "options_from_config",
]
