#!/usr/bin/env python3
"""Generate gpus.toml and prices.toml from the reference gpus.csv.

Run from the repository root:

    python3 crates/gpuplan-catalog/data/tools/gpus_from_csv.py data/reference/gpus.csv

The csv carries the vendor datasheet figures (dense tensor rates, bidirectional scale-up bandwidth,
prices). Everything the csv lacks (usable memory in GiB, architecture / compute capability, native
FP8/FP4, link latency, scale-out bandwidth, scale-up domain semantics, name aliases) is kept in the
AUGMENT table below, each value with its source, so that re-running this script reproduces the
shipped files exactly. Edit AUGMENT (not the generated files) when a fact changes.
"""

import csv
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT_GPUS = HERE.parent / "gpus.toml"
OUT_PRICES = HERE.parent / "prices.toml"

AIC = "aiconfigurator systems/{}.yaml"
AIC_LAT = "aiconfigurator p2p_latency 10 us ('nonofficial correction based on observations')"
EST_LAT = "estimated: same 10 us as aiconfigurator uses for every NVIDIA system; not measured on this part"

# Usable memory convention: memory_gib is what the CUDA/HIP runtime reports as total device memory
# (torch.cuda.get_device_properties().total_memory, the 'total capacity' in PyTorch OOM messages and
# vLLM logs). It is slightly below nvidia-smi's 'Total' (driver reservation, ~0.5-0.7 GiB on HBM parts)
# and, on GDDR parts with ECC enabled, 1/16 below the physical size.
# Vendor 'GB' for HBM/GDDR capacity is binary in practice (H100 '80GB' = 81920 MiB physical).
# Where no reported figure was found: estimate = nvidia-smi MiB / 1024 - 0.7 GiB, else memory_gb * 0.99.

