"""Connect to Ray, or start a private single-node cluster bound to 127.0.0.1.

Ray's servers (GCS, raylet, workers, agents) listen on 127.0.0.1 only when the node's IP is
127.0.0.1, and Ray keeps that IP only with its multi-node mode off
(RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0): with it on (the Linux default) Ray replaces 127.0.0.1
with the machine's routable address and listens on all interfaces. So:

- `local` starts a private cluster with that mode off (no dashboard) and stops it at the end;
- an address on the loopback interface (`127.0.0.1:PORT`, `localhost:PORT`) is a cluster kept
  on loopback: the driver joins it with the same mode off and node IP 127.0.0.1 (docs/scale.md
  says how such a cluster's nodes are started);
- `auto` or any other address joins an existing cluster, whose network setup is its operator's.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
from collections.abc import Iterator
from typing import Any

from trustbench.errors import TrustbenchError

LOOPBACK = "127.0.0.1"


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise TrustbenchError("--ray needs Ray: pip install 'trustbench[ray]'") from None
    return ray


def is_loopback_address(address: str) -> bool:
    """True for `127.x.x.x:PORT`, `localhost:PORT`, `[::1]:PORT` (with or without ray://)."""
    host = address.split("://", 1)[-1].rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _loopback_only() -> None:
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import_ray()
    import ray._private.ray_constants as constants

    constants.ENABLE_RAY_CLUSTER = False  # read at call time; the env var only at import


def connect(address: str, num_cpus: float | None = None, num_gpus: float | None = None) -> bool:
    """Start or join Ray; True when this call did so (end it with `disconnect`: that stops a
    private cluster and only disconnects from any other)."""
    ray = import_ray()
    if address == "local":
        _loopback_only()
        if ray.is_initialized():
            return False
        try:
            ray.init(_node_ip_address=LOOPBACK, include_dashboard=False, num_cpus=num_cpus, num_gpus=num_gpus,
                     log_to_driver=False, configure_logging=False)
        except Exception as e:  # Ray raises many types; one line names the flag
            raise TrustbenchError(f"--ray local: Ray did not start ({type(e).__name__}: {e})") from None
        return True
    if ray.is_initialized():
        return False
    loopback = is_loopback_address(address)
    if loopback:
        _loopback_only()
    try:
        ray.init(address=address, log_to_driver=False, configure_logging=False,
                 **({"_node_ip_address": LOOPBACK} if loopback else {}))
    except Exception as e:
        raise TrustbenchError(f"--ray {address}: cannot connect ({type(e).__name__}: {e})") from None
    return True


def disconnect(connected: bool) -> None:
    ray = import_ray()
    if connected and ray.is_initialized():
        ray.shutdown()


@contextlib.contextmanager
def ray_session(address: str | None, replicas: int = 1, replica_cpus: float = 1.0,
                replica_gpus: float = 0.0) -> Iterator[bool]:
    """Ray connected for a whole run (replicas, then judges as Ray tasks), from the calling
    (main) thread; yields whether Ray is in use. A no-op without an address or when connected."""
    if not address:
        yield False
        return
    connected = connect(address, max(replicas * replica_cpus + 1, 2), replicas * replica_gpus or None)
    try:
        yield True
    finally:
        disconnect(connected)


def node_host() -> str:
    """The address a replica's server binds to (called on the replica's node): loopback on a
    loopback cluster, else the node's IP."""
    ray = import_ray()
    ip = ray.util.get_node_ip_address()
    return LOOPBACK if ip.startswith("127.") else ip


def node_id() -> str:
    """The Ray node id of the calling process (a replica's node, in replica_stats)."""
    return import_ray().get_runtime_context().get_node_id()
