"""Administrator access: roles, the fixed permission table, authentication settings, LDAP role mapping."""

from __future__ import annotations

from typing import Any

from securemode.infra.twin.api import fields as f
from securemode.infra.twin.api.spec import ALL, SINGLETON_DETAIL, SINGLETON_LIST, Behaviour, Ctx, ResourceSpec
from securemode.infra.twin.config import TwinConfig
from securemode.infra.twin.errors import FieldErrors

SOURCES = ("LOCAL", "LDAP", "LDAP+LOCAL")
CLIENT_CERT = ("NO", "CN", "UPN")
DEFAULT_USER_FILTER = "(&(objectclass=person)(!(objectclass=computer)))"
DEFAULT_USER_SEARCH_FILTER = "(|(uid={username})(sAMAccountName={username}))"
DEFAULT_GROUP_FILTER = (
    "(|(objectclass=group)(objectclass=groupOfNames)(objectclass=groupOfUniqueNames)(objectclass=posixGroup))"
)
DEFAULT_MEMBERSHIP_FILTER = "(|(member={userdn})(uniquemember={userdn})(memberuid={useruid}))"


def _ldap_filter(value: Any) -> str | None:
    text = str(value)
    if text.count("(") != text.count(")") or not (text.startswith("(") and text.endswith(")")):
        return "Enter a valid LDAP filter."
    return None


def _needs_username(value: Any) -> str | None:
    return _ldap_filter(value) or (None if "{username}" in str(value) else "The filter must contain {username}.")


class AuthenticationBehaviour(Behaviour):
    """Client certificates need LDAP as a source (SCHEMA help text); LDAP needs a server."""

    def prepare(self, ctx: Ctx, new: dict[str, Any], old: dict[str, Any] | None) -> None:
        errors = FieldErrors()
        if new["client_certificate"] != "NO" and "LDAP" not in new["source"]:
            errors.add("client_certificate", "Requires LDAP to be included as an authentication source.")
        if "LDAP" in new["source"] and not new["ldap_server"]:
            errors.add("ldap_server", "An LDAP server is required when LDAP is an authentication source.")
        if errors:
            raise errors


def specs(config: TwinConfig) -> list[ResourceSpec]:
    return [
        ResourceSpec(
            "permission",
            {"name": f.readonly(), "codename": f.readonly()},
            list_methods=("GET",),
            detail_methods=("GET",),
            filtering={"name": ALL, "codename": ALL},
            ordering=("name", "codename"),
        ),
        ResourceSpec(
            "role",
            {
                "name": f.string(250, required=True, blank=False, unique=True),
                "permissions": f.to_many("permission", nested=True),
            },
            filtering={"name": ALL},
            ordering=("name",),
        ),
        ResourceSpec(
            "ldap_role",
            {
                "name": f.string(250, required=True, blank=False, unique=True),
                "ldap_group_dn": f.string(255, required=True, blank=False),
                "roles": f.to_many("role"),
            },
            filtering={"name": ALL, "ldap_group_dn": ALL},
            ordering=("name",),
            verbose_name="LDAP role",
        ),
        ResourceSpec(
            "authentication",
            {
                "source": f.choice(SOURCES, "LOCAL"),
                "client_certificate": f.choice(CLIENT_CERT, "NO"),
                "ldap_server": f.string(255),
                "ldap_base_dn": f.string(255),
                "ldap_bind_username": f.string(255),
                "ldap_bind_password": f.string(100, write_only=True),
                "ldap_user_search_dn": f.string(255),
                "ldap_user_filter": f.string(1024, DEFAULT_USER_FILTER, check=_ldap_filter),
                "ldap_user_search_filter": f.string(1024, DEFAULT_USER_SEARCH_FILTER, check=_needs_username),
                "ldap_user_group_attributes": f.string(255, "memberOf"),
                "ldap_group_search_dn": f.string(255),
                "ldap_group_filter": f.string(1024, DEFAULT_GROUP_FILTER, check=_ldap_filter),
                "ldap_group_membership_filter": f.string(1024, DEFAULT_MEMBERSHIP_FILTER, check=_ldap_filter),
                "ldap_use_global_catalog": f.boolean(False),
                "ldap_permit_no_tls": f.boolean(False),
            },
            list_methods=SINGLETON_LIST,
            detail_methods=SINGLETON_DETAIL,
            verbose_name="Authentication",
            behaviour=AuthenticationBehaviour(),
        ),
    ]
