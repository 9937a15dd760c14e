#include "testing/guests/riscv64/virtio_guest_support.h"

#include <board/config.h>
#include <devices/driver/virtio_driver.h>
#include <devices/virtio.h>
#include <devices/virtio_mmio.h>
#include <hv/fdt/fdt.h>
#include <hv/fdt/machine.h>
#include <ktest/ktest.h>

namespace hv::guests {
namespace {

namespace mmio = devices::virtio::mmio;

std::optional<VirtioMachine> g_machine;
std::optional<devices::driver::IdentityMappedRam> g_ram;

Result<fdt::Fdt> BootTree() {
  // SAFETY: the hypervisor passes the device tree's guest-physical address
  // in a1 and the MMU is off: it is a valid pointer. The header's
  // totalsize bounds the span; Fdt::Create validates the rest.
  const auto* blob = reinterpret_cast<const std::byte*>(ktest::Boot().firmware_table);
  const uint32_t total = (static_cast<uint32_t>(blob[4]) << 24) |
                         (static_cast<uint32_t>(blob[5]) << 16) |
                         (static_cast<uint32_t>(blob[6]) << 8) | static_cast<uint32_t>(blob[7]);
  return fdt::Fdt::Create(std::span(blob, total));
}

}  // namespace

const VirtioSlot* VirtioMachine::Find(uint32_t device_id) const {
  for (size_t i = 0; i < num_slots; ++i) {
    if (slots[i].device_id == device_id) return &slots[i];
  }
  return nullptr;
}

const VirtioMachine* ProbeVirtioMachine() {
  if (g_machine.has_value()) return &*g_machine;
  Result<fdt::Fdt> fdt = BootTree();
  if (!fdt.ok()) return nullptr;
  VirtioMachine m;
  std::array<fdt::RegEntry, 1> memory;
  if (fdt::ReadMemory(*fdt, memory).value_or(0) != 1) return nullptr;
  m.ram_base = memory[0].address;
  m.ram_size = memory[0].size;
  std::array<fdt::Device, 8> nodes;
  const Result<size_t> found = fdt::FindDevices(*fdt, fdt::kVirtioMmioCompatible, nodes);
  if (!found.ok()) return nullptr;
  m.num_slots = *found;
  for (size_t i = 0; i < m.num_slots; ++i) {
    VirtioSlot& slot = m.slots[i];
    slot.base = nodes[i].reg.address;
    slot.size = nodes[i].reg.size;
    slot.irq = nodes[i].node.ReadU32("interrupts").value_or(0);
    devices::driver::MmioWindow regs(slot.base, slot.size);
    devices::driver::VirtioMmioDriver probe(regs);
    if (probe.ReadReg(mmio::kMagicValue).value_or(0) == mmio::kMagic &&
        probe.ReadReg(mmio::kVersion).value_or(0) == mmio::kVersion2) {
      slot.device_id = probe.ReadReg(mmio::kDeviceId).value_or(0);
    }
  }
  g_ram.emplace(GuestPhysAddr(m.ram_base), m.ram_size);
  g_machine = m;
  return &*g_machine;
}

const devices::driver::IdentityMappedRam& GuestRam() {
  HV_CHECK(g_ram.has_value(), "GuestRam before ProbeVirtioMachine");
  return *g_ram;
}

GuestPlic::GuestPlic() : regs_(board::kPlicBase, 0x60'0000) {}

void GuestPlic::SetPriority(uint32_t source, uint32_t priority) {
  Write(4 * uint64_t{source}, priority);
}

void GuestPlic::Enable(uint32_t context, uint32_t source, bool on) {
  const uint64_t word = 0x2000 + 0x80 * uint64_t{context} + 4 * uint64_t{source / 32};
  const auto bits = static_cast<uint32_t>(regs_.Read(word, 4).value());
  const uint32_t bit = 1u << (source % 32);
  Write(word, on ? bits | bit : bits & ~bit);
}

void GuestPlic::SetThreshold(uint32_t context, uint32_t threshold) {
  Write(0x20'0000 + 0x1000 * uint64_t{context}, threshold);
}

uint32_t GuestPlic::Claim(uint32_t context) {
  return static_cast<uint32_t>(regs_.Read(0x20'0004 + 0x1000 * uint64_t{context}, 4).value());
}

void GuestPlic::Complete(uint32_t context, uint32_t source) {
  Write(0x20'0004 + 0x1000 * uint64_t{context}, source);
}

void GuestPlic::Write(uint64_t offset, uint32_t value) {
  HV_CHECK(regs_.Write(offset, 4, value).ok(), "PLIC register %#lx", offset);
}

}  // namespace hv::guests
