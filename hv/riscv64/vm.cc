#include <hv/base/format.h>
#include <hv/fdt/fdt.h>
#include <hv/fdt/machine.h>
#include <hv/riscv64/vm.h>

namespace hv::riscv64 {
namespace {

// QEMU puts the device tree at the end of RAM, 2 MiB-aligned; so do we.
constexpr uint64_t kDtbAlignment = uint64_t{2} << 20;
constexpr size_t kMaxVirtioSlots = 8;

bool InRange(GuestPhysAddr base, uint64_t size, GuestPhysAddr at, uint64_t len) {
  return at.value() >= base.value() && len <= size && at.value() - base.value() <= size - len;
}

}  // namespace

Result<Vm*> Vm::Create(std::optional<Vm>& slot, const VmConfig& config,
                       const VmResources& resources) {
  HV_CHECK(!slot.has_value(), "Vm::Create into an occupied slot");
  if (config.vcpus == 0) return Error::kInvalidArgs;
  if (config.vcpus > kMaxVcpus) return Error::kUnsupported;
  if (config.ram_size == 0 || config.ram_size % mm::kPageSize != 0 ||
      !config.ram_base.IsAligned(mm::kPageSize) || !config.ram_base.CheckedAdd(config.ram_size)) {
    return Error::kInvalidArgs;
  }

  // The device tree must describe the machine the config asks for.
  const fdt::Fdt fdt = HV_TRY(fdt::Fdt::Create(config.dtb));
  std::array<fdt::RegEntry, 2> memory;
  const size_t ranges = HV_TRY(fdt::ReadMemory(fdt, memory));
  if (ranges != 1 || memory[0] != fdt::RegEntry{config.ram_base.value(), config.ram_size}) {
    return Error::kInvalidArgs;
  }
  std::array<fdt::Hart, kMaxVcpus> harts;
  Result<size_t> num_harts = fdt::ReadHarts(fdt, harts);
  if (!num_harts.ok()) {
    return num_harts.error() == Error::kOutOfRange ? Error::kUnsupported : num_harts.error();
  }
  if (*num_harts != config.vcpus) return Error::kInvalidArgs;
  for (size_t i = 0; i < *num_harts; ++i) {
    if (harts[i].hart_id != i) return Error::kInvalidArgs;
  }
  const fdt::Device uart = HV_TRY(fdt::FindDevice(fdt, fdt::kNs16550aCompatible));
  const uint32_t uart_irq = HV_TRY(uart.node.ReadU32("interrupts"));
  if (uart_irq == 0 || uart_irq > devices::Plic::kSources) return Error::kInvalidArgs;
  const fdt::Device plic = HV_TRY(fdt::FindDevice(fdt, fdt::kPlicCompatible));
  if (plic.reg.size < devices::Plic::kSize) return Error::kInvalidArgs;
  std::array<fdt::Device, kMaxVirtioSlots> virtio;
  const size_t num_virtio = HV_TRY(fdt::FindDevices(fdt, fdt::kVirtioMmioCompatible, virtio));
  std::array<VirtioDevices::Slot, kMaxVirtioSlots> slots;
  for (size_t i = 0; i < num_virtio; ++i) {
    // A slot without a usable interrupt can only stay empty (checked when
    // the config puts a device there).
    slots[i] = VirtioDevices::Slot{GuestPhysAddr(virtio[i].reg.address), virtio[i].reg.size,
                                   virtio[i].node.ReadU32("interrupts").value_or(0)};
  }

  GuestSpace space = HV_TRY(
      GuestSpace::Create(resources.frames, resources.phys, resources.hgatp_mmu, resources.vmid));
  slot.emplace(Key(), config, std::move(space), config.vcpus, uart_irq, resources.console_out);
  Result<void> setup =
      slot->Setup(config, resources, GuestPhysAddr(uart.reg.address), uart.reg.size,
                  GuestPhysAddr(plic.reg.address), std::span(slots).first(num_virtio));
  if (!setup.ok()) {
    slot.reset();
    return setup.error();
  }
  return &*slot;
}

Vm::Vm(Key, const VmConfig& config, GuestSpace space, uint32_t vcpus, uint32_t uart_irq,
       devices::CharSink& console_out)
    : name_(config.name),
      image_(config.image),
      image_gpa_(config.image_gpa),
      dtb_(config.dtb),
      entry_(config.entry),
      max_reboots_(config.max_reboots),
      space_(std::move(space)),
      console_(config.name, console_out),
      plic_(2 * vcpus, this),
      uart_(console_, devices::IrqLine(&plic_, uart_irq)),
      virtio_(config.name, space_, plic_, console_),
      num_vcpus_(vcpus) {
  for (uint32_t i = 0; i < vcpus; ++i) vcpus_[i].emplace(*this, i);
}

Vm::~Vm() { space_.space().Deactivate(); }

Result<void> Vm::Setup(const VmConfig& config, const VmResources& resources, GuestPhysAddr uart,
                       uint64_t uart_size, GuestPhysAddr plic,
                       std::span<const VirtioDevices::Slot> virtio_slots) {
  const uint64_t ram_end = config.ram_base.value() + config.ram_size;
  if (config.dtb.size() > config.ram_size) return Error::kInvalidArgs;
  const GuestPhysAddr dtb_gpa((ram_end - config.dtb.size()) & ~(kDtbAlignment - 1));
  if (dtb_gpa.value() < config.ram_base.value()) return Error::kInvalidArgs;
  // The image must lie in RAM below the device tree; the entry inside it.
  if (!InRange(config.ram_base, dtb_gpa.value() - config.ram_base.value(), config.image_gpa,
               config.image.size()) ||
      !InRange(config.image_gpa, config.image.size(), config.entry, 2)) {
    return Error::kInvalidArgs;
  }
  // Virtio devices go in slots of the tree that have an interrupt, one each.
  const auto find_slot = [&](GuestPhysAddr base) -> const VirtioDevices::Slot* {
    for (const VirtioDevices::Slot& slot : virtio_slots) {
      if (slot.base == base && slot.irq != 0 && slot.irq <= devices::Plic::kSources) return &slot;
    }
    return nullptr;
  };
  const VirtioDevices::Slot* blk_slot = nullptr;
  const VirtioDevices::Slot* console_slot = nullptr;
  if (config.virtio_blk.has_value()) {
    blk_slot = find_slot(config.virtio_blk->slot);
    if (blk_slot == nullptr) return Error::kInvalidArgs;
  }
  if (config.virtio_console.has_value()) {
    console_slot = find_slot(config.virtio_console->slot);
    if (console_slot == nullptr || console_slot == blk_slot ||
        config.virtio_console->input.size() > devices::VirtioConsole::kInputBufferSize ||
        config.virtio_console->input_after.size() > VirtioConsoleConfig::kMaxInputAfter) {
      return Error::kInvalidArgs;
    }
  }

  HV_TRY(space_.MapRam(config.ram_base, config.ram_size));
  if (!space_.WriteBuffer(config.image_gpa, config.image).ok() ||
      !space_.WriteBuffer(dtb_gpa, config.dtb).ok()) {
    return Error::kInvalidArgs;
  }

  HV_TRY(bus_.Register(uart, uart_size, &uart_));
  HV_TRY(bus_.Register(plic, devices::Plic::kSize, &plic_));
  if (blk_slot != nullptr) HV_TRY(AddVirtioBlk(*config.virtio_blk, *blk_slot, resources));
  if (console_slot != nullptr) {
    HV_TRY(virtio_.AddConsole(*console_slot, config.virtio_console->input,
                              config.virtio_console->input_after, bus_));
  }
  for (const VirtioDevices::Slot& slot : virtio_slots) {
    if (&slot == blk_slot || &slot == console_slot) continue;
    HV_TRY(bus_.Register(slot.base, slot.size, &empty_slot_));
  }
  dtb_gpa_ = dtb_gpa;
  vcpus_[0]->Start(config.entry, dtb_gpa.value());
  return Ok();
}

bool Vm::Reboot() {
  if (ended() || reboots_ >= max_reboots_) return false;
  ++reboots_;
  for (uint32_t i = 0; i < num_vcpus_; ++i) vcpus_[i]->Stop();
  console_.Flush();
  Printf("hv: VM %.*s: reboot %u of at most %u\n", static_cast<int>(name_.size()), name_.data(),
         reboots_, max_reboots_);
  // Devices first, so that no interrupt of the old run reaches the new one.
  virtio_.Reset();
  uart_.Reset();
  plic_.Reset();
  // Both fitted at creation, in RAM that is still mapped.
  HV_CHECK(space_.WriteBuffer(image_gpa_, image_).ok() && space_.WriteBuffer(dtb_gpa_, dtb_).ok(),
           "VM %.*s: reloading its image failed", static_cast<int>(name_.size()), name_.data());
  vcpus_[0]->Start(entry_, dtb_gpa_.value());
  return true;
}

Result<void> Vm::AddVirtioBlk(const VirtioBlkConfig& config, const VirtioDevices::Slot& slot,
                              const VmResources& resources) {
  static_assert(VirtioBlkConfig::kMaxCapacity == mm::PageSizeAt(2));
  if (config.capacity == 0 || config.capacity % devices::BlockBackend::kSectorSize != 0 ||
      config.capacity > VirtioBlkConfig::kMaxCapacity || config.image.size() > config.capacity) {
    return Error::kInvalidArgs;
  }
  disk_frame_ = HV_TRY(resources.frames.Alloc(2));
  // SAFETY: the frame was just allocated (ours alone) and the direct map
  // covers it; capacity <= its 2 MiB.
  auto* disk = static_cast<std::byte*>(resources.phys.PhysToVirt(disk_frame_.paddr()));
  __builtin_memset(disk, 0, config.capacity);
  if (!config.image.empty()) {
    // SAFETY: image.size() <= capacity; the image is the config's (static
    // data), distinct from the fresh frame.
    __builtin_memcpy(disk, config.image.data(), config.image.size());
  }
  return virtio_.AddBlock(slot, std::span(disk, config.capacity), config.read_only, config.serial,
                          bus_);
}

void Vm::End(const VmOutcome& outcome) {
  if (ended()) return;
  outcome_ = outcome;
  outcome_.reboots = reboots_;
  for (uint32_t i = 0; i < num_vcpus_; ++i) vcpus_[i]->Stop();
  console_.Flush();
  char text[128];
  Printf("hv: VM %.*s ended: %s\n", static_cast<int>(name_.size()), name_.data(),
         DescribeOutcome(outcome_, text));
  virtio_.PrintReport();
}

void Vm::SetExternalInterrupt(uint32_t context, bool pending) {
  if (context % 2 == 0 || context / 2 >= num_vcpus_) return;
  vcpus_[context / 2]->SetInjected(arch::riscv64::kVseip, pending);
}

}  // namespace hv::riscv64
