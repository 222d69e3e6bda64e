"""The access file (issue #19 item 2): grants by user, by e-mail domain, by group and "*", the
role order viewer < analyst < admin, and one-sentence errors for a broken file."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard import access
from dashboard.access import ALL, AccessDenied, AccessFileError

ACCESS = """
[[grant]]
to = "ann@example.com"
datasets = ["shop"]
role = "admin"

[[grant]]
to = ["@example.com"]
datasets = ["shop", "outlet"]
role = "viewer"

[[grant]]
to = "group:marketing"
datasets = "outlet"
role = "analyst"

[[grant]]
to = "boss@other.org"
datasets = "*"
role = "admin"
"""


@pytest.fixture
def rules(tmp_path: Path) -> access.AccessRules:
    (tmp_path / access.ACCESS_FILE).write_text(ACCESS, encoding="utf-8")
    loaded = access.load_access(tmp_path)
    assert loaded is not None
    return loaded


def test_no_access_file_is_single_user_mode(tmp_path: Path) -> None:
    assert access.load_access(tmp_path) is None
    assert access.allowed_datasets(None, "ann@example.com") is ALL
    assert access.role_for(None, "ann@example.com", "shop") == access.ADMIN
    access.check_access(None, "ann@example.com", "shop", access.ADMIN)


def test_grants_by_user_domain_group_and_star(rules: access.AccessRules) -> None:
    # ann: admin of shop by name, viewer of shop and outlet by domain -> highest role per dataset.
    assert access.allowed_datasets(rules, "Ann@Example.com") == {"shop", "outlet"}
    assert access.role_for(rules, "ann@example.com", "shop") == "admin"
    assert access.role_for(rules, "ann@example.com", "outlet") == "viewer"
    # bob: only the domain grant; with the marketing group he is an analyst of outlet.
    assert access.role_for(rules, "bob@example.com", "outlet") == "viewer"
    assert access.role_for(rules, "bob@example.com", "outlet", groups=["Marketing"]) == "analyst"
    assert access.role_for(rules, "bob@example.com", "shop", groups=["marketing"]) == "viewer"
    # A domain is matched whole: "@example.com" does not grant "@notexample.com".
    assert access.allowed_datasets(rules, "eve@notexample.com") == frozenset()
    assert access.role_for(rules, "eve@notexample.com", "shop") is None
    # "*" covers every dataset, also ones created later.
    assert access.allowed_datasets(rules, "boss@other.org") is ALL
    assert access.role_for(rules, "boss@other.org", "created-tomorrow") == "admin"
    # The local user (no sign-in) may do everything.
    assert access.allowed_datasets(rules, None) is ALL


def test_roles_are_ordered(rules: access.AccessRules) -> None:
    assert access.ROLES == ("viewer", "analyst", "admin")
    assert access.role_allows("admin", "analyst") and access.role_allows("analyst", "viewer")
    assert not access.role_allows("viewer", "analyst")
    assert not access.role_allows("analyst", "admin")
    assert not access.role_allows(None, "viewer")
    access.check_access(rules, "bob@example.com", "outlet", "analyst", groups=["marketing"])
    with pytest.raises(AccessDenied, match=r"is a viewer of the dataset 'outlet'.*analyst"):
        access.check_access(rules, "bob@example.com", "outlet", "analyst")
    with pytest.raises(AccessDenied, match=r"eve@notexample.com may not open the dataset 'shop'"):
        access.check_access(rules, "eve@notexample.com", "shop")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[grant]\nto = 1", r"not valid TOML: .*line 1"),
        ("[[grant]]\nto = 'a@b.c'\ndatasets = '*'\nrole = 'boss'", r"grant 1: role 'boss'"),
        ("[[grant]]\nto = 'a@b.c'\ndatasets = '*'", r"grant 1: the key 'role' is missing"),
        (
            "[[grant]]\nto='a@b.c'\ndatasets='*'\nrole='viewer'\n[[grant]]\nto='ann'\n"
            "datasets='*'\nrole='viewer'",
            r"grant 2: 'to' entry 'ann' is not an e-mail",
        ),
        ("[[grant]]\nto = 'a@b.c'\ndatasets = []\nrole = 'viewer'", r"grant 1: 'datasets' must"),
        ("[[grant]]\nto='a@b.c'\ndatasets='*'\nrole='admin'\nrloe=1", r"unknown key 'rloe'"),
        ("[users]\nann = 1", r"unknown key 'users'"),
    ],
)
def test_broken_access_file_is_one_sentence(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / access.ACCESS_FILE).write_text(text, encoding="utf-8")
    with pytest.raises(AccessFileError, match=message) as caught:
        access.load_access(tmp_path)
    assert str(tmp_path / access.ACCESS_FILE) in str(caught.value)
    assert "\n" not in str(caught.value)
