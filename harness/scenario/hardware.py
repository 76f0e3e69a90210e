"""Board profiles (``compute.hardware``): the figures of a real board, with their sources, resolved
into the ``compute`` keys when a scenario is read (:func:`resolve_compute`).

Each :class:`BoardProfile` gives dense matrix throughput per number format (FLOP/s, or OP/s for
int8), memory size and bandwidth, and the power draw idle and busy (W, for an energy model; None
where the vendor publishes no per-chip figure). A profile fills ``compute.satellite_flops`` (its
throughput at ``compute.precision`` x ``compute.efficiency``), ``compute.memory_bytes_per_s`` (its
bandwidth x ``compute.efficiency``: with it, every job follows the roofline), ``compute.memory_gb``
and ``compute.weight_bytes`` (2 for bf16/fp16, 1 for fp8/int8). A key given explicitly in the
scenario wins over the profile and is taken as given (not scaled by the efficiency).

Dense from sparse: NVIDIA's Jetson pages give only sparse INT8 TOPS. On Ampere tensor cores (the
Orin GPU) 2:4 structured sparsity doubles the INT8 rate and INT8 runs at twice FP16/BF16 (the NVIDIA
A100 Tensor Core GPU Architecture whitepaper, 2020, tables 1-3: 312 dense FP16/BF16 TFLOP/s, 624
dense INT8 TOPS, 1,248 sparse INT8 TOPS), so dense BF16/FP16 = sparse INT8 / 4 and dense INT8 =
sparse INT8 / 2. The AGX Orin's 275 TOPS include its two deep-learning accelerators (105 TOPS,
which run INT8 convolutions, not a transformer's BF16 matrices): only the GPU's 170 count.

The paper's figure is an effective one (about 70 % of a 10 GFLOP/s rad-hard board): it has no
bandwidth, so no roofline, which keeps the paper's traces unchanged. The efficiency (achieved /
peak) defaults to 1: the roofline's bound; measured decode kernels reach roughly 0.6-0.9 of peak
bandwidth and large matrix products 0.5-0.8 of peak FLOP/s, so set it lower for a realistic figure.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from harness.errors import ScenarioError
from harness.names import BOARD_NAMES, PRECISIONS

if TYPE_CHECKING:
    from harness.scenario.model import ComputeSpec
    from harness.scenario.power import PowerSpec


@dataclass(frozen=True)
class BoardProfile:
    """One board's published figures. Throughputs are dense (no structured sparsity), per chip or
    module, in FLOP/s (OP/s for int8); None: the board has no such datapath, or no published figure."""

    name: str
    title: str
    bf16_flops: Optional[float]
    fp16_flops: Optional[float]
    fp8_flops: Optional[float]
    int8_ops: Optional[float]
    memory_gb: float                       #: memory size, 10^9 B
    memory_bytes_per_s: Optional[float]    #: memory bandwidth, B/s (None: no roofline)
    idle_w: Optional[float]                #: power draw idle (or at the lowest power mode), W
    busy_w: Optional[float]                #: power draw at full load (the top power mode or TDP), W
    source: str                            #: where each figure comes from, and how it is derived

    def flops(self, precision: str) -> Optional[float]:
        """Dense throughput at ``precision`` (one of :data:`harness.names.PRECISIONS`), or None."""
        return {"bf16": self.bf16_flops, "fp16": self.fp16_flops, "fp8": self.fp8_flops,
                "int8": self.int8_ops}[precision]

    @property
    def precisions(self) -> tuple[str, ...]:
        """The number formats this board has a figure for."""
        return tuple(p for p in PRECISIONS if self.flops(p) is not None)


_NVIDIA_JETSON = ("NVIDIA Jetson Orin Nano / Orin NX / AGX Orin module data sheets and the Jetson Orin "
                  "product pages (developer.nvidia.com/embedded/jetson-modules; 'Jetson Orin Nano Super', "
                  "December 2024); power: the module's nvpmodel power modes (idle_w the lowest, busy_w the highest)")

BOARDS: dict[str, BoardProfile] = {p.name: p for p in (
    BoardProfile(
        "paper", "the paper's satellite (effective)", bf16_flops=7.28e9, fp16_flops=7.28e9, fp8_flops=None,
        int8_ops=None, memory_gb=8.0, memory_bytes_per_s=None, idle_w=None, busy_w=None,
        source="the paper's effective compute, about 70 % of a 10 GFLOP/s radiation-hardened board "
               "(docs/paper-assumptions); 8 GB, its board class; no bandwidth or power given"),
    BoardProfile(
        "jetson-orin-nano", "NVIDIA Jetson Orin Nano 8 GB", bf16_flops=10e12, fp16_flops=10e12, fp8_flops=None,
        int8_ops=20e12, memory_gb=8.0, memory_bytes_per_s=68e9, idle_w=7.0, busy_w=15.0,
        source=f"{_NVIDIA_JETSON}: 40 sparse INT8 TOPS (GPU, 32 tensor cores, 625 MHz), 8 GB 128-bit LPDDR5 "
               f"68 GB/s, 7-15 W; dense BF16/FP16 = 40 / 4 = 10 TFLOP/s, dense INT8 = 20 TOPS; Ampere has no FP8"),
    BoardProfile(
        "jetson-orin-nano-super", "NVIDIA Jetson Orin Nano Super 8 GB", bf16_flops=16.75e12, fp16_flops=16.75e12,
        fp8_flops=None, int8_ops=33.5e12, memory_gb=8.0, memory_bytes_per_s=102e9, idle_w=7.0, busy_w=25.0,
        source=f"{_NVIDIA_JETSON}: 67 sparse INT8 TOPS (GPU at 1,020 MHz), 8 GB LPDDR5 102 GB/s, 7-25 W "
               f"(MAXN SUPER); dense BF16/FP16 = 67 / 4 = 16.75 TFLOP/s, dense INT8 = 33.5 TOPS"),
    BoardProfile(
        "jetson-agx-orin", "NVIDIA Jetson AGX Orin 64 GB (GPU)", bf16_flops=42.5e12, fp16_flops=42.5e12,
        fp8_flops=None, int8_ops=85e12, memory_gb=64.0, memory_bytes_per_s=204.8e9, idle_w=15.0, busy_w=60.0,
        source=f"{_NVIDIA_JETSON}: 275 sparse INT8 TOPS of which the GPU's (2,048 CUDA cores, 64 tensor cores, "
               f"1.3 GHz) 170 and the two DLAs' 105; 64 GB 256-bit LPDDR5 204.8 GB/s; 15-60 W; dense BF16/FP16 "
               f"= 170 / 4 = 42.5 TFLOP/s, dense INT8 = 85 TOPS (GPU only)"),
    BoardProfile(
        "h100-sxm", "NVIDIA H100 SXM5 80 GB", bf16_flops=989.5e12, fp16_flops=989.5e12, fp8_flops=1979e12,
        int8_ops=1979e12, memory_gb=80.0, memory_bytes_per_s=3.35e12, idle_w=None, busy_w=700.0,
        source="NVIDIA H100 Tensor Core GPU data sheet (nvidia.com/en-us/data-center/h100): BF16/FP16 1,979 "
               "TFLOP/s, FP8 and INT8 3,958 with sparsity (dense: half, 989.5 and 1,979); 80 GB HBM3 3.35 TB/s; "
               "max TDP 700 W (busy_w); no idle figure is published"),
    BoardProfile(
        "tpu-v5e", "Google Cloud TPU v5e (one chip)", bf16_flops=197e12, fp16_flops=None, fp8_flops=None,
        int8_ops=393e12, memory_gb=16.0, memory_bytes_per_s=819e9, idle_w=None, busy_w=None,
        source="Cloud TPU v5e documentation (cloud.google.com/tpu/docs/v5e): 197 TFLOP/s bf16, 393 TOPS int8, "
               "16 GB HBM2 at 819 GB/s per chip (dense MXU figures); Google publishes no per-chip power"),
    BoardProfile(
        "tpu-v6e", "Google Cloud TPU v6e Trillium (one chip)", bf16_flops=918e12, fp16_flops=None, fp8_flops=None,
        int8_ops=1836e12, memory_gb=32.0, memory_bytes_per_s=1638e9, idle_w=None, busy_w=None,
        source="Cloud TPU v6e documentation (cloud.google.com/tpu/docs/v6e): 918 TFLOP/s bf16, 1,836 TOPS "
               "int8, 32 GB HBM at 1,638 GB/s per chip; Google publishes no per-chip power"),
    BoardProfile(
        "versal-ai-core-xqr", "AMD Versal AI Core XQRVC1902 (radiation-tolerant)", bf16_flops=8.32e12,
        fp16_flops=8.32e12, fp8_flops=None, int8_ops=133e12, memory_gb=8.0, memory_bytes_per_s=102.4e9,
        idle_w=None, busy_w=None,
        source="AMD Versal AI Core series product table and XQR Versal (space-grade) product brief: VC1902 "
               "400 AI Engine tiles, 133 INT8 TOPS (dense: 400 x 128 INT8 MAC x 2 x 1.3 GHz); the first-"
               "generation AI Engine has no BF16/FP16 datapath, so bf16/fp16 run on its FP32 vector units: "
               "400 x 8 MAC x 2 x 1.3 GHz = 8.32 TFLOP/s (AM009 AI Engine architecture manual; the slowest "
               "speed grade runs at 1 GHz, 0.77 of these); memory: external DDR4-3200 on four 64-bit "
               "controllers, 4 x 25.6 = 102.4 GB/s, 8 GB assumed (the paper's board class); power depends on "
               "the design (AMD Power Design Manager), no figure published"),
)}
assert tuple(BOARDS) == BOARD_NAMES, "harness.names.BOARD_NAMES and hardware.BOARDS disagree"

#: Bytes per weight of each number format.
PRECISION_BYTES = {"bf16": 2, "fp16": 2, "fp8": 1, "int8": 1}


def resolve_compute(compute: "ComputeSpec", given: set[str], source: str) -> "ComputeSpec":
    """``compute`` with the board profile's figures filled in under the keys the scenario gave
    (``given``: the names of the compute keys written in the file). ScenarioError for a precision
    the board has no figure for."""
    board = BOARDS[compute.hardware]
    peak = board.flops(compute.precision)
    if peak is None:
        raise ScenarioError(f"{source}: board '{board.name}' has no {compute.precision} figure; set "
                            f"'compute.precision' to one of: {', '.join(board.precisions)}")
    fill = {}
    if "satellite_flops" not in given:
        fill["satellite_flops"] = peak * compute.efficiency
    if "memory_bytes_per_s" not in given and board.memory_bytes_per_s is not None:
        fill["memory_bytes_per_s"] = board.memory_bytes_per_s * compute.efficiency
    if "memory_gb" not in given:
        fill["memory_gb"] = board.memory_gb
    if "weight_bytes" not in given:
        fill["weight_bytes"] = PRECISION_BYTES[compute.precision]
    # The paper's defaults come out unchanged (7.28e9 x 1, 8 GB, 2 B): a float equal to the default.
    return dataclasses.replace(compute, **fill)


def resolve_power(power: "PowerSpec", hardware: str, given: set[str]) -> "PowerSpec":
    """``power`` with the board profile's idle and busy draw as ``compute_idle_w`` and
    ``compute_busy_w`` where the scenario did not write them (``given``: the power keys written in
    the file) and the board publishes them; else the section's own defaults stand."""
    board = BOARDS[hardware]
    fill = {key: value for key, value in (("compute_idle_w", board.idle_w), ("compute_busy_w", board.busy_w))
            if key not in given and value is not None}
    return dataclasses.replace(power, **fill) if fill else power
