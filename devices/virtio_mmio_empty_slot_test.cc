#include <devices/virtio_mmio_empty_slot.h>
#include <gtest/gtest.h>

namespace hv::devices {
namespace {

TEST(VirtioMmioEmptySlot, SaysVirtioWithNoDevice) {
  VirtioMmioEmptySlot slot;
  EXPECT_EQ(slot.Read(0x000, 4).value(), 0x74726976u);
  EXPECT_EQ(slot.Read(0x004, 4).value(), 2u);
  EXPECT_EQ(slot.Read(0x008, 4).value(), 0u);  // device id: none
  EXPECT_EQ(slot.Read(0x00c, 4).value(), VirtioMmioEmptySlot::kVendorId);
  EXPECT_EQ(slot.Read(0x070, 4).value(), 0u);
  EXPECT_TRUE(slot.Write(0x070, 4, 0xf).ok());
  EXPECT_EQ(slot.Read(0x070, 4).value(), 0u);
}

TEST(VirtioMmioEmptySlot, RefusesOtherWidthsAndMisalignment) {
  VirtioMmioEmptySlot slot;
  EXPECT_EQ(slot.Read(0x000, 1).error(), Error::kInvalidArgs);
  EXPECT_EQ(slot.Read(0x000, 8).error(), Error::kInvalidArgs);
  EXPECT_EQ(slot.Read(0x002, 4).error(), Error::kInvalidArgs);
  EXPECT_EQ(slot.Write(0x001, 4, 0).error(), Error::kInvalidArgs);
  EXPECT_EQ(slot.Write(0x000, 2, 0).error(), Error::kInvalidArgs);
}

}  // namespace
}  // namespace hv::devices
