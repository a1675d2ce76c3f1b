"""Who may do what is decided once: by a service (a refusal with a message a person can act on)
or by a queryset rule, and pages only ask flags computed by that same rule (issue #12, "Rules in
services and querysets, flags in templates")."""

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def test_forms_import_no_services():
    offenders = []
    for path in sorted(ROOT.glob("*/forms.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and "services" in (node.module or ""):
                offenders.append(f"{path.relative_to(ROOT)}: from {node.module}")
            elif isinstance(node, ast.Import):
                offenders += [
                    f"{path.relative_to(ROOT)}: import {alias.name}"
                    for alias in node.names
                    if "services" in alias.name
                ]

    assert offenders == []
