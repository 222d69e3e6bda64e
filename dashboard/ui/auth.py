"""Who is using the app, what the access file lets them do, and the rule that a server without
sign-in listens on localhost only (docs/team.md).

Sign-in is Streamlit's own OpenID Connect support: configured by an ``[auth]`` section in
``.streamlit/secrets.toml``, the signed-in user is ``st.user``. Without it the user is the local
single user (None), who may do everything.
"""

from __future__ import annotations

import streamlit as st

from dashboard import access
from dashboard.workspace import store

LOCAL_ADDRESSES = frozenset({"localhost", "127.0.0.1", "::1"})
GROUPS_CLAIM = "groups"
NO_DATASET_ALLOWED = (
    "You may not open any dataset of this workspace; ask an admin to add you to its "
    f"{access.ACCESS_FILE}."
)
BIND_REFUSED = (
    "This server listens on {where} without sign-in, so anyone who can reach it would see every "
    "dataset: configure an [auth] section in .streamlit/secrets.toml (docs/team.md), or start "
    "it with `make run`, which listens on localhost only."
)


def is_auth_configured() -> bool:
    """Return whether ``.streamlit/secrets.toml`` has an ``[auth]`` section."""
    try:
        return "auth" in st.secrets
    except Exception:
        # No secrets file at all (Streamlit raises its own not-found error): no sign-in.
        return False


def current_user() -> str | None:
    """Return the signed-in user's e-mail, or None for the local single user (no sign-in)."""
    if not is_auth_configured():
        return None
    try:
        if not st.user.is_logged_in:
            return None
        return str(st.user.email)
    except (AttributeError, KeyError):
        return None


def current_groups() -> tuple[str, ...]:
    """Return the signed-in user's groups (the identity provider's ``groups`` claim)."""
    if current_user() is None:
        return ()
    groups = st.user.get(GROUPS_CLAIM) or ()
    return (groups,) if isinstance(groups, str) else tuple(str(group) for group in groups)


def rules() -> access.AccessRules | None:
    """Return the workspace's access rules; None without an access file (everything allowed)."""
    return access.load_access(store.resolve_workspace())


def allowed_datasets(names: list[str]) -> list[str]:
    """Return the datasets of ``names`` the current user may open, in the same order."""
    allowed = access.allowed_datasets(rules(), current_user(), current_groups())
    return [name for name in names if name in allowed]


def may(dataset: str, needed_role: str) -> bool:
    """Return whether the current user has at least ``needed_role`` on ``dataset``."""
    role = access.role_for(rules(), current_user(), dataset, current_groups())
    return access.role_allows(role, needed_role)


def require_role(dataset: str, needed_role: str = access.VIEWER) -> None:
    """Raise ``access.AccessDenied`` unless the current user has ``needed_role`` on ``dataset``."""
    access.check_access(rules(), current_user(), dataset, needed_role, current_groups())


def describe_bind_problem(address: str | None, auth_configured: bool) -> str | None:
    """Return why a server at ``address`` may not run, or None when it may.

    Without sign-in only a loopback address is allowed; an empty address means every interface.
    """
    if auth_configured or (address or "").strip().lower() in LOCAL_ADDRESSES:
        return None
    where = f"address {address}" if address else "every network interface"
    return BIND_REFUSED.format(where=where)


def enforce_bind_rule() -> None:
    """Stop the page with a sentence when the server listens beyond localhost without sign-in."""
    problem = describe_bind_problem(st.get_option("server.address"), is_auth_configured())
    if problem is not None:
        st.error(problem)
        st.stop()
