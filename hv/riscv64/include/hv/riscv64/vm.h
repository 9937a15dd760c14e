// A virtual machine: its G-stage address space (guest RAM), its devices on
// an MMIO bus, its console, its vCPUs and how it ended.
//
// Built from a VmConfig by Vm::Create into caller-provided storage (the
// devices point at each other and at the VM, so a Vm never moves). Creation
// maps fresh zeroed RAM, copies the image and the device tree in through
// guestmem, places the devices where the device tree says (the configured
// virtio devices in their slots, with the RAM disk in a frame of its own)
// and starts vCPU 0 at the entry point with a0 = 0, a1 = the device tree's
// address.
#ifndef HV_RISCV64_VM_H_
#define HV_RISCV64_VM_H_

#include <arch/riscv64/mm/pte.h>
#include <devices/bus.h>
#include <devices/char_io.h>
#include <devices/ns16550a.h>
#include <devices/plic.h>
#include <devices/virtio_mmio_empty_slot.h>
#include <guestmem/guest_space.h>
#include <hv/base/result.h>
#include <hv/base/std.h>
#include <hv/fdt/fdt.h>
#include <hv/riscv64/guest_console.h>
#include <hv/riscv64/outcome.h>
#include <hv/riscv64/vcpu.h>
#include <hv/riscv64/virtio_devices.h>
#include <hv/riscv64/vm_config.h>
#include <mm/frame.h>
#include <mm/phys_mem.h>
#include <mm/tlb.h>

namespace hv::riscv64 {

// Sv39x4: 41-bit guest-physical addresses (2 TiB).
using GuestSpace = guestmem::GuestSpace<arch::riscv64::Sv39x4PteFormat<>, mm::DirectMapPhysMem>;

// What creating a VM needs from the hypervisor.
struct VmResources {
  mm::FrameAllocator& frames;
  const mm::DirectMapPhysMem& phys;
  mm::Mmu& hgatp_mmu;  // an HgatpMmu
  uint16_t vmid;
  devices::CharSink& console_out;  // the hypervisor's console
};

class Vm final : public devices::PlicTarget {
  struct Key {
    explicit Key() = default;
  };

 public:
  static constexpr uint32_t kMaxVcpus = 4;

  // Builds the VM described by `config` in `slot` (which must be empty) and
  // returns it. Errors, with nothing left in `slot`: kInvalidArgs for a
  // config that contradicts itself or its device tree (RAM, hart count,
  // image or tree not fitting in RAM, a device missing from the tree or
  // malformed; a virtio device in a slot the tree does not have, two in
  // one slot, a RAM disk of a bad size or an image larger than it, console
  // input beyond its buffer), kUnsupported for more than kMaxVcpus,
  // kNoMemory when frames run out.
  static Result<Vm*> Create(std::optional<Vm>& slot, const VmConfig& config,
                            const VmResources& resources);

  // For Create only (Key is private).
  Vm(Key, const VmConfig& config, GuestSpace space, uint32_t vcpus, uint32_t uart_irq,
     devices::CharSink& console_out);
  Vm(const Vm&) = delete;
  Vm& operator=(const Vm&) = delete;
  ~Vm() override;

  std::string_view name() const { return name_; }
  GuestSpace& space() { return space_; }
  devices::MmioBus& bus() { return bus_; }
  GuestConsole& console() { return console_; }
  uint32_t num_vcpus() const { return num_vcpus_; }
  Vcpu& vcpu(uint32_t id) { return *vcpus_[id]; }
  const VirtioDevices& virtio() const { return virtio_; }

  // Runs device work left over from notifications and reports devices that
  // need a reset (VirtioDevices::Poll); nothing once the VM has ended.
  void PollDevices() {
    if (!ended()) virtio_.Poll();
  }
  bool has_pending_device_work() const { return !ended() && virtio_.has_pending_work(); }

  const VmOutcome& outcome() const { return outcome_; }
  bool ended() const { return outcome_.end != VmEnd::kRunning; }
  // Ends the VM (first call wins): every vCPU stops, the console is flushed
  // and the hypervisor prints one line saying how it ended, and one per
  // virtio device saying what it did.
  void End(const VmOutcome& outcome);
  // A guest's reboot request: restarts the VM as VmConfig::max_reboots
  // says and returns true, or returns false once those are used up (the
  // caller then ends the VM). Every vCPU, the caller included, is reset:
  // the caller must not resume its old state.
  bool Reboot();
  uint32_t reboots() const { return reboots_; }

  // PlicTarget: context 2n + 1 is vCPU n's S-mode external interrupt (VSEIP);
  // the M-mode contexts 2n lead nowhere.
  void SetExternalInterrupt(uint32_t context, bool pending) override;

 private:
  Result<void> Setup(const VmConfig& config, const VmResources& resources, GuestPhysAddr uart,
                     uint64_t uart_size, GuestPhysAddr plic,
                     std::span<const VirtioDevices::Slot> virtio_slots);
  // Takes the RAM disk's frame and adds the virtio-blk device in `slot`.
  Result<void> AddVirtioBlk(const VirtioBlkConfig& config, const VirtioDevices::Slot& slot,
                            const VmResources& resources);

  std::string_view name_;
  // What a reboot loads again and where.
  std::span<const std::byte> image_;
  GuestPhysAddr image_gpa_;
  std::span<const std::byte> dtb_;
  GuestPhysAddr dtb_gpa_;
  GuestPhysAddr entry_;
  uint32_t max_reboots_;
  uint32_t reboots_ = 0;
  GuestSpace space_;
  devices::MmioBus bus_;
  GuestConsole console_;
  devices::Plic plic_;
  devices::Ns16550a uart_;
  devices::VirtioMmioEmptySlot empty_slot_;
  // The RAM disk (before virtio_, which uses it, so that it goes after).
  mm::Frame disk_frame_;
  VirtioDevices virtio_;
  uint32_t num_vcpus_;
  std::array<std::optional<Vcpu>, kMaxVcpus> vcpus_;
  VmOutcome outcome_;
};

}  // namespace hv::riscv64

#endif  // HV_RISCV64_VM_H_
