// The fuzz targets of the device models, as plain functions so that the
// libFuzzer binaries (--config=fuzz), the standalone reproducers and the
// fixed-iteration test in `bazel test //...` all run the same code.
//
//   FuzzVirtqueue  SplitQueue alone: guest-controlled descriptor table,
//                  avail ring and memory, then a script of pops (consuming
//                  each chain: reading what is readable, filling what is
//                  writable), pushes and interrupt checks. Every pop is
//                  compared with a reference walker; every operation may
//                  change only the used ring and the popped chain's
//                  writable buffers.
//   FuzzBlk        virtio-blk through the MMIO transport: a negotiated
//                  device whose queue and memory come from the input, then a
//                  script of notifications, register reads and writes
//                  (including resets and queue reconfiguration) and polls.
//                  Checks the used ring only returns heads the driver
//                  offered, that the interrupt line follows
//                  InterruptStatus, and that DEVICE_NEEDS_RESET has a reason.
//
// A broken invariant is an HV_CHECK failure (abort), which libFuzzer and the
// test report as a crash; so are sanitizer findings.
#ifndef DEVICES_FUZZ_FUZZ_TARGETS_H_
#define DEVICES_FUZZ_FUZZ_TARGETS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace hv::devices::fuzz {

void FuzzVirtqueue(const uint8_t* data, size_t size);
void FuzzBlk(const uint8_t* data, size_t size);

// Well-formed and malformed inputs that reach deep into each target: the
// seed corpus.
std::vector<std::vector<uint8_t>> VirtqueueSeeds();
std::vector<std::vector<uint8_t>> BlkSeeds();

}  // namespace hv::devices::fuzz

#endif  // DEVICES_FUZZ_FUZZ_TARGETS_H_
