"""pyVmomi's type namespaces, typed as ``Any``.

pyVmomi's stubs mark every data-object constructor as untyped and every property as optional;
the engine checks presence itself where it matters, so it uses the namespaces dynamically.
"""

from __future__ import annotations

from typing import Any

from pyVmomi import VmomiSupport
from pyVmomi import vim as _vim
from pyVmomi import vmodl as _vmodl

vim: Any = _vim
vmodl: Any = _vmodl


def xsd_long(value: int) -> Any:
    """``value`` as xsd:long: ESXi refuses a long option sent as xsd:int (ansible#41212, pyvmomi#682)."""
    return VmomiSupport.vmodlTypes["long"](value)


def fault_text(exc: BaseException) -> str:
    """A short description of a vSphere fault or other exception: its type and message."""
    name = getattr(exc, "_wsdlName", None) or type(exc).__name__
    msg = getattr(exc, "msg", None) or str(exc)
    faults = getattr(exc, "faultMessage", None) or []
    details = [m.message for m in faults if getattr(m, "message", None)]
    text = f"{name}: {msg}" if msg and msg != name else name
    return text + (f" ({'; '.join(details)})" if details else "")
