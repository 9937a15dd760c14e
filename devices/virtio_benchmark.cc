// Virtio devices over hosted guest memory, through the whole path a guest
// request takes in a VMM: the driver (//devices/driver) builds chains in
// guest RAM and publishes them, a QueueNotify register write runs the
// device (chain walk, buffer copies through guestmem, backend, used ring,
// interrupt decision), and the driver takes the used elements back.
//
//   BM_BlkRead4K/batch, BM_BlkWrite4K/batch
//       4 KiB virtio-blk requests on a RAM disk, `batch` requests per
//       notification; items/s = requests per second, bytes/s = data moved.
//   BM_ConsoleTx/len
//       virtio-console output, 32 chains of `len` bytes per notification;
//       bytes/s = console bytes per second reaching the sink.
//   BM_ConsoleRx/len
//       virtio-console input of `len` bytes per receive buffer.
//
//   ./bazelw run -c opt //devices:virtio_benchmark
#include <benchmark/benchmark.h>
#include <devices/driver/virtio_driver.h>
#include <devices/virtio.h>

#include <memory>
#include <vector>

#include "devices/testing/virtio_rig.h"

namespace hv::devices {
namespace {

using testing::BlkRig;
using testing::BlkRigOptions;
using testing::ConsoleRig;
using testing::ConsoleRigOptions;

constexpr uint32_t kRequestBytes = 4096;

void BlkRequests(benchmark::State& state, uint32_t type) {
  const int batch = static_cast<int>(state.range(0));
  std::unique_ptr<BlkRig> rig =
      BlkRig::Create(BlkRigOptions{.queue_size = 256, .disk_sectors = 8192});
  const GuestPhysAddr data(testing::kDataBase);
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) {
      // Each request its own 4 KiB of guest RAM and of the disk.
      const uint64_t slot = static_cast<uint64_t>(i) % 64;
      if (!rig->driver
               ->Submit(type, slot * 8, GuestPhysAddr(data.value() + slot * kRequestBytes),
                        kRequestBytes)
               .ok()) {
        state.SkipWithError("submit");
        return;
      }
    }
    if (!rig->mmio->Notify(0).ok()) state.SkipWithError("notify");
    for (int i = 0; i < batch; ++i) {
      const auto done = rig->driver->Complete();
      if (!done.ok() || done->status != virtio::blk::kStatusOk) {
        state.SkipWithError("request failed");
        return;
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.SetBytesProcessed(state.iterations() * batch * int64_t{kRequestBytes});
}

void BM_BlkRead4K(benchmark::State& state) { BlkRequests(state, virtio::blk::kTypeIn); }
void BM_BlkWrite4K(benchmark::State& state) { BlkRequests(state, virtio::blk::kTypeOut); }
BENCHMARK(BM_BlkRead4K)->Arg(1)->Arg(16)->Arg(64);
BENCHMARK(BM_BlkWrite4K)->Arg(1)->Arg(16)->Arg(64);

void BM_ConsoleTx(benchmark::State& state) {
  const auto len = static_cast<uint32_t>(state.range(0));
  constexpr int kChains = 32;
  std::unique_ptr<ConsoleRig> rig = ConsoleRig::Create(ConsoleRigOptions{.queue_size = 64});
  testing::CountingSink sink;
  // The rig's sink keeps every byte; this benchmark wants only a count.
  VirtioConsole console(sink);
  VirtioMmioTransport transport(rig->ram.memory(), console, IrqLine());
  driver::VirtioMmioDriver mmio(transport);
  if (!mmio.Initialize(virtio::kDeviceIdConsole, virtio::FeatureBit(virtio::kFeatureRingEventIdx))
           .ok() ||
      !mmio.EnableQueue(0, rig->layout(0)).ok() || !mmio.EnableQueue(1, rig->layout(1)).ok() ||
      !mmio.SetDriverOk().ok()) {
    state.SkipWithError("setup");
    return;
  }
  driver::DriverQueue tx = driver::DriverQueue::Create(rig->ram.memory(), rig->layout(1)).value();
  const driver::Buffer buffer[] = {{GuestPhysAddr(testing::kDataBase), len, false}};
  for (auto _ : state) {
    for (int i = 0; i < kChains; ++i) {
      if (!tx.Submit(buffer).ok()) {
        state.SkipWithError("submit");
        return;
      }
    }
    if (!mmio.Notify(1).ok()) state.SkipWithError("notify");
    for (int i = 0; i < kChains; ++i) {
      if (!tx.PopUsed().ok()) state.SkipWithError("used");
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(sink.bytes()));
  state.SetItemsProcessed(state.iterations() * kChains);
}
BENCHMARK(BM_ConsoleTx)->Arg(1)->Arg(64)->Arg(4096);

void BM_ConsoleRx(benchmark::State& state) {
  const auto len = static_cast<uint32_t>(state.range(0));
  std::unique_ptr<ConsoleRig> rig = ConsoleRig::Create(ConsoleRigOptions{.queue_size = 64});
  const std::vector<std::byte> input(len, std::byte{'x'});
  const driver::Buffer buffer[] = {{GuestPhysAddr(testing::kDataBase), len, true}};
  int64_t bytes = 0;
  for (auto _ : state) {
    if (!rig->rx->Submit(buffer).ok() || !rig->mmio->Notify(0).ok()) {
      state.SkipWithError("submit");
      return;
    }
    bytes += static_cast<int64_t>(rig->console->ReceiveInput(input));
    const auto used = rig->rx->PopUsed();
    if (!used.ok() || !used->has_value() || (*used)->len != len) state.SkipWithError("used");
  }
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_ConsoleRx)->Arg(1)->Arg(64)->Arg(4096);

}  // namespace
}  // namespace hv::devices

BENCHMARK_MAIN();