AUGMENT = {
    "h100_sxm": dict(
        arch="hopper", cc=9.0, fp8=True, fp4=False, link="nvlink", lat=10.0, lat_src=AIC_LAT,
        mem_gib=79.19, mem_src="vLLM / torch total_memory for 'NVIDIA H100 80GB HBM3' = 79.19 GiB (nvidia-smi shows 81559 MiB = 79.65 GiB)",
        scale_out=50.0, scale_out_src=AIC.format("h100_sxm") + " inter_node_bw (1:1 CX7 NDR 400 Gb/s)",
        host=64.0,
        aliases=["H100", "H100 SXM", "H100 SXM5", "H100 80GB", "H100-SXM5-80GB", "NVIDIA H100 80GB HBM3", "NVIDIA H100 SXM5 80GB"],
    ),
    "h100_pcie": dict(
        arch="hopper", cc=9.0, fp8=True, fp4=False, link="nvlink", lat=10.0, lat_src=AIC_LAT,
        mem_gib=79.19, mem_src="estimated: same 80 GB HBM2e stack size as H100 SXM (nvidia-smi 81559 MiB); torch figure assumed equal to H100 SXM's 79.19 GiB",
        scale_out=50.0, scale_out_src=AIC.format("h100_pcie") + " inter_node_bw (assumes 1:1 400 Gb/s fabric)",
        host=64.0, domain_note="NVLink bridges are optional on PCIe cards; without a bridge, GPU pairs talk over PCIe Gen5 (64 GB/s per direction, as aiconfigurator h100_pcie.yaml assumes)",
        aliases=["H100 PCIe", "H100-PCIe", "H100 PCIe 80GB", "NVIDIA H100 PCIe"],
    ),
    "h100_nvl": dict(
        arch="hopper", cc=9.0, fp8=True, fp4=False, link="nvlink", lat=10.0, lat_src=EST_LAT,
        mem_gib=93.10, mem_src="PyTorch OOM messages on H100 NVL report 'total capacity of 93.09-93.10 GiB' (public logs); nvidia-smi shows 95830 MiB",
        scale_out=50.0, scale_out_src="estimated: 400 Gb/s NIC per GPU, as for H100 PCIe in aiconfigurator",
        host=64.0,
        aliases=["H100 NVL", "H100-NVL", "H100 NVL 94GB", "NVIDIA H100 NVL"],
    ),
    "h200_sxm": dict(
        arch="hopper", cc=9.0, fp8=True, fp4=False, link="nvlink", lat=10.0, lat_src=AIC_LAT,
        mem_gib=139.80, mem_src="torch total_memory for 'NVIDIA H200' = 139.80 GiB (PyTorch OOM messages on 8xH200 nodes); nvidia-smi shows 143771 MiB = 140.40 GiB",
        scale_out=50.0, scale_out_src=AIC.format("h200_sxm") + " inter_node_bw (1:1 CX7 NDR 400 Gb/s)",
        host=64.0,
        aliases=["H200", "H200 SXM", "H200 141GB", "NVIDIA H200", "NVIDIA H200 141GB HBM3e"],
    ),
    "h200_nvl": dict(
        arch="hopper", cc=9.0, fp8=True, fp4=False, link="nvlink", lat=10.0, lat_src=EST_LAT,
        mem_gib=139.80, mem_src="estimated: same GH100 + 141 GB HBM3e as H200 SXM (139.80 GiB reported by torch)",
        scale_out=50.0, scale_out_src="estimated: 400 Gb/s NIC per GPU",
        host=64.0,
        aliases=["H200 NVL", "H200-NVL", "NVIDIA H200 NVL"],
    ),
    "h20": dict(
        arch="hopper", cc=9.0, fp8=True, fp4=False, link="nvlink", lat=10.0, lat_src=EST_LAT,
        mem_gib=95.04, mem_src="estimated: 96 GB * 0.99 (no reported runtime figure found)",
        scale_out=50.0, scale_out_src="estimated: HGX H20 with CX7 NDR 400 Gb/s per GPU, like HGX H100",
        host=64.0,
        aliases=["H20", "H20 96GB", "NVIDIA H20"],
    ),
    "b200": dict(
        arch="blackwell", cc=10.0, fp8=True, fp4=True, link="nvlink", lat=10.0, lat_src=AIC_LAT,
        mem_gib=178.35, mem_src="torch total_memory for 'NVIDIA B200' = 178.35 GiB (PyTorch OOM messages on 8xB200 nodes); nvidia-smi ~183359 MiB; aiconfigurator b200_sxm.yaml uses 180 GiB",
        scale_out=100.0, scale_out_src=AIC.format("b200_sxm") + " inter_node_bw (1:1 CX8 XDR 800 Gb/s)",
        host=64.0,
        aliases=["B200", "B200 SXM", "HGX B200", "B200 180GB", "NVIDIA B200"],
    ),
    "b300": dict(
        arch="blackwell", cc=10.3, fp8=True, fp4=True, link="nvlink", lat=10.0, lat_src=AIC_LAT,
        mem_gib=267.89, mem_src="estimated: nvidia-smi 275040 MiB (" + AIC.format("b300_sxm") + " mem_capacity) = 268.59 GiB, minus the ~0.7 GiB runtime reservation seen on B200",
        scale_out=100.0, scale_out_src=AIC.format("b300_sxm") + " inter_node_bw (1:1 CX8 XDR 800 Gb/s)",
        host=128.0,
        aliases=["B300", "B300 SXM", "HGX B300", "Blackwell Ultra", "NVIDIA B300 SXM6 AC", "NVIDIA B300"],
    ),
    "gb200": dict(
        arch="blackwell", cc=10.0, fp8=True, fp4=True, link="nvlink", lat=10.0, lat_src=AIC_LAT,
        mem_gib=184.33, mem_src="estimated: nvidia-smi 189471 MiB (" + AIC.format("gb200") + " mem_capacity) = 185.03 GiB, minus ~0.7 GiB runtime reservation",
        scale_out=100.0, scale_out_src=AIC.format("gb200") + " inter_rack_bw (CX8 XDR 800 Gb/s between racks)",
        host=450.0, host_src="NVLink-C2C to Grace, 900 GB/s bidirectional / 2",
        aliases=["GB200", "GB200 NVL72", "GB200-NVL72", "NVIDIA GB200"],
    ),
    "gb300": dict(
        arch="blackwell", cc=10.3, fp8=True, fp4=True, link="nvlink", lat=10.0, lat_src=AIC_LAT,
        mem_gib=276.85, mem_src="estimated: nvidia-smi 284208 MiB (" + AIC.format("gb300") + " mem_capacity) = 277.55 GiB, minus ~0.7 GiB runtime reservation",
        scale_out=100.0, scale_out_src=AIC.format("gb300") + " inter_rack_bw (CX8 XDR 800 Gb/s between racks)",
        host=450.0, host_src="NVLink-C2C to Grace, assumed same 900 GB/s bidirectional as GB200",
        aliases=["GB300", "GB300 NVL72", "GB300-NVL72", "NVIDIA GB300"],
    ),
    "a100_sxm_80": dict(
        arch="ampere", cc=8.0, fp8=False, fp4=False, link="nvlink", lat=10.0, lat_src=AIC_LAT,
        mem_gib=79.15, mem_src="PyTorch OOM messages on A100 80GB report 'total capacity of 79.15 GiB' (public logs); nvidia-smi shows 81920 MiB",
        scale_out=25.0, scale_out_src=AIC.format("a100_sxm") + " inter_node_bw (1:1 CX6 200 Gb/s)",
        host=32.0,
        aliases=["A100", "A100 80GB", "A100 SXM", "A100 SXM4", "A100-80G", "A100-SXM4-80GB", "NVIDIA A100-SXM4-80GB", "NVIDIA A100 80GB"],
    ),
    "a100_sxm_40": dict(
        arch="ampere", cc=8.0, fp8=False, fp4=False, link="nvlink", lat=10.0, lat_src=AIC_LAT,
        mem_gib=39.39, mem_src="CUDA deviceQuery on 'NVIDIA A100-SXM4-40GB': 40339 MiB (42298834944 bytes) = 39.39 GiB",
        scale_out=25.0, scale_out_src="assumed same 1:1 200 Gb/s fabric as " + AIC.format("a100_sxm"),
        host=32.0,
        aliases=["A100 40GB", "A100-40G", "A100 SXM4 40GB", "A100-SXM4-40GB", "NVIDIA A100-SXM4-40GB"],
    ),
    "a100_pcie_80": dict(
        arch="ampere", cc=8.0, fp8=False, fp4=False, link="nvlink", lat=10.0, lat_src=AIC_LAT,
        mem_gib=79.15, mem_src="estimated: same 80 GB HBM2e as A100 SXM4 80GB (79.15 GiB reported by torch)",
        scale_out=25.0, scale_out_src=AIC.format("a100_pcie") + " inter_node_bw (assumes 1:1 200 Gb/s fabric)",
        host=32.0, domain_note="NVLink bridges are optional; without a bridge, GPU pairs talk over PCIe Gen4 (32 GB/s per direction, as aiconfigurator a100_pcie.yaml assumes)",
        aliases=["A100 PCIe", "A100 PCIe 80GB", "A100-PCIE-80GB", "NVIDIA A100 80GB PCIe", "NVIDIA A100-PCIE-80GB"],
    ),
    "a100_pcie_40": dict(
        arch="ampere", cc=8.0, fp8=False, fp4=False, link="nvlink", lat=10.0, lat_src=EST_LAT,
        mem_gib=39.39, mem_src="estimated: same 40 GB HBM2 as A100 SXM4 40GB (39.39 GiB per CUDA deviceQuery)",
        scale_out=25.0, scale_out_src="estimated: 1:1 200 Gb/s fabric as in " + AIC.format("a100_pcie"),
        host=32.0,
        aliases=["A100 PCIe 40GB", "A100-PCIE-40GB", "NVIDIA A100-PCIE-40GB"],
    ),
    "l40s": dict(
        arch="ada", cc=8.9, fp8=True, fp4=False, link="pcie", lat=10.0, lat_src=AIC_LAT,
        mem_gib=44.39, mem_src="PyTorch OOM messages on L40S report 'total capacity of 44.39-44.40 GiB' (ECC on); nvidia-smi / " + AIC.format("l40s") + " show 46068 MiB",
        scale_out=50.0, scale_out_src=AIC.format("l40s") + " inter_node_bw (1:1 CX7 NDR 400 Gb/s)",
        host=32.0, p2p=True,
        aliases=["L40S", "L40S 48GB", "NVIDIA L40S"],
    ),
    "l40": dict(
        arch="ada", cc=8.9, fp8=True, fp4=False, link="pcie", lat=10.0, lat_src=EST_LAT,
        mem_gib=44.39, mem_src="estimated: same 48 GB ECC GDDR6 board as L40S (44.39 GiB reported by torch)",
        scale_out=25.0, scale_out_src="estimated: 200 Gb/s NIC per GPU",
        host=32.0, p2p=True,
        aliases=["L40", "L40 48GB", "NVIDIA L40"],
    ),
    "l4": dict(
        arch="ada", cc=8.9, fp8=True, fp4=False, link="pcie", lat=10.0, lat_src=AIC_LAT,
        mem_gib=22.05, mem_src="PyTorch OOM messages on 24 GB ECC GDDR6 data-center cards (L4) report 'total capacity of 22.03-22.07 GiB'; nvidia-smi shows 23034 MiB",
        scale_out=25.0, scale_out_src=AIC.format("l4") + " inter_node_bw (assumes 1:1 200 Gb/s fabric)",
        host=32.0, p2p=True,
        aliases=["L4", "L4 24GB", "NVIDIA L4"],
    ),
    "a10": dict(
        arch="ampere", cc=8.6, fp8=False, fp4=False, link="pcie", lat=10.0, lat_src=EST_LAT,
        mem_gib=22.05, mem_src="estimated: 24 GB ECC GDDR6 like L4 (nvidia-smi 23028 MiB)",
        scale_out=3.125, scale_out_src="estimated: 25 Gb/s Ethernet per GPU (typical A10 cloud VMs); low confidence",
        host=32.0, p2p=True,
        aliases=["A10", "A10 24GB", "NVIDIA A10"],
    ),
    "a10g": dict(
        arch="ampere", cc=8.6, fp8=False, fp4=False, link="pcie", lat=10.0, lat_src=EST_LAT,
        mem_gib=22.05, mem_src="estimated: 24 GB ECC GDDR6 like A10 (nvidia-smi 23028 MiB)",
        scale_out=1.5625, scale_out_src="AWS g5.48xlarge: 100 Gb/s network shared by 8 GPUs = 12.5 GB/s / 8",
        host=32.0, p2p=True,
        aliases=["A10G", "NVIDIA A10G"],
    ),
    "t4": dict(
        arch="turing", cc=7.5, fp8=False, fp4=False, link="pcie", lat=10.0, lat_src=EST_LAT,
        mem_gib=14.75, mem_src="PyTorch OOM messages on T4 (Colab) report 'total capacity of 14.75 GiB' (ECC on); nvidia-smi shows 15360 MiB",
        scale_out=1.5625, scale_out_src="AWS g4dn.metal: 100 Gb/s network shared by 8 GPUs",
        host=16.0, p2p=True,
        aliases=["T4", "T4 16GB", "Tesla T4", "NVIDIA T4"],
    ),
    "v100_sxm2_32": dict(
        arch="volta", cc=7.0, fp8=False, fp4=False, link="nvlink", lat=10.0, lat_src=EST_LAT,
        mem_gib=31.74, mem_src="estimated: nvidia-smi 32768 MiB minus ~0.26 GiB runtime reservation (PyTorch OOM messages on V100 32GB commonly show ~31.74 GiB)",
        scale_out=6.25, scale_out_src="DGX-1V: 4x 100 Gb/s EDR InfiniBand for 8 GPUs",
        host=16.0, domain_note="DGX-1/HGX-1 V100 NVLink is a hybrid cube-mesh, not all-to-all: not every GPU pair has a direct link",
        aliases=["V100", "V100 SXM2", "V100 32GB", "V100-SXM2-32GB", "Tesla V100-SXM2-32GB"],
    ),
    "v100_pcie_32": dict(
        arch="volta", cc=7.0, fp8=False, fp4=False, link="pcie", lat=10.0, lat_src=EST_LAT,
        mem_gib=31.74, mem_src="estimated: same 32 GB HBM2 as V100 SXM2 32GB",
        scale_out=3.125, scale_out_src="estimated: 25 Gb/s Ethernet per GPU; low confidence",
        host=16.0, p2p=True,
        aliases=["V100 PCIe", "V100-PCIE-32GB", "Tesla V100-PCIE-32GB"],
    ),
    "rtx_4090": dict(
        arch="ada", cc=8.9, fp8=True, fp4=False, link="none", lat=20.0, lat_src="estimated: no P2P, so every transfer is staged through host memory (two PCIe hops)",
        mem_gib=23.65, mem_src="PyTorch OOM messages on RTX 4090 report 'total capacity of 23.65 GiB'; nvidia-smi shows 24564 MiB",
        scale_out=3.125, scale_out_src="estimated: 25 Gb/s Ethernet per GPU in consumer-GPU clouds; low confidence",
        host=32.0, p2p=False,
        aliases=["RTX 4090", "RTX4090", "4090", "GeForce RTX 4090", "NVIDIA GeForce RTX 4090"],
    ),
    "rtx_5090": dict(
        arch="blackwell", cc=12.0, fp8=True, fp4=True, link="none", lat=20.0, lat_src="estimated: no P2P on GeForce drivers, transfers staged through host memory",
        mem_gib=31.36, mem_src="estimated: nvidia-smi 32607 MiB minus ~0.5 GiB runtime reservation",
        scale_out=3.125, scale_out_src="estimated: 25 Gb/s Ethernet per GPU in consumer-GPU clouds; low confidence",
        host=64.0, p2p=False,
        aliases=["RTX 5090", "RTX5090", "5090", "GeForce RTX 5090", "NVIDIA GeForce RTX 5090"],
    ),
    "rtx_6000_ada": dict(
        arch="ada", cc=8.9, fp8=True, fp4=False, link="pcie", lat=10.0, lat_src=EST_LAT,
        mem_gib=47.40, mem_src="estimated: nvidia-smi 49140 MiB (ECC off) minus ~0.6 GiB runtime reservation",
        scale_out=12.5, scale_out_src="estimated: 100 Gb/s NIC per GPU; low confidence",
        host=32.0, p2p=True,
        aliases=["RTX 6000 Ada", "RTX6000 Ada", "RTX 6000 Ada Generation", "NVIDIA RTX 6000 Ada Generation"],
    ),
    "rtx_pro_6000_bw": dict(
        arch="blackwell", cc=12.0, fp8=True, fp4=True, link="pcie", lat=10.0, lat_src=AIC_LAT,
        mem_gib=94.97, mem_src="PyTorch OOM messages on 96 GB RTX PRO 6000 Blackwell report 'total capacity of 94.97 GiB'; nvidia-smi / " + AIC.format("rtx_pro_6000_server") + " 97887 MiB",
        scale_out=50.0, scale_out_src=AIC.format("rtx_pro_6000_server") + " inter_node_bw (conservative 400 Gb/s placeholder)",
        host=64.0, p2p=True,
        aliases=["RTX PRO 6000", "RTX PRO 6000 Blackwell", "RTX Pro 6000 Server", "RTX PRO 6000 Blackwell Server Edition", "NVIDIA RTX PRO 6000 Blackwell Server Edition"],
    ),
    "mi250x": dict(
        arch="cdna2", gfx="gfx90a", fp8=False, fp4=False, link="infinity_fabric", lat=10.0, lat_src="estimated: assumed similar to NVLink systems (aiconfigurator 10 us); not measured",
        mem_gib=127.96, mem_src="estimated: 2 GCDs x 63.98 GiB as ROCm reports per GCD (64 GiB HBM2e each, same ~0.02 GiB gap as MI300X)",
        scale_out=25.0, scale_out_src="HPE Cray EX (Frontier) node: 4x 200 Gb/s Slingshot NICs for 4 MI250X",
        host=32.0,
        aliases=["MI250X", "MI250", "Instinct MI250X", "AMD Instinct MI250X", "AMD Instinct MI250X/MI250"],
    ),
    "mi300x": dict(
        arch="cdna3", gfx="gfx942", fp8=True, fp4=False, link="infinity_fabric", lat=10.0, lat_src="estimated: assumed similar to NVLink systems (aiconfigurator 10 us); RCCL small-message floors are comparable to NCCL's",
        mem_gib=191.98, mem_src="PyTorch (ROCm) OOM messages on MI300X report 'total capacity of 191.98 GiB' (older ROCm: 191.69 GiB)",
        scale_out=50.0, scale_out_src="estimated: typical MI300X platforms carry one 400 Gb/s NIC per GPU",
        host=64.0, domain_note="Infinity Fabric is a fully connected mesh (7 links x 64 GB/s per direction), not a switch: one pair of GPUs only gets one link (SERVING_FACTS section 7)",
        aliases=["MI300X", "MI300", "Instinct MI300X", "AMD Instinct MI300X", "AMD Instinct MI300X OAM"],
    ),
    "mi325x": dict(
        arch="cdna3", gfx="gfx942", fp8=True, fp4=False, link="infinity_fabric", lat=10.0, lat_src="estimated: as MI300X",
        mem_gib=255.98, mem_src="estimated: 256 GiB HBM3E less the same ~0.02 GiB ROCm reports missing on MI300X",
        scale_out=50.0, scale_out_src="estimated: one 400 Gb/s NIC per GPU",
        host=64.0, domain_note="Fully connected Infinity Fabric mesh, as MI300X",
        aliases=["MI325X", "MI325", "Instinct MI325X", "AMD Instinct MI325X"],
    ),
    "mi355x": dict(
        arch="cdna4", gfx="gfx950", fp8=True, fp4=True, link="infinity_fabric", lat=10.0, lat_src="estimated: as MI300X",
        mem_gib=287.98, mem_src="estimated: 288 GiB HBM3E less the same ~0.02 GiB ROCm reports missing on MI300X",
        scale_out=50.0, scale_out_src="estimated: one 400 Gb/s NIC per GPU (8x 400G per node)",
        host=64.0, domain_note="Fully connected Infinity Fabric mesh, as MI300X",
        aliases=["MI355X", "MI355", "Instinct MI355X", "AMD Instinct MI355X"],
    ),
    "gaudi3": dict(
        arch="gaudi3", fp8=True, fp4=False, link="ethernet", lat=10.0, lat_src="estimated: RoCE v2 one-way latency is a few us; 10 us used like the NVLink systems, not measured",
        mem_gib=126.72, mem_src="estimated: 128 GB * 0.99",
        bw_override=525.0, bw_src="HLS-2 / Gaudi 3 baseboard: 21 of the 24 x 200 GbE ports form the all-to-all in-node fabric = 4200 Gb/s = 525 GB/s per direction (csv 1200 GB/s bidirectional counts all 24 ports)",
        scale_out=75.0, scale_out_src="Gaudi 3 white paper: 3 of the 24 x 200 GbE ports per accelerator go to scale-out = 600 Gb/s = 75 GB/s per direction",
        host=64.0,
        aliases=["Gaudi3", "Gaudi 3", "HL-325L", "Intel Gaudi 3", "Intel Gaudi3", "HL-325L OAM"],
    ),
    "tpu_v5e": dict(
        arch="tpu_v5e", fp8=False, fp4=False, link="ici", lat=5.0, lat_src="estimated: ICI is a direct chip-to-chip torus; unverified",
        mem_gib=15.84, mem_src="estimated: 16 GB * 0.99",
        scale_out=3.125, scale_out_src="estimated: ~200 Gb/s data-center network per 8-chip host; unverified, and rarely used because a 256-chip pod is one ICI domain",
        host=32.0, host_src="estimated: PCIe Gen4 x16 to the host; unverified",
        aliases=["TPU v5e", "v5e", "TPUv5e", "TPU v5 lite", "TPU v5litepod", "v5litepod"],
    ),
    "tpu_v6e": dict(
        arch="tpu_v6e", fp8=False, fp4=False, link="ici", lat=5.0, lat_src="estimated: ICI is a direct chip-to-chip torus; unverified",
        mem_gib=31.68, mem_src="estimated: 32 GB * 0.99",
        scale_out=6.25, scale_out_src="estimated: ~400 Gb/s data-center network per 8-chip host; unverified",
        host=32.0, host_src="estimated: PCIe Gen4 x16 to the host; unverified",
        aliases=["TPU v6e", "v6e", "TPUv6e", "Trillium", "TPU v6 lite", "TPU Trillium"],
    ),
    "rtx_3090": dict(
        arch="ampere", cc=8.6, fp8=False, fp4=False, link="none", lat=20.0, lat_src="estimated: no P2P, so every transfer is staged through host memory (two PCIe hops)",
        mem_gib=23.69, mem_src="PyTorch OOM messages on RTX 3090 report '23.69 GiB total capacity'; nvidia-smi shows 24576 MiB",
        scale_out=3.125, scale_out_src="estimated: 25 Gb/s Ethernet per GPU in consumer-GPU clouds; low confidence",
        host=32.0, p2p=False,
        aliases=["RTX 3090", "RTX3090", "3090", "GeForce RTX 3090", "NVIDIA GeForce RTX 3090"],
    ),
    "rtx_a6000": dict(
        arch="ampere", cc=8.6, fp8=False, fp4=False, link="nvlink", lat=10.0, lat_src=EST_LAT,
        mem_gib=47.40, mem_src="estimated: nvidia-smi 49140 MiB (ECC off) minus ~0.6 GiB runtime reservation, as for RTX 6000 Ada",
        scale_out=12.5, scale_out_src="estimated: 100 Gb/s NIC per GPU; low confidence",
        host=32.0, domain_note="The NVLink bridge is optional and joins two cards; without it, GPUs talk over PCIe Gen4",
        aliases=["RTX A6000", "A6000", "RTXA6000", "NVIDIA RTX A6000"],
    ),
    "a40": dict(
        arch="ampere", cc=8.6, fp8=False, fp4=False, link="nvlink", lat=10.0, lat_src=EST_LAT,
        mem_gib=44.39, mem_src="estimated: same 48 GB ECC GDDR6 as L40S (44.39 GiB reported by torch with ECC on)",
        scale_out=25.0, scale_out_src="estimated: 200 Gb/s NIC per GPU",
        host=32.0, domain_note="The NVLink bridge is optional and joins two cards; without it, GPUs talk over PCIe Gen4",
        aliases=["A40", "A40 48GB", "NVIDIA A40"],
    ),
    "a30": dict(
        arch="ampere", cc=8.0, fp8=False, fp4=False, link="nvlink", lat=10.0, lat_src=EST_LAT,
        mem_gib=23.76, mem_src="estimated: 24 GB * 0.99 (no reported runtime figure found)",
        scale_out=25.0, scale_out_src="estimated: 200 Gb/s NIC per GPU",
        host=32.0, domain_note="The NVLink bridge is optional and joins two cards; without it, GPUs talk over PCIe Gen4",
        aliases=["A30", "A30 24GB", "NVIDIA A30"],
    ),
    "l20": dict(
        arch="ada", cc=8.9, fp8=True, fp4=False, link="pcie", lat=10.0, lat_src=EST_LAT,
        mem_gib=44.39, mem_src="estimated: same 48 GB ECC GDDR6 board as L40S (44.39 GiB reported by torch)",
        scale_out=25.0, scale_out_src="estimated: 200 Gb/s network per GPU, as for L40S (taoguba.com.cn/Article/2551318)",
        host=32.0, p2p=True,
        aliases=["L20", "L20 48GB", "NVIDIA L20"],
    ),
    "h800": dict(
        arch="hopper", cc=9.0, fp8=True, fp4=False, link="nvlink", lat=10.0, lat_src=EST_LAT,
        mem_gib=79.19, mem_src="estimated: same 80 GB HBM3 as H100 SXM5 (79.19 GiB reported by torch)",
        scale_out=50.0, scale_out_src="estimated: HGX H800 with CX7 NDR 400 Gb/s per GPU, like HGX H100",
        host=64.0,
        aliases=["H800", "H800 SXM", "H800 80GB", "NVIDIA H800"],
    ),
    "a800_sxm_80": dict(
        arch="ampere", cc=8.0, fp8=False, fp4=False, link="nvlink", lat=10.0, lat_src=EST_LAT,
        mem_gib=79.15, mem_src="estimated: same 80 GB HBM2e as A100 SXM4 80GB (79.15 GiB reported by torch)",
        scale_out=25.0, scale_out_src="estimated: 1:1 200 Gb/s fabric, as for A100 SXM",
        host=32.0,
        aliases=["A800", "A800 80GB", "A800 SXM", "A800-SXM4-80GB", "NVIDIA A800-SXM4-80GB", "NVIDIA A800 80GB"],
    ),
    "mi210": dict(
        arch="cdna2", gfx="gfx90a", fp8=False, fp4=False, link="infinity_fabric", lat=10.0, lat_src="estimated: assumed similar to NVLink systems (aiconfigurator 10 us); not measured",
        mem_gib=63.98, mem_src="estimated: 64 GiB HBM2e as ROCm reports per MI250X GCD (63.98 GiB)",
        scale_out=12.5, scale_out_src="estimated: 100 Gb/s NIC per GPU; low confidence",
        host=32.0, domain_note="Infinity Fabric bridges join up to four cards; without them, GPUs talk over PCIe Gen4",
        aliases=["MI210", "Instinct MI210", "AMD Instinct MI210"],
    ),
}

