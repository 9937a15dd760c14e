#include <devices/driver/direct_access.h>
#include <devices/driver/virtio_driver.h>
#include <gtest/gtest.h>

namespace hv::devices::driver {
namespace {

uint64_t AddressOf(const void* p) { return reinterpret_cast<uintptr_t>(p); }

TEST(MmioWindow, AccessesTheRegistersAtTheirAddressWithTheGivenWidth) {
  alignas(8) std::array<uint64_t, 4> regs{};
  MmioWindow window(AddressOf(regs.data()), sizeof(regs));
  ASSERT_TRUE(window.Write(8, 4, 0x1122'3344'5566'7788).ok());
  EXPECT_EQ(regs[1], 0x5566'7788u);  // only the low four bytes
  ASSERT_TRUE(window.Write(12, 2, 0xabcd).ok());
  ASSERT_TRUE(window.Write(15, 1, 0xef).ok());
  EXPECT_EQ(window.Read(8, 8).value(), 0xef00'abcd'5566'7788u);
  EXPECT_EQ(window.Read(12, 4).value(), 0xef00'abcdu);
  EXPECT_EQ(window.Read(15, 1).value(), 0xefu);
  ASSERT_TRUE(window.Write(24, 8, ~uint64_t{0}).ok());
  EXPECT_EQ(regs[3], ~uint64_t{0});
}

TEST(MmioWindow, RefusesBadWidthsMisalignmentAndAccessesOutside) {
  alignas(8) std::array<uint64_t, 4> regs{};
  MmioWindow window(AddressOf(regs.data()), sizeof(regs));
  EXPECT_EQ(window.Read(0, 3).error(), Error::kInvalidArgs);
  EXPECT_EQ(window.Read(0, 16).error(), Error::kInvalidArgs);
  EXPECT_EQ(window.Read(2, 4).error(), Error::kInvalidArgs);
  EXPECT_EQ(window.Write(4, 8, 0).error(), Error::kInvalidArgs);
  EXPECT_EQ(window.Read(32, 1).error(), Error::kInvalidArgs);
  EXPECT_EQ(window.Write(~uint64_t{7}, 8, 0).error(), Error::kInvalidArgs);
  EXPECT_EQ(regs, (std::array<uint64_t, 4>{}));
}

TEST(IdentityMappedRam, TranslatesToTheSameAddressUpToTheEnd) {
  alignas(16) std::array<std::byte, 256> ram{};
  const GuestPhysAddr base(AddressOf(ram.data()));
  IdentityMappedRam memory(base, ram.size());
  const guestmem::Translation t =
      memory.TranslateAndGetLimit(GuestPhysAddr(base.value() + 16)).value();
  EXPECT_EQ(t.hva.value(), base.value() + 16);
  EXPECT_EQ(t.limit, 240u);
  EXPECT_EQ(memory.TranslateAndGetLimit(GuestPhysAddr(base.value() + 256)).error(),
            Error::kOutOfRange);
  EXPECT_EQ(memory.TranslateAndGetLimit(GuestPhysAddr(base.value() - 1)).error(),
            Error::kOutOfRange);
}

TEST(IdentityMappedRam, CarriesTheDriverAndStopsAtTheEnd) {
  alignas(16) std::array<std::byte, 1024> ram{};
  ram.fill(std::byte{0xaa});
  const GuestPhysAddr base(AddressOf(ram.data()));
  IdentityMappedRam memory(base, ram.size());
  Result<DriverQueue> queue = DriverQueue::Create(memory, LayoutRings(base, 8));
  ASSERT_TRUE(queue.ok());
  EXPECT_EQ(ram[0], std::byte{0});  // the rings were zeroed in place
  EXPECT_EQ(ram[RingBytes(8) - 1], std::byte{0});
  EXPECT_EQ(ram[RingBytes(8)], std::byte{0xaa});
  const std::array<std::byte, 8> bytes{};
  const mm::CopyResult r = memory.WriteBuffer(GuestPhysAddr(base.value() + 1020), bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Error::kOutOfRange);
  EXPECT_EQ(r.error().done, 4u);
}

}  // namespace
}  // namespace hv::devices::driver
