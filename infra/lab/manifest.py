"""The lab manifest: what ``lab up`` started (PIDs, endpoints, paths), so ``status`` and ``down`` can
find every part from another process. It holds no secrets (those are 0600 files it points to).

Format (JSON, ``<state dir>/lab/manifest.json``)::

    {"version": 1, "profile": "bootstrapped", "created": "2026-…Z", "lab_dir": "…/lab", "block": 0,
     "root": true, "domain": "lab.securemode.test", "site_file": "…/lab/site.yaml",
     "ca": {"dir": …, "root": …, "intermediate": …, "chain": …}, "secrets_dir": "…/lab/secrets",
     "sync_interval_s": 3.0, "netns": {"name": …, "host_ifname": …, "host_address": …} | null,
     "netns_unavailable": null | "why",
     "nodes": [{"name", "hostname", "fqdn", "address" (the site address), "loopback_address",
                "conferencing", "netns_address" (= address in the namespace, else null)}],
     "fallback_nodes": [the same, for the contingency deployment (`lab up --contingency`), else empty],
     "parts": {"<name>": {"kind", "process": {"pid", "start_ticks", "marker"},
                          "endpoints": {"<name>": {"host", "port", "proto"}}, "workdir", "facts": {…}}},
     "timings": {"<step>": seconds}, "up_wall_s": seconds}
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from securemode.infra.lab.processes import ProcessIdentity

MANIFEST_VERSION = 1
MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    proto: str  # tcp | udp | tls | https | ssh

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "port": self.port, "proto": self.proto}


@dataclass
class Part:
    """One running part of the lab."""

    name: str
    kind: str
    process: ProcessIdentity | None
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    workdir: str = ""
    facts: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "process": self.process.to_dict() if self.process else None,
            "endpoints": {k: e.to_dict() for k, e in self.endpoints.items()},
            "workdir": self.workdir,
            "facts": self.facts,
        }

    @classmethod
    def from_dict(cls, name: str, data: dict[str, Any]) -> Part:
        proc = data.get("process")
        return cls(
            name=name,
            kind=str(data["kind"]),
            process=ProcessIdentity.from_dict(proc) if proc else None,
            endpoints={k: Endpoint(str(e["host"]), int(e["port"]), str(e["proto"]))
                       for k, e in data["endpoints"].items()},
            workdir=str(data.get("workdir", "")),
            facts=dict(data.get("facts", {})),
        )


@dataclass
class Manifest:
    """Everything about a running lab except secrets."""

    lab_dir: Path
    profile: str
    block: int
    root: bool
    domain: str
    created: str
    site_file: Path
    ca: dict[str, str]
    secrets_dir: Path
    sync_interval_s: float
    nodes: list[dict[str, Any]]
    parts: dict[str, Part] = field(default_factory=dict)
    fallback_nodes: list[dict[str, Any]] = field(default_factory=list)  # the contingency deployment's nodes
    netns: dict[str, Any] | None = None
    netns_unavailable: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    up_wall_s: float = 0.0

    def add(self, part: Part) -> Part:
        self.parts[part.name] = part
        return part

    def node(self, name: str) -> dict[str, Any]:
        """A node of the primary or (by its ``-c`` name) of the fallback deployment."""
        for node in (*self.nodes, *self.fallback_nodes):
            if node["name"] == name:
                return node
        raise KeyError(f"no lab node {name!r}; nodes are {[n['name'] for n in (*self.nodes, *self.fallback_nodes)]}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": MANIFEST_VERSION,
            "profile": self.profile,
            "created": self.created,
            "lab_dir": str(self.lab_dir),
            "block": self.block,
            "root": self.root,
            "domain": self.domain,
            "site_file": str(self.site_file),
            "ca": self.ca,
            "secrets_dir": str(self.secrets_dir),
            "sync_interval_s": self.sync_interval_s,
            "netns": self.netns,
            "netns_unavailable": self.netns_unavailable,
            "nodes": self.nodes,
            "fallback_nodes": self.fallback_nodes,
            "parts": {name: p.to_dict() for name, p in self.parts.items()},
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "up_wall_s": round(self.up_wall_s, 3),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        if data.get("version") != MANIFEST_VERSION:
            raise ValueError(f"manifest version {data.get('version')!r}, expected {MANIFEST_VERSION}")
        return cls(
            lab_dir=Path(data["lab_dir"]),
            profile=str(data["profile"]),
            block=int(data["block"]),
            root=bool(data["root"]),
            domain=str(data["domain"]),
            created=str(data["created"]),
            site_file=Path(data["site_file"]),
            ca=dict(data["ca"]),
            secrets_dir=Path(data["secrets_dir"]),
            sync_interval_s=float(data["sync_interval_s"]),
            nodes=list(data["nodes"]),
            fallback_nodes=list(data.get("fallback_nodes", [])),
            parts={name: Part.from_dict(name, p) for name, p in data["parts"].items()},
            netns=data.get("netns"),
            netns_unavailable=data.get("netns_unavailable"),
            timings=dict(data.get("timings", {})),
            up_wall_s=float(data.get("up_wall_s", 0.0)),
        )


def manifest_path(lab_dir: Path) -> Path:
    return lab_dir / MANIFEST_NAME


def read_manifest(lab_dir: Path) -> Manifest | None:
    """The manifest of the lab in ``lab_dir``, or None when no lab was started there."""
    try:
        data = json.loads(manifest_path(lab_dir).read_text())
    except FileNotFoundError:
        return None
    return Manifest.from_dict(data)


def write_manifest(manifest: Manifest) -> Path:
    """Write atomically (a reader never sees half a manifest)."""
    path = manifest_path(manifest.lab_dir)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(manifest.to_dict(), fh, indent=2)
        fh.write("\n")
    tmp.replace(path)
    return path