LINK_NAMES_NO_SCALEUP = {"none": "none (no peer-to-peer)", "pcie": "PCIe peer-to-peer"}


def num(cell):
    cell = cell.strip()
    return float(cell) if cell else None


def first_int(cell):
    m = re.match(r"\s*(\d+)", cell)
    if not m:
        raise ValueError(f"no integer in {cell!r}")
    return int(m.group(1))


def pcie_name(host_interface):
    return host_interface.split("(")[0].strip()


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        r = repr(v)
        return r if ("." in r or "e" in r) else r + ".0"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(v)


def emit_table(lines, header, table):
    lines.append(header)
    for k, v in table.items():
        if v is None:
            continue
        key = k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k)
        lines.append(f"{key} = {toml_value(v)}")


def build_gpu(row):
    gid = row["id"]
    a = AUGMENT[gid]
    vendor = row["vendor"].lower()
    bidir = num(row["scaleup_bw_gbs_bidir"])
    notes = [row["notes"].strip()] if row["notes"].strip() else []
    field_sources = {
        "memory_gib": a["mem_src"],
        "scale_up.latency_us": a["lat_src"],
        "scale_out_gb_s_per_gpu": a["scale_out_src"],
    }
    link = a["link"]
    gpus_per_node = first_int(row["max_gpus_per_node"])
    if link in ("pcie", "none"):
        # The csv counts these as a 1-GPU domain because they have no NVLink. Here the domain counts
        # GPUs reachable peer-to-peer, so data-center PCIe cards span the node (over PCIe) and GeForce
        # parts without P2P stay at 1.
        p2p = a.get("p2p", False)
        bw = a["host"] if p2p else 0.0
        name = f"{pcie_name(row['host_interface'])} peer-to-peer" if p2p else "none (no peer-to-peer)"
        kind = "pcie" if p2p else "none"
        domain = gpus_per_node if p2p else 1
        field_sources["scale_up"] = (
            "csv lists no scale-up fabric (domain 1); modelled as PCIe peer-to-peer across the node at the host link's per-direction rate"
            if p2p else "csv: no NVLink and no peer-to-peer over PCIe; GPU-to-GPU traffic is staged through host memory"
        )
    else:
        kind = link
        name = row["scaleup_interconnect"]
        bw = a.get("bw_override", bidir / 2.0)
        field_sources["scale_up.bandwidth_gb_s_per_direction"] = a.get(
            "bw_src", f"csv scaleup_bw_gbs_bidir {bidir:g} GB/s / 2")
        domain = first_int(row["scaleup_domain_gpus"])
    if "domain_note" in a:
        notes.append(a["domain_note"])
    field_sources["host_link_gb_s_per_direction"] = a.get(
        "host_src", f"csv host_interface '{row['host_interface']}', per direction")
    if vendor == "amd":
        field_sources["arch"] = f"AMD {a['arch'].upper()} ({a['gfx']})"
    gpu = {
        "id": gid,
        "vendor": vendor,
        "name": row["name"],
        "aliases": a["aliases"],
        "form_factor": row["form_factor"],
        "arch": a["arch"],
        "compute_capability": a.get("cc"),
        "gfx_target": a.get("gfx"),
        "memory_gb": num(row["memory_gb"]),
        "memory_gib": a["mem_gib"],
        "memory_type": row["memory_type"],
        "memory_bandwidth_gb_s": round(num(row["mem_bw_tbs"]) * 1000.0, 4),
        "native_fp8": a["fp8"],
        "native_fp4": a["fp4"],
        "gpus_per_node": gpus_per_node,
        "scale_up_domain": domain,
        "scale_out_gb_s_per_gpu": a["scale_out"],
        "host_interface": row["host_interface"],
        "host_link_gb_s_per_direction": a["host"],
        "tdp_w": num(row["tdp_w"]),
        "confidence": row["confidence"],
        "source": row["spec_source"],
        "corroborated_by": row["corroborated_by"],
        "notes": " | ".join(notes),
    }
    peak = {
        "fp32_tflops": num(row["fp32_tflops"]),
        "tf32_tflops": num(row["tf32_tflops_dense"]),
        "bf16_tflops": num(row["bf16_tflops_dense"]),
        "fp16_tflops": num(row["fp16_tflops_dense"]),
        "fp8_tflops": num(row["fp8_tflops_dense"]),
        "int8_tops": num(row["int8_tops_dense"]),
        "fp4_tflops": num(row["fp4_tflops_dense"]),
    }
    scale_up = {
        "kind": kind,
        "name": name,
        "bandwidth_gb_s_per_direction": float(bw),
        "latency_us": a["lat"],
    }
    return gpu, peak, scale_up, field_sources


