"""Resource declarations: fields, allowed methods, filtering and ordering, plus behaviour hooks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from securemode.infra.twin.api.fields import Field

if TYPE_CHECKING:
    from securemode.infra.twin.config import TwinConfig
    from securemode.infra.twin.state.store import Store

ALL = 1  # Tastypie's ALL: every lookup allowed
LOOKUPS = (
    "exact",
    "iexact",
    "contains",
    "icontains",
    "startswith",
    "istartswith",
    "endswith",
    "iendswith",
    "regex",
    "iregex",
    "lt",
    "lte",
    "gt",
    "gte",
    "in",
    "isnull",
)
CRUD = ("GET", "POST", "PUT", "PATCH", "DELETE")
SINGLETON_LIST = ("GET",)
SINGLETON_DETAIL = ("GET", "PATCH")
PREFIX = "/api/admin"


@dataclass
class Ctx:
    """What a hook needs: the store, the guesses, the registry and who is acting (for audit)."""

    store: Store
    config: TwinConfig
    registry: Registry
    user: str = "system"


@dataclass(frozen=True)
class Created:
    """A custom response body for a create (worker_vm returns its deployment file)."""

    body: bytes
    content_type: str
    filename: str | None = None


class Behaviour:
    """Resource-specific rules; the default does nothing beyond the generic Tastypie handling."""

    def prepare(self, ctx: Ctx, new: dict[str, Any], old: dict[str, Any] | None) -> None:
        """Cross-field validation and derived fields; raise FieldErrors to refuse."""

    def after_create(self, ctx: Ctx, obj: dict[str, Any]) -> Created | None:
        return None

    def after_update(self, ctx: Ctx, obj: dict[str, Any], old: dict[str, Any]) -> None:
        """Side effects of a completed update (the CSR completes into a certificate here)."""

    def before_delete(self, ctx: Ctx, obj: dict[str, Any]) -> None:
        """Raise ApiError to protect an object others depend on."""

    def render(self, ctx: Ctx, obj: dict[str, Any], out: dict[str, Any]) -> None:
        """Add computed read-only fields to the rendered object."""


@dataclass
class ResourceSpec:
    name: str
    fields: dict[str, Field]
    api: str = "configuration"
    list_methods: tuple[str, ...] = CRUD
    detail_methods: tuple[str, ...] = CRUD
    filtering: dict[str, Any] = field(default_factory=dict)
    ordering: tuple[str, ...] = ()
    key_field: str = "id"
    verbose_name: str = ""
    behaviour: Behaviour = field(default_factory=Behaviour)
    # computed resources (status API) produce their objects instead of reading the store
    compute: Callable[[Ctx], list[dict[str, Any]]] | None = None

    def uri(self, key: Any) -> str:
        return f"{PREFIX}/{self.api}/v1/{self.name}/{key}/"

    @property
    def list_uri(self) -> str:
        return f"{PREFIX}/{self.api}/v1/{self.name}/"

    @property
    def label(self) -> str:
        return self.verbose_name or self.name.replace("_", " ").capitalize()


class Registry:
    """All resource specs by (api, name)."""

    def __init__(self) -> None:
        self._specs: dict[tuple[str, str], ResourceSpec] = {}

    def add(self, spec: ResourceSpec) -> None:
        self._specs[(spec.api, spec.name)] = spec

    def get(self, api: str, name: str) -> ResourceSpec | None:
        return self._specs.get((api, name))

    def config(self, name: str) -> ResourceSpec:
        return self._specs[("configuration", name)]

    def in_api(self, api: str) -> list[ResourceSpec]:
        return sorted((s for (a, _), s in self._specs.items() if a == api), key=lambda s: s.name)
