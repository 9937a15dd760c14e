// What a hypervisor reads from the device tree its firmware hands it: RAM,
// harts and their timebase, /chosen, and devices found by compatible string.
// All of it is read from a validated Fdt, so the only failures are about
// contents: a property of the wrong form (kInvalidArgs), a missing node or
// property (kNotFound), or more results than the caller's array holds
// (kOutOfRange). Nothing allocates; results point into the blob.
#ifndef HV_FDT_MACHINE_H_
#define HV_FDT_MACHINE_H_

#include <hv/base/result.h>
#include <hv/base/std.h>
#include <hv/fdt/fdt.h>

namespace hv::fdt {

// Compatible strings of the devices of QEMU's virt machine, most specific
// first (for FindDevice).
inline constexpr std::string_view kNs16550aCompatible[] = {"ns16550a"};
inline constexpr std::string_view kPlicCompatible[] = {"sifive,plic-1.0.0", "riscv,plic0"};
inline constexpr std::string_view kVirtioMmioCompatible[] = {"virtio,mmio"};
inline constexpr std::string_view kTestDeviceCompatible[] = {"sifive,test0", "syscon"};

// RAM: the `reg` entries of every enabled child of the root whose
// device_type is "memory", in blob order, written to `out`. Returns how many
// were written: kOutOfRange if they do not fit in `out`, kInvalidArgs if a
// memory node's `reg` is missing or malformed. Zero ranges is not an error.
Result<size_t> ReadMemory(const Fdt& fdt, std::span<RegEntry> out);

// A RISC-V hart: a /cpus child whose device_type is "cpu".
struct Hart {
  uint64_t hart_id;           // its `reg`
  std::string_view isa;       // `riscv,isa`, or "" if absent
  std::string_view mmu_type;  // `mmu-type` ("riscv,sv39"...), or "" if absent
  bool enabled;               // `status` is absent, "okay" or "ok"
  Node node;
};

// The harts under /cpus in blob order, disabled ones included, written to
// `out`. Returns how many: kNotFound without /cpus, kOutOfRange if they do
// not fit, kInvalidArgs if a hart's `reg` is not exactly one entry or a
// string property is malformed.
Result<size_t> ReadHarts(const Fdt& fdt, std::span<Hart> out);

// `timebase-frequency` of /cpus, or else of the first hart (one or two
// cells): kNotFound if neither has it, kInvalidArgs if malformed.
Result<uint64_t> ReadTimebaseFrequency(const Fdt& fdt);

// /chosen: strings are "" when the property is absent.
struct Chosen {
  std::string_view bootargs;
  std::string_view stdout_path;  // `stdout-path` (or `linux,stdout-path`)
};

// kNotFound without /chosen; kInvalidArgs if a property is not a string.
Result<Chosen> ReadChosen(const Fdt& fdt);

// The node /chosen's stdout-path names, after dropping any ":options"
// suffix and resolving an alias: kNotFound if there is none (or it names
// no node), kInvalidArgs if it is malformed.
Result<Node> FindStdout(const Fdt& fdt);

// A memory-mapped device and its first `reg` entry.
struct Device {
  Node node;
  RegEntry reg;
};

// The first enabled node compatible with `compatible[0]`; if there is none,
// with `compatible[1]`; and so on. kNotFound if no string matches;
// kInvalidArgs if the node found has no usable `reg`.
Result<Device> FindDevice(const Fdt& fdt, std::span<const std::string_view> compatible);

// Every enabled node compatible with any of `compatible`, sorted by address,
// written to `out`. Returns how many: kOutOfRange if they do not fit,
// kInvalidArgs if one has no usable `reg`.
Result<size_t> FindDevices(const Fdt& fdt, std::span<const std::string_view> compatible,
                           std::span<Device> out);

}  // namespace hv::fdt

#endif  // HV_FDT_MACHINE_H_
