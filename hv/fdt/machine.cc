#include <hv/fdt/machine.h>

#include "hv/fdt/internal/text.h"

namespace hv::fdt {
namespace {

// A string property that may be absent: "" then; kInvalidArgs if malformed.
Result<std::string_view> OptionalString(const Node& node, std::string_view name) {
  const Result<Property> prop = node.FindProperty(name);
  if (!prop.ok()) return std::string_view();
  return prop->AsString();
}

bool HasDeviceType(const Node& node, std::string_view type) {
  const Result<std::string_view> value = node.ReadString("device_type");
  return value.ok() && *value == type;
}

// The first `reg` entry of a device; a missing or empty `reg` is malformed.
Result<RegEntry> FirstReg(const Node& node) {
  const Result<RegList> reg = node.Reg();
  if (!reg.ok()) return reg.error() == Error::kNotFound ? Error::kInvalidArgs : reg.error();
  if (reg->empty()) return Error::kInvalidArgs;
  return reg->At(0);
}

bool IsCompatibleWithAny(const Node& node, std::span<const std::string_view> compatible) {
  for (const std::string_view c : compatible) {
    if (node.IsCompatible(c)) return true;
  }
  return false;
}

}  // namespace

Result<size_t> ReadMemory(const Fdt& fdt, std::span<RegEntry> out) {
  size_t count = 0;
  for (const Node node : fdt.root().children()) {
    if (!HasDeviceType(node, "memory") || !node.IsEnabled()) continue;
    const Result<RegList> reg = node.Reg();
    if (!reg.ok()) return reg.error() == Error::kNotFound ? Error::kInvalidArgs : reg.error();
    for (const RegEntry entry : *reg) {
      if (count == out.size()) return Error::kOutOfRange;
      out[count++] = entry;
    }
  }
  return count;
}

Result<size_t> ReadHarts(const Fdt& fdt, std::span<Hart> out) {
  const Node cpus = HV_TRY(fdt.root().FindChild("cpus"));
  size_t count = 0;
  for (const Node node : cpus.children()) {
    if (!HasDeviceType(node, "cpu")) continue;
    const Result<RegList> reg = node.Reg();
    if (!reg.ok()) return reg.error() == Error::kNotFound ? Error::kInvalidArgs : reg.error();
    if (reg->size() != 1) return Error::kInvalidArgs;
    const RegEntry id = HV_TRY(reg->At(0));
    const std::string_view isa = HV_TRY(OptionalString(node, "riscv,isa"));
    const std::string_view mmu_type = HV_TRY(OptionalString(node, "mmu-type"));
    if (count == out.size()) return Error::kOutOfRange;
    out[count++] = Hart{
        .hart_id = id.address,
        .isa = isa,
        .mmu_type = mmu_type,
        .enabled = node.IsEnabled(),
        .node = node,
    };
  }
  return count;
}

Result<uint64_t> ReadTimebaseFrequency(const Fdt& fdt) {
  const Node cpus = HV_TRY(fdt.root().FindChild("cpus"));
  if (cpus.HasProperty("timebase-frequency")) return cpus.ReadU32OrU64("timebase-frequency");
  for (const Node node : cpus.children()) {
    if (HasDeviceType(node, "cpu")) return node.ReadU32OrU64("timebase-frequency");
  }
  return Error::kNotFound;
}

Result<Chosen> ReadChosen(const Fdt& fdt) {
  const Node chosen = HV_TRY(fdt.root().FindChild("chosen"));
  std::string_view stdout_path = HV_TRY(OptionalString(chosen, "stdout-path"));
  if (!chosen.HasProperty("stdout-path")) {
    stdout_path = HV_TRY(OptionalString(chosen, "linux,stdout-path"));
  }
  return Chosen{
      .bootargs = HV_TRY(OptionalString(chosen, "bootargs")),
      .stdout_path = stdout_path,
  };
}

Result<Node> FindStdout(const Fdt& fdt) {
  const Chosen chosen = HV_TRY(ReadChosen(fdt));
  // "serial0:115200n8": the options after ':' are for the console driver.
  const std::string_view path = internal::Before(chosen.stdout_path, ':');
  if (path.empty()) return Error::kNotFound;
  return fdt.FindNode(path);
}

Result<Device> FindDevice(const Fdt& fdt, std::span<const std::string_view> compatible) {
  for (const std::string_view c : compatible) {
    for (const Node node : fdt.nodes()) {
      if (node.IsEnabled() && node.IsCompatible(c)) {
        return Device{.node = node, .reg = HV_TRY(FirstReg(node))};
      }
    }
  }
  return Error::kNotFound;
}

Result<size_t> FindDevices(const Fdt& fdt, std::span<const std::string_view> compatible,
                           std::span<Device> out) {
  size_t count = 0;
  for (const Node node : fdt.nodes()) {
    if (!node.IsEnabled() || !IsCompatibleWithAny(node, compatible)) continue;
    const Device device{.node = node, .reg = HV_TRY(FirstReg(node))};
    if (count == out.size()) return Error::kOutOfRange;
    // Insertion sort by address: device lists are short.
    size_t i = count++;
    for (; i > 0 && out[i - 1].reg.address > device.reg.address; --i) out[i] = out[i - 1];
    out[i] = device;
  }
  return count;
}

}  // namespace hv::fdt
