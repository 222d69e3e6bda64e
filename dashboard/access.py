"""Who may open which dataset, with which role: the workspace's access file ``access.toml``.

The file is a list of grants; each gives a role on some datasets to users (``ann@example.com``),
e-mail domains (``@example.com``) or groups of the identity provider (``group:marketing``)::

    [[grant]]
    to = ["ann@example.com", "@example.com", "group:marketing"]
    datasets = ["shop", "outlet"]    # or "*" for every dataset, present and future
    role = "analyst"                 # viewer < analyst < admin

A user's role on a dataset is the highest role of the grants that name them and the dataset.
Without the file the workspace is in single-user mode and everything is allowed; the local user
(``user=None``: the CLI, or a server without sign-in, which only binds to localhost) is always
allowed everything. See docs/team.md.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dashboard.errors import UserError

ACCESS_FILE = "access.toml"
VIEWER, ANALYST, ADMIN = "viewer", "analyst", "admin"
# Each role may do everything the roles before it may.
ROLES = (VIEWER, ANALYST, ADMIN)
EVERY_DATASET = "*"
GROUP_PREFIX = "group:"
WHAT_ROLE_ALLOWS = {
    VIEWER: "read and download",
    ANALYST: "load files and save schemes and segments",
    ADMIN: "delete datasets and erase customers",
}


class AccessDenied(UserError):
    """The signed-in user may not do this on this dataset."""


class AccessFileError(UserError):
    """The access file cannot be read or breaks its format."""


class AllDatasets:
    """Every dataset, present and future: what ``allowed_datasets`` returns for ``*``."""

    def __contains__(self, dataset: object) -> bool:
        return True

    def __repr__(self) -> str:
        return "ALL"


ALL = AllDatasets()


@dataclass(frozen=True)
class Grant:
    """One ``[[grant]]``: ``role`` on ``datasets`` (``("*",)`` for all) to the ``to`` entries."""

    to: tuple[str, ...]
    datasets: tuple[str, ...]
    role: str

    def names(self, user_email: str, groups: Iterable[str]) -> bool:
        """Return whether the grant is given to this user (by e-mail, domain or group)."""
        email = user_email.strip().lower()
        domain = "@" + email.rpartition("@")[2] if "@" in email else None
        wanted = {GROUP_PREFIX + group.strip().lower() for group in groups}
        return any(entry in (email, domain) or entry in wanted for entry in self.to)

    def covers(self, dataset: str) -> bool:
        """Return whether the grant's datasets include ``dataset``."""
        return EVERY_DATASET in self.datasets or dataset in self.datasets


@dataclass(frozen=True)
class AccessRules:
    """The grants of a workspace's access file, in file order."""

    grants: tuple[Grant, ...]


def load_access(workspace: Path) -> AccessRules | None:
    """Read ``<workspace>/access.toml``; None when there is no file (single-user mode).

    Raises ``AccessFileError`` with one sentence naming the line (TOML syntax) or the grant and
    key (format) that is wrong.
    """
    path = Path(workspace) / ACCESS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise AccessFileError(f"The access file {path} cannot be read ({exc}).") from exc
    return parse_access(text, str(path))


def parse_access(text: str, source: str = ACCESS_FILE) -> AccessRules:
    """Parse the text of an access file into ``AccessRules`` (format in the module docstring)."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AccessFileError(f"The access file {source} is not valid TOML: {exc}.") from exc
    unknown = sorted(set(document) - {"grant"})
    if unknown:
        raise AccessFileError(
            f"The access file {source} has an unknown key '{unknown[0]}'; "
            "it holds only [[grant]] tables."
        )
    entries = document.get("grant", [])
    if not isinstance(entries, list):
        raise AccessFileError(f"In the access file {source}, 'grant' must be written [[grant]].")
    return AccessRules(
        tuple(parse_grant(entry, f"{source}, grant {n}") for n, entry in enumerate(entries, 1))
    )


def parse_grant(entry: object, where: str) -> Grant:
    """Check one ``[[grant]]`` table and return it as a ``Grant``; ``where`` names it in errors."""
    if not isinstance(entry, dict):
        raise AccessFileError(f"In {where}: a grant must be a table with to, datasets and role.")
    unknown = sorted(set(entry) - {"to", "datasets", "role"})
    if unknown:
        raise AccessFileError(
            f"In {where}: unknown key '{unknown[0]}'; a grant has only to, datasets and role."
        )
    role = entry.get("role")
    if role not in ROLES:
        raise AccessFileError(
            f"In {where}: role {role!r} is not one of {', '.join(ROLES)}."
            if role is not None
            else f"In {where}: the key 'role' is missing (one of {', '.join(ROLES)})."
        )
    to = read_string_list(entry, "to", where)
    for name in to:
        if not (name.startswith(GROUP_PREFIX) and len(name) > len(GROUP_PREFIX)) and (
            "@" not in name or name.endswith("@")
        ):
            raise AccessFileError(
                f"In {where}: 'to' entry {name!r} is not an e-mail, an @domain or group:NAME."
            )
    datasets = read_string_list(entry, "datasets", where)
    return Grant(tuple(name.strip().lower() for name in to), tuple(datasets), role)


def read_string_list(entry: dict, key: str, where: str) -> list[str]:
    """Return ``entry[key]`` as a non-empty list of strings (a single string is a list of one)."""
    value = entry.get(key)
    if isinstance(value, str):
        value = [value]
    if not value or not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise AccessFileError(f"In {where}: '{key}' must be a string or a list of strings.")
    return value


def allowed_datasets(
    rules: AccessRules | None, user_email: str | None, groups: Iterable[str] = ()
) -> frozenset[str] | AllDatasets:
    """Return the datasets the user may open: ``ALL`` or a set of names (empty: none).

    ``rules`` None (no access file) or ``user_email`` None (the local user) allow ``ALL``.
    """
    if rules is None or user_email is None:
        return ALL
    groups = tuple(groups)
    names: set[str] = set()
    for grant in rules.grants:
        if grant.names(user_email, groups):
            if EVERY_DATASET in grant.datasets:
                return ALL
            names.update(grant.datasets)
    return frozenset(names)


def role_for(
    rules: AccessRules | None, user_email: str | None, dataset: str, groups: Iterable[str] = ()
) -> str | None:
    """Return the user's highest role on ``dataset``, or None when they may not open it."""
    if rules is None or user_email is None:
        return ADMIN
    groups = tuple(groups)
    granted = [
        ROLES.index(grant.role)
        for grant in rules.grants
        if grant.covers(dataset) and grant.names(user_email, groups)
    ]
    return ROLES[max(granted)] if granted else None


def role_allows(role: str | None, needed_role: str) -> bool:
    """Return whether ``role`` includes ``needed_role`` (viewer < analyst < admin)."""
    return role is not None and ROLES.index(role) >= ROLES.index(needed_role)


def check_access(
    rules: AccessRules | None,
    user_email: str | None,
    dataset: str,
    needed_role: str = VIEWER,
    groups: Iterable[str] = (),
) -> None:
    """Raise ``AccessDenied`` unless the user has at least ``needed_role`` on ``dataset``."""
    role = role_for(rules, user_email, dataset, groups)
    if role is None:
        raise AccessDenied(
            f"{user_email} may not open the dataset '{dataset}'; "
            f"ask an admin to add you to the workspace's {ACCESS_FILE}."
        )
    if not role_allows(role, needed_role):
        raise AccessDenied(
            f"{user_email} is a {role} of the dataset '{dataset}', and only an {needed_role} "
            f"or above may {WHAT_ROLE_ALLOWS[needed_role]}; ask an admin for that role."
        )
