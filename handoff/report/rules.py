"""What each rule id means, for formats that describe their rules (SARIF): a short and a full
description and a link to the rule's section in docs/policies.md.

The schema, YAML and render rules are fixed here; policies describe themselves (the pack's
``description`` and ``doc.rationale``, see ``handoff.policy.pack.rule_docs``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# The project's repository URL form, as in the README's pre-commit example.
REPOSITORY_URL = "https://github.com/OWNER/handoff"
RULES_DOC_URL = f"{REPOSITORY_URL}/blob/main/docs/policies.md"


@dataclass(frozen=True)
class RuleDoc:
    """``help_uri`` is empty for rules the project does not document (your own policies)."""

    id: str
    short: str
    full: str = ""
    help_uri: str = ""


def anchor(rule_id: str) -> str:
    """The anchor GitHub gives the heading ``### <rule_id>``: lower case, punctuation but ``-``/``_``
    dropped, spaces as ``-``."""
    return re.sub(r"[^a-z0-9 _-]", "", rule_id.lower()).replace(" ", "-")


def help_uri(rule_id: str) -> str:
    return f"{RULES_DOC_URL}#{anchor(rule_id)}"


def _fixed(rule_id: str, short: str, full: str = "") -> RuleDoc:
    return RuleDoc(rule_id, short, full, help_uri(rule_id))


FIXED_RULES: dict[str, RuleDoc] = {doc.id: doc for doc in (
    _fixed("schema", "The object does not match its Kubernetes or CRD schema.",
           "A value has the wrong type or format, or breaks a constraint of the schema for the object's "
           "apiVersion and kind (the Kubernetes version of the config, else the newest shipped)."),
    _fixed("schema/unknown-field", "The object has a field its schema does not define (strict mode).",
           "Strict validation refuses fields the schema does not know, which usually are typos "
           "(`replicsa`) that the API server would drop silently."),
    _fixed("schema/required", "A field the schema requires is missing."),
    _fixed("schema/removed-api", "The object's apiVersion was removed from Kubernetes.",
           "The API server of the target version no longer serves this apiVersion and kind; the "
           "message names the version that removed it and the replacement."),
    _fixed("schema/missing", "No schema is known for the object's apiVersion and kind.",
           "Add the CRD to the repo, pass --crd-catalog, or --ignore-missing-schemas to skip such objects."),
    _fixed("schema/unusable", "The object's schema, from its CRD or a catalog, cannot be used.",
           "It refers outside itself ($ref, $schema or an $id base naming a file or URL), which is never "
           "retrieved, or it is not a valid JSON schema."),
    _fixed("schema/missing-kind", "The document has no apiVersion or kind."),
    _fixed("yaml", "The file is not valid YAML."),
    _fixed("yaml/limit", "The file passes a size, depth or alias limit.",
           "Limits protect the run from hostile inputs (alias bombs, huge or deeply nested documents)."),
    _fixed("yaml/duplicate-key", "A mapping has the same key twice.",
           "Kubernetes tools disagree on which value wins; handoff refuses the ambiguity."),
    _fixed("yaml/not-an-object", "A YAML document is not a mapping, so it is no Kubernetes object."),
    _fixed("render/non-deterministic", "Two renders of the same revision differ.",
           "A chart or kustomization that renders differently each time (random passwords, timestamps) "
           "makes every sync look like a change."),
    _fixed("waiver-expired", "A waiver in .handoff.yaml is past its expiry date.",
           "The waived findings are reported again; renew the waiver with a reason or fix the objects."),
)}


def rule_doc(rule_id: str, known: Mapping[str, RuleDoc] | None = None) -> RuleDoc:
    """``known`` (policies) first, then the fixed rules; a rule nobody describes is named by its id."""
    found = (known or {}).get(rule_id) or FIXED_RULES.get(rule_id)
    return found or RuleDoc(rule_id, rule_id)
