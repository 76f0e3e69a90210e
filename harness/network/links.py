"""Link arithmetic: how long a message takes to leave a satellite, as ns-3's point-to-point links
time it (a message is cut into packets at the link's MTU; each packet is serialised at the link's
rate and stored and forwarded at every hop)."""

from __future__ import annotations

import numpy as np

from harness.scenario import LinkSpec

__all__ = ["message_serialization_ns", "tx_time_ns"]


def tx_time_ns(wire_bytes: int, rate_bps: int) -> int:
    """Transmission time of one packet of ``wire_bytes`` at ``rate_bps``, in whole ns, as ns-3.

    ns-3 computes ``bits / rate`` in its 64.64 fixed-point type (the quotient truncated to 2^-64 s),
    scales it to ns and rounds to the nearest ns (halves away from zero); the truncation makes an
    exact half round down. Checked against ``ns3::DataRate::CalculateBytesTxTime`` for every size
    up to 9000 B at a dozen rates (tests/test_analytic.py).
    """
    rate = int(rate_bps)
    if rate <= 0:
        raise ValueError(f"rate must be a positive whole number of bit/s, got {rate_bps}")
    seconds_q64 = (int(wire_bytes) * 8 << 64) // rate
    return int((seconds_q64 * 10**9 + (1 << 63)) >> 64)


def message_serialization_ns(links: LinkSpec, message_bytes: int, hops: np.ndarray) -> np.ndarray:
    """Serialisation part of a message's latency over ``hops`` links: sum tx + (h - 1) max tx."""
    tx = [tx_time_ns(size, int(links.rate_bps)) for size in links.packet_sizes_bytes(message_bytes)]
    hops = np.asarray(hops, dtype=np.int64)
    return sum(tx) + (hops - 1) * max(tx)
