// A hypervisor image: the riscv64 hypervisor plus the VMs it runs and what
// is expected of each. An image provides ImageVms(); //hv/image:main
// provides KernelMain, which boots the hypervisor, builds and runs the VMs,
// and when every VM has ended (those expected to run forever are ended
// then) compares each outcome with its expectation (and runs its device
// check, if any), prints a summary and, if all match, the test-pass
// sentinel, and stops the machine with success exactly when all match.
//
//   const hv::image::ImageVm kVms[] = {
//       {.config = {.name = "sbi", .image = SbiGuest(), .dtb = VirtGuestDtb()},
//        .expect = Expectation::CleanShutdown()},
//   };
//   std::span<const hv::image::ImageVm> hv::image::ImageVms() { return kVms; }
#ifndef HV_IMAGE_IMAGE_H_
#define HV_IMAGE_IMAGE_H_

#include <hv/base/format.h>
#include <hv/base/std.h>
#include <hv/riscv64/outcome.h>
#include <hv/riscv64/virtio_devices.h>
#include <hv/riscv64/vm_config.h>

namespace hv::image {

struct ImageVm {
  riscv64::VmConfig config;
  riscv64::Expectation expect = riscv64::Expectation::CleanShutdown();
  // If set, run once the VM has ended, on what its virtio devices hold and
  // did (the RAM disk's bytes, request and byte counts, resets): returns
  // nullptr when satisfied, else what is wrong, which is printed and fails
  // the image like an unmet expectation.
  const char* (*check_devices)(const riscv64::VirtioReport& report) = nullptr;
};

// For check_devices: nullptr if the RAM disk holds exactly `size` bytes,
// byte i being expected(i); else where it differs first.
inline const char* CheckDisk(std::span<const std::byte> disk, uint64_t size,
                             uint8_t (*expected)(uint64_t offset)) {
  static char problem[96];
  constexpr uint64_t kSectorSize = 512;
  if (disk.size() != size) return "the disk has the wrong size";
  for (uint64_t i = 0; i < size; ++i) {
    if (disk[i] != std::byte{expected(i)}) {
      Format(problem, sizeof(problem), "disk byte %lu (sector %lu) is %#x, not %#x", i,
             i / kSectorSize, static_cast<unsigned>(disk[i]), static_cast<unsigned>(expected(i)));
      return problem;
    }
  }
  return nullptr;
}

// Provided by each image: its VMs, at most kMaxVms.
std::span<const ImageVm> ImageVms();

inline constexpr size_t kMaxVms = 12;

}  // namespace hv::image

#endif  // HV_IMAGE_IMAGE_H_
