"""Connect to Ray, or start a private single-node cluster bound to 127.0.0.1.

`local` starts Ray with every server (GCS, raylet, workers, agents) on the loopback interface
and no dashboard, and shuts it down at the end. Ray maps 127.0.0.1 to the machine's routable
address unless its multi-node mode is off (RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0, which also
makes its gRPC servers listen on 127.0.0.1 only), so `local` turns that mode off.
`auto` or an address joins an existing cluster, whose network setup is its operator's.
"""

from __future__ import annotations

import os
from typing import Any

from trustbench.errors import TrustbenchError

LOOPBACK = "127.0.0.1"


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise TrustbenchError("--ray needs Ray: pip install 'trustbench[ray]'") from None
    return ray


def connect(address: str, num_cpus: float | None = None, num_gpus: float | None = None) -> bool:
    """Start or join Ray; True when this call started a private cluster (stop it with `disconnect`)."""
    if address == "local":
        os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        ray = import_ray()
        import ray._private.ray_constants as constants

        constants.ENABLE_RAY_CLUSTER = False  # read at call time; the env var only at import
        if ray.is_initialized():
            return False
        try:
            ray.init(_node_ip_address=LOOPBACK, include_dashboard=False, num_cpus=num_cpus, num_gpus=num_gpus,
                     log_to_driver=False, configure_logging=False)
        except Exception as e:  # Ray raises many types; one line names the flag
            raise TrustbenchError(f"--ray local: Ray did not start ({type(e).__name__}: {e})") from None
        return True
    ray = import_ray()
    if ray.is_initialized():
        return False
    try:
        ray.init(address=address, log_to_driver=False, configure_logging=False)
    except Exception as e:
        raise TrustbenchError(f"--ray {address}: cannot connect ({type(e).__name__}: {e})") from None
    return False


def disconnect(started: bool) -> None:
    ray = import_ray()
    if started and ray.is_initialized():
        ray.shutdown()


def node_host() -> str:
    """The address a replica's server binds to: loopback on a local cluster, else the node's IP."""
    ray = import_ray()
    ip = ray.util.get_node_ip_address()
    return LOOPBACK if ip.startswith("127.") else ip
