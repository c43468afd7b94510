"""Rotate every credential the compromised deployment held, through each secret reference's own backend.

A credential counts as rotated when its value differs from the one recorded (as a salted digest) when the
rebuild began: a rerun after a kill rotates only what still holds its old value, so none is left behind and
none is rotated twice. Where the value lives elsewhere too (the LDAP bind password in the directory), that
copy is changed first, then the reference: a kill in between only means the next run sets another value.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from securemode import rotation, secret_store
from securemode.pexip.rebuild_record import salted_digest, same_value
from securemode.site_loader import LoadedSite
from securemode.tasks.rebuild.ldap_password import set_bind_password

log = logging.getLogger("securemode.tasks.rebuild.rotate")


@dataclass(frozen=True)
class Rotated:
    field: str
    backend: str  # file or prefect-secret (never the value)
    also: str = ""  # where else the new value was set


def record_before(loaded: LoadedSite, nodes: list[str]) -> dict[str, dict[str, str]]:
    """Salted digests of every credential's current value, by field (what "rotated" is measured against)."""
    return {
        c.field: salted_digest(loaded.secret(c.ref).get_secret_value())
        for c in rotation.credentials(loaded.site, nodes)
    }


def still_old(loaded: LoadedSite, before: dict[str, dict[str, str]], nodes: list[str]) -> list[rotation.Credential]:
    """The credentials to rotate whose value is still the one recorded before the rebuild."""
    return [
        c
        for c in rotation.to_rotate(loaded.site, nodes)
        if c.field not in before or same_value(before[c.field], loaded.secret(c.ref).get_secret_value())
    ]


def rotated_fields(loaded: LoadedSite, before: dict[str, dict[str, str]], nodes: list[str]) -> list[str]:
    """The credentials to rotate that hold a new value now (whichever run of the rebuild wrote it)."""
    old = {c.field for c in still_old(loaded, before, nodes)}
    return [c.field for c in rotation.to_rotate(loaded.site, nodes) if c.field not in old]


def rotate_credentials(loaded: LoadedSite, before: dict[str, dict[str, str]], nodes: list[str]) -> list[Rotated]:
    """Give each credential still holding its old value a new one; returns what was rotated (no values)."""
    done = []
    for cred in still_old(loaded, before, nodes):
        value = rotation.new_value(cred.kind)
        also = ""
        if cred.applied_by == "ldap":
            set_bind_password(loaded, value)
            also = "the directory"
        secret_store.write(cred.ref, value, loaded.base_dir)
        log.info("rotated %s (%s)", cred.field, secret_store.kind_of(cred.ref))
        done.append(Rotated(cred.field, secret_store.kind_of(cred.ref), also))
    return done
