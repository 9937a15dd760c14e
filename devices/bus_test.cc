#include <devices/bus.h>
#include <gtest/gtest.h>

#include <vector>

namespace hv::devices {
namespace {

// Records accesses; a register file of 8-byte cells.
class Recorder final : public MmioDevice {
 public:
  Result<uint64_t> Read(uint64_t offset, size_t size) override {
    log.push_back({false, offset, size, 0});
    return offset * 0x100 + size;
  }
  Result<void> Write(uint64_t offset, size_t size, uint64_t value) override {
    log.push_back({true, offset, size, value});
    return Ok();
  }
  struct Access {
    bool write;
    uint64_t offset;
    size_t size;
    uint64_t value;
  };
  std::vector<Access> log;
};

TEST(MmioBus, RoutesAccessesWithOffsets) {
  MmioBus bus;
  Recorder uart, plic;
  ASSERT_TRUE(bus.Register(GuestPhysAddr(0x10000000), 0x100, &uart).ok());
  ASSERT_TRUE(bus.Register(GuestPhysAddr(0x0c000000), 0x4000000, &plic).ok());
  EXPECT_EQ(bus.Read(GuestPhysAddr(0x10000005), 1).value(), 0x501u);
  ASSERT_TRUE(bus.Write(GuestPhysAddr(0x0c002080), 4, 0x1234567890).ok());
  ASSERT_EQ(plic.log.size(), 1u);
  EXPECT_EQ(plic.log[0].offset, 0x2080u);
  // The value is truncated to the access width.
  EXPECT_EQ(plic.log[0].value, 0x34567890u);
  EXPECT_EQ(bus.Find(GuestPhysAddr(0x100000ff)), &uart);
  EXPECT_EQ(bus.Find(GuestPhysAddr(0x10000100)), nullptr);
}

TEST(MmioBus, GuestControlledAccessesAreChecked) {
  MmioBus bus;
  Recorder dev;
  ASSERT_TRUE(bus.Register(GuestPhysAddr(0x1000), 0x100, &dev).ok());
  EXPECT_EQ(bus.Read(GuestPhysAddr(0x1000), 3).error(), Error::kInvalidArgs);
  EXPECT_EQ(bus.Read(GuestPhysAddr(0x1000), 16).error(), Error::kInvalidArgs);
  // Straddling the end of the device.
  EXPECT_EQ(bus.Read(GuestPhysAddr(0x10fc), 8).error(), Error::kNotFound);
  EXPECT_EQ(bus.Write(GuestPhysAddr(0x10ff), 2, 0).error(), Error::kNotFound);
  // Nothing there, and an access that wraps the address space.
  EXPECT_EQ(bus.Read(GuestPhysAddr(0x2000), 4).error(), Error::kNotFound);
  EXPECT_EQ(bus.Read(GuestPhysAddr(~uint64_t{0} - 2), 8).error(), Error::kNotFound);
  EXPECT_TRUE(dev.log.empty());
}

TEST(MmioBus, RegistrationRefusesOverlapsAndBadRanges) {
  MmioBus bus;
  Recorder a, b;
  ASSERT_TRUE(bus.Register(GuestPhysAddr(0x2000), 0x1000, &a).ok());
  EXPECT_EQ(bus.Register(GuestPhysAddr(0x2fff), 1, &b).error(), Error::kAlreadyExists);
  EXPECT_EQ(bus.Register(GuestPhysAddr(0x1000), 0x1001, &b).error(), Error::kAlreadyExists);
  EXPECT_EQ(bus.Register(GuestPhysAddr(0x1000), 0, &b).error(), Error::kInvalidArgs);
  EXPECT_EQ(bus.Register(GuestPhysAddr(~uint64_t{0}), 2, &b).error(), Error::kInvalidArgs);
  EXPECT_EQ(bus.Register(GuestPhysAddr(0x5000), 1, nullptr).error(), Error::kInvalidArgs);
  ASSERT_TRUE(bus.Register(GuestPhysAddr(0x1000), 0x1000, &b).ok());  // adjacent is fine
  EXPECT_EQ(bus.size(), 2u);
  for (size_t i = 2; i < MmioBus::kMaxDevices; ++i) {
    ASSERT_TRUE(bus.Register(GuestPhysAddr(0x100000 * (i + 1)), 0x10, &a).ok());
  }
  EXPECT_EQ(bus.Register(GuestPhysAddr(0x9000000), 0x10, &a).error(), Error::kNoMemory);
}

class Sink final : public IrqSink {
 public:
  void SetIrqLevel(uint32_t irq, bool level) override { levels[irq] = level; }
  bool levels[16] = {};
};

TEST(IrqLine, ForwardsLevelsAndUnconnectedLinesAreInert) {
  Sink sink;
  IrqLine line(&sink, 10);
  line.Set(true);
  EXPECT_TRUE(sink.levels[10]);
  line.Set(false);
  EXPECT_FALSE(sink.levels[10]);
  IrqLine none;
  none.Set(true);
  EXPECT_FALSE(none.connected());
}

}  // namespace
}  // namespace hv::devices