def main():
    csv_path = Path(sys.argv[1] if len(sys.argv) > 1 else "data/reference/gpus.csv")
    rows = list(csv.DictReader(csv_path.open(newline="")))
    missing = {r["id"] for r in rows} ^ set(AUGMENT)
    if missing:
        sys.exit(f"csv ids and AUGMENT keys differ: {sorted(missing)}")

    lines = [
        "# GPU / accelerator catalog for gpuplan. GENERATED by data/tools/gpus_from_csv.py from",
        "# data/reference/gpus.csv; edit the script's AUGMENT table and re-run rather than editing here.",
        "#",
        "# Units: memory_gb = vendor capacity (as marketed); memory_gib = total device memory as the",
        "# CUDA/HIP runtime reports it (torch total_memory); bandwidths in GB/s (1e9 B/s); peak rates are",
        "# DENSE (no 2:4 sparsity) TFLOPS / TOPS; link bandwidths are PER DIRECTION; latency in",
        "# microseconds; tdp_w in watts. `source` is the csv spec_source; `field_sources` says where",
        "# fields that the csv lacks came from. Prices live in prices.toml.",
    ]
    for row in rows:
        gpu, peak, scale_up, field_sources = build_gpu(row)
        lines.append("")
        emit_table(lines, "[[gpu]]", gpu)
        emit_table(lines, "[gpu.peak]", peak)
        emit_table(lines, "[gpu.scale_up]", scale_up)
        emit_table(lines, "[gpu.field_sources]", field_sources)
    OUT_GPUS.write_text("\n".join(lines) + "\n")

    plines = [
        "# Hourly on-demand prices per GPU (USD per GPU-hour). GENERATED by data/tools/gpus_from_csv.py",
        "# from data/reference/gpus.csv. Prices move monthly and differ 3-5x between hyperscalers and",
        "# neoclouds; most of these come from secondary pages or serverless rate tables (see `source`).",
        "# Override them with [[price]] entries in your own catalog file.",
    ]
    for row in rows:
        price = num(row["price_usd_per_gpu_hr"])
        if price is None:
            continue
        plines.append("")
        emit_table(plines, "[[price]]", {
            "gpu_id": row["id"],
            "usd_per_hour": price,
            "source": row["price_source"],
            "as_of": row["price_date"] or "undated",
        })
    OUT_PRICES.write_text("\n".join(plines) + "\n")
    print(f"wrote {OUT_GPUS} ({len(rows)} GPUs) and {OUT_PRICES}")


if __name__ == "__main__":
    main()
