"""The module's C++ example (ns3_modules/space-xnet/examples/space-xnet-chain-example.cc), built
with the module, against the closed form of a token's latency over a chain of three satellites."""

from __future__ import annotations

import re
import subprocess

import pytest

from harness.cxx import build as ns3_build

EXAMPLE = "space-xnet-chain-example"
#: the speed of light in vacuum, m/s (SI, exact)
C_M_PER_S = 299_792_458
#: bytes a packet adds to its payload: MoeTokenHeader 16, UDP 8, IPv4 20, point-to-point 2
HEADER_BYTES = 16 + 8 + 20 + 2
#: the example's compute times, ns: gateway (attention + router), the expert, the LM head
GATEWAY_NS, EXPERT_NS, LM_HEAD_NS = 5_000, 7_000, 11_000


def expected_latency_ns(first_km: float, second_km: float, message_bytes: int, rate_bps: int) -> int:
    """Compute, then the hidden state 0 -> 1 -> 2 and the expert's output 2 -> 1 -> 0: each hop
    serialises one packet (message + headers) and propagates d/c (rounded to the ns, as the
    harness's link delays are)."""
    tx_ns = (message_bytes + HEADER_BYTES) * 8 * 10**9 // rate_bps
    delays_ns = [round(km * 1e3 / C_M_PER_S * 1e9) for km in (first_km, second_km)]
    per_way = sum(tx_ns + d for d in delays_ns)
    return GATEWAY_NS + per_way + EXPERT_NS + per_way + LM_HEAD_NS


@pytest.mark.parametrize("first_km, second_km, message_bytes", [(1000, 2000, 1000), (500, 3000, 1400)])
def test_chain_example_prints_the_closed_form_latency(first_km, second_km, message_bytes):
    program = ns3_build.module_library().parent / EXAMPLE
    assert program.is_file(), f"the module build has no {EXAMPLE}"
    done = subprocess.run([str(program), f"--firstKm={first_km}", f"--secondKm={second_km}",
                           f"--messageBytes={message_bytes}", "--rate=1Gbps"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    printed = re.search(r"token latency: (\d+) ns", done.stdout)
    assert printed, done.stdout
    assert int(printed.group(1)) == expected_latency_ns(first_km, second_km, message_bytes, 10**9)
