"""Access rules live in node/access.py alone: no other module of the node decides access itself.

Walks the node's source (ast) for the two ways a rule gets written twice: a comparison of an
actor's or user's role (`actor.role is Role.MASH_MANAGER`, `user.role in (...)`), and a list of
roles (`(Role.MASH_MANAGER, Role.AGENCY_PROFESSIONAL)`). `node/web/permissions.py` is the one
exception: it is the mechanism that admits a user to a page by the role group (from
node.access) that the page's marker names.
"""

from __future__ import annotations

import ast
from pathlib import Path

NODE = Path(__file__).resolve().parents[1] / "node"
ALLOWED = {NODE / "access.py", NODE / "web" / "permissions.py"}
NOT_ACCESS = {"migrations", "synthetic"}  # schema history; household roles of synthetic people


def _is_role_member(node: ast.AST) -> bool:
    """`Role.SOMETHING`."""
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "Role"
    )


def _is_someones_role(node: ast.AST) -> bool:
    """`actor.role`, `user.role`, `self.user.role`: a role held by an object, not a column."""
    if not (isinstance(node, ast.Attribute) and node.attr == "role"):
        return False
    base = node.value
    while isinstance(base, ast.Attribute):
        base = base.value
    return isinstance(base, ast.Name) and base.id[:1].islower()


def _is_column(node: ast.AST) -> bool:
    """`User.role`: a mapped column in a query, which selects data and decides nothing."""
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id[:1].isupper()
        and node.value.id != "Role"
    )


def access_decisions(source: str) -> list[tuple[int, str]]:
    """Where `source` compares someone's role or lists roles: (line, what)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(isinstance(op, ast.Constant) and op.value is None for op in operands):
                continue  # whether there is a role at all (the system actor has none)
            if any(_is_someones_role(op) for op in operands):
                found.append((node.lineno, "compares someone's role"))
            elif any(_is_role_member(op) for op in operands) and not any(
                _is_column(op) for op in operands
            ):
                found.append((node.lineno, "compares with a role"))
        elif (
            isinstance(node, ast.Tuple | ast.List | ast.Set)
            and len(node.elts) >= 2
            and all(_is_role_member(e) for e in node.elts)
        ):
            found.append((node.lineno, "lists roles"))
    return found


def test_the_detector_finds_each_way_of_deciding_access() -> None:
    sample = (
        "if actor.role is Role.MASH_MANAGER: pass\n"
        "ok = user.role in HUB\n"
        "allowed = (Role.MASH_MANAGER, Role.AGENCY_PROFESSIONAL)\n"
        "if role is Role.NODE_ADMIN: pass\n"
        "label = actor.role.value if actor.role is not None else 'system'\n"  # no decision
        "query = select(User).where(User.role == Role.NODE_ADMIN)\n"  # data, not a decision
        "names = {Role.AUDITOR: 'Auditor'}\n"  # presentation, not a decision
    )
    assert [line for line, _ in access_decisions(sample)] == [1, 2, 3, 4]


def test_no_module_but_access_decides_access() -> None:
    problems = []
    for path in sorted(NODE.rglob("*.py")):
        if path in ALLOWED or NOT_ACCESS & set(path.parts):
            continue
        for line, what in access_decisions(path.read_text(encoding="utf-8")):
            problems.append(f"{path.relative_to(NODE.parent)}:{line}: {what}")
    assert problems == [], "access decided outside node/access.py:\n" + "\n".join(problems)
