// virtio-console through its transport: output, input (buffered until the
// driver posts receive buffers), emergency writes, malformed chains and
// queue faults.
#include <devices/driver/virtio_driver.h>
#include <devices/virtio.h>
#include <devices/virtio_console.h>
#include <devices/virtio_mmio.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "devices/testing/virtio_rig.h"

namespace hv::devices {
namespace {

namespace console = virtio::console;
namespace mmio = virtio::mmio;
using driver::Buffer;
using testing::ConsoleRig;
using testing::ConsoleRigOptions;
using testing::kDataBase;
using testing::kHoleBase;
using Range = AddrRange<GuestPhysAddr>;

GuestPhysAddr Data(uint64_t offset) { return GuestPhysAddr(kDataBase + offset); }

std::span<const std::byte> Bytes(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

std::string Text(const std::vector<std::byte>& bytes) {
  // SAFETY: viewing bytes as chars is always valid; the length is the
  // vector's.
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

class ConsoleTest : public ::testing::Test {
 protected:
  explicit ConsoleTest(ConsoleRigOptions options = {}) : rig(ConsoleRig::Create(options)) {}

  // Puts `text` at `at` and transmits it in one readable buffer.
  void Transmit(GuestPhysAddr at, std::string_view text) {
    rig->ram.Write(at, Bytes(text));
    const Buffer b[] = {{at, static_cast<uint32_t>(text.size()), false}};
    ASSERT_TRUE(rig->tx->Submit(b).ok());
    ASSERT_TRUE(rig->mmio->Notify(console::kTransmitQueue).ok());
  }
  // Posts a receive buffer of `len` bytes at `at`.
  uint16_t PostReceive(GuestPhysAddr at, uint32_t len) {
    const Buffer b[] = {{at, len, true}};
    return rig->rx->Submit(b).value();
  }

  std::unique_ptr<ConsoleRig> rig;
};

TEST_F(ConsoleTest, IdentityFeaturesAndConfig) {
  EXPECT_EQ(rig->mmio->ReadReg(mmio::kDeviceId).value(), virtio::kDeviceIdConsole);
  EXPECT_NE(rig->negotiated & virtio::FeatureBit(console::kFeatureEmergWrite), 0u);
  ASSERT_TRUE(rig->mmio->WriteReg(mmio::kDeviceFeaturesSel, 0).ok());
  EXPECT_EQ(rig->mmio->ReadReg(mmio::kDeviceFeatures).value() & (1u << console::kFeatureMultiport),
            0u);
  EXPECT_EQ(rig->mmio->ReadConfig(offsetof(console::Config, max_nr_ports), 4).value(), 1u);
  ASSERT_TRUE(rig->mmio->WriteReg(mmio::kQueueSel, 2).ok());
  EXPECT_EQ(rig->mmio->ReadReg(mmio::kQueueNumMax).value(), 0u);  // port 0 only
}

TEST_F(ConsoleTest, TransmitsGatheredBuffers) {
  rig->ram.Write(Data(0), Bytes("hello, "));
  rig->ram.Write(Data(100), Bytes("world\n"));
  const Buffer chain[] = {{Data(0), 7, false}, {Data(100), 6, false}};
  ASSERT_TRUE(rig->tx->Submit(chain).ok());
  ASSERT_TRUE(rig->mmio->Notify(console::kTransmitQueue).ok());
  EXPECT_EQ(rig->output.text, "hello, world\n");
  const virtio::VirtqUsedElem used = rig->tx->PopUsed().value().value();
  EXPECT_EQ(used.len, 0u);
  EXPECT_TRUE(rig->irq.level);
  EXPECT_EQ(rig->console->stats().bytes_out, 13u);
}

TEST_F(ConsoleTest, TransmitsLongAndIndirectBuffers) {
  std::string text(5000, 'x');
  for (size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>('a' + i % 26);
  rig->ram.Write(Data(0), Bytes(text));
  const Buffer chain[] = {{Data(0), 2500, false}, {Data(2500), 2500, false}};
  ASSERT_TRUE(rig->tx->SubmitIndirect(chain, Data(8192)).ok());
  ASSERT_TRUE(rig->mmio->Notify(console::kTransmitQueue).ok());
  EXPECT_EQ(rig->output.text, text);
}

TEST_F(ConsoleTest, InputGoesToPostedReceiveBuffers) {
  const uint16_t head = PostReceive(Data(0), 8);
  ASSERT_TRUE(rig->mmio->Notify(console::kReceiveQueue).ok());
  EXPECT_FALSE(rig->irq.level);  // no input yet: the buffer stays posted
  EXPECT_EQ(rig->rx->ReadUsedIdx().value(), 0);
  EXPECT_EQ(rig->console->ReceiveInput(Bytes("abc")), 3u);
  const virtio::VirtqUsedElem used = rig->rx->PopUsed().value().value();
  EXPECT_EQ(used.id, head);
  EXPECT_EQ(used.len, 3u);
  EXPECT_EQ(Text(rig->ram.Read(Data(0), 3)), "abc");
  EXPECT_TRUE(rig->irq.level);
  EXPECT_EQ(rig->console->pending_input(), 0u);
}

TEST_F(ConsoleTest, InputWaitsForBuffersAndSpreadsOverThem) {
  EXPECT_EQ(rig->console->ReceiveInput(Bytes("0123456789")), 10u);
  EXPECT_EQ(rig->console->pending_input(), 10u);
  const std::vector<std::byte> before = rig->ram.Snapshot();
  PostReceive(Data(0), 4);
  PostReceive(Data(100), 4);
  ASSERT_TRUE(rig->mmio->Notify(console::kReceiveQueue).ok());
  EXPECT_EQ(Text(rig->ram.Read(Data(0), 4)), "0123");
  EXPECT_EQ(Text(rig->ram.Read(Data(100), 4)), "4567");
  EXPECT_EQ(rig->console->pending_input(), 2u);
  PostReceive(Data(200), 100);
  ASSERT_TRUE(rig->mmio->Notify(console::kReceiveQueue).ok());
  EXPECT_EQ(Text(rig->ram.Read(Data(200), 2)), "89");
  EXPECT_EQ(rig->rx->PopUsed().value()->len, 4u);
  EXPECT_EQ(rig->rx->PopUsed().value()->len, 4u);
  EXPECT_EQ(rig->rx->PopUsed().value()->len, 2u);
  // Nothing outside the three receive buffers and the rings changed.
  const Range allowed[] = {*Range::Create(Data(0), 4), *Range::Create(Data(100), 4),
                           *Range::Create(Data(200), 100),
                           *Range::Create(GuestPhysAddr(testing::kRingsBase), 0x8000)};
  const auto stray = rig->ram.ChangesOutside(before, rig->ram.Snapshot(), allowed);
  EXPECT_TRUE(stray.empty()) << testing::Describe(stray);
}

TEST_F(ConsoleTest, TheInputBufferIsBoundedAndLosesNothing) {
  const std::string big(VirtioConsole::kInputBufferSize + 100, 'q');
  EXPECT_EQ(rig->console->ReceiveInput(Bytes(big)), VirtioConsole::kInputBufferSize);
  EXPECT_EQ(rig->console->ReceiveInput(Bytes("more")), 0u);
  PostReceive(Data(0), 4096);
  ASSERT_TRUE(rig->mmio->Notify(console::kReceiveQueue).ok());
  EXPECT_EQ(rig->console->pending_input(), 0u);
  EXPECT_EQ(rig->console->ReceiveInput(Bytes("more")), 4u);
}

class ConsoleNotStartedTest : public ConsoleTest {
 protected:
  ConsoleNotStartedTest() : ConsoleTest(ConsoleRigOptions{.start = false}) {}
};

TEST_F(ConsoleNotStartedTest, InputBeforeDriverOkIsKeptAndEmergencyWritesWork) {
  EXPECT_EQ(rig->console->ReceiveInput(Bytes("early")), 5u);
  // emerg_wr works before negotiation.
  ASSERT_TRUE(
      rig->transport->Write(mmio::kConfig + offsetof(console::Config, emerg_wr), 4, '!').ok());
  EXPECT_EQ(rig->output.text, "!");
  rig->Start();
  PostReceive(Data(0), 16);
  ASSERT_TRUE(rig->mmio->Notify(console::kReceiveQueue).ok());
  EXPECT_EQ(Text(rig->ram.Read(Data(0), 5)), "early");
  // Writes elsewhere in the config space do nothing.
  ASSERT_TRUE(rig->transport->Write(mmio::kConfig, 4, 'x').ok());
  EXPECT_EQ(rig->output.text, "!");
}

TEST_F(ConsoleTest, ATransmitChainWithWritableBuffersIsReturnedUnread) {
  rig->ram.Write(Data(0), Bytes("secret"));
  const Buffer chain[] = {{Data(0), 6, false}, {Data(100), 6, true}};
  const std::vector<std::byte> before = rig->ram.Snapshot();
  ASSERT_TRUE(rig->tx->Submit(chain).ok());
  ASSERT_TRUE(rig->mmio->Notify(console::kTransmitQueue).ok());
  EXPECT_EQ(rig->output.text, "");
  EXPECT_EQ(rig->tx->PopUsed().value()->len, 0u);
  EXPECT_EQ(rig->console->stats().malformed_chains, 1u);
  const Range rings[] = {*Range::Create(GuestPhysAddr(testing::kRingsBase), 0x8000)};
  EXPECT_TRUE(rig->ram.ChangesOutside(before, rig->ram.Snapshot(), rings).empty());
  // The queue still works.
  Transmit(Data(200), "ok");
  EXPECT_EQ(rig->output.text, "ok");
}

TEST_F(ConsoleTest, AReceiveChainWithReadableBuffersGetsNoInput) {
  const Buffer chain[] = {{Data(0), 6, false}, {Data(100), 6, true}};
  ASSERT_TRUE(rig->rx->Submit(chain).ok());
  const std::vector<std::byte> before = rig->ram.Snapshot();
  EXPECT_EQ(rig->console->ReceiveInput(Bytes("data")), 4u);
  EXPECT_EQ(rig->rx->PopUsed().value()->len, 0u);
  EXPECT_EQ(rig->console->pending_input(), 4u);  // kept for a good buffer
  const Range rings[] = {*Range::Create(GuestPhysAddr(testing::kRingsBase), 0x8000)};
  EXPECT_TRUE(rig->ram.ChangesOutside(before, rig->ram.Snapshot(), rings).empty());
  PostReceive(Data(300), 8);
  ASSERT_TRUE(rig->mmio->Notify(console::kReceiveQueue).ok());
  EXPECT_EQ(Text(rig->ram.Read(Data(300), 4)), "data");
}

TEST_F(ConsoleTest, BuffersOutsideGuestRamAreReturnedEmpty) {
  const Buffer tx[] = {{Data(0), 4, false}, {GuestPhysAddr(kHoleBase), 4, false}};
  rig->ram.Write(Data(0), Bytes("abcd"));
  ASSERT_TRUE(rig->tx->Submit(tx).ok());
  ASSERT_TRUE(rig->mmio->Notify(console::kTransmitQueue).ok());
  EXPECT_EQ(rig->output.text, "");  // not even the good half
  EXPECT_EQ(rig->tx->PopUsed().value()->len, 0u);

  const Buffer rx[] = {{Data(100), 4, true}, {GuestPhysAddr(kHoleBase), 4, true}};
  ASSERT_TRUE(rig->rx->Submit(rx).ok());
  const std::vector<std::byte> before = rig->ram.Snapshot();
  EXPECT_EQ(rig->console->ReceiveInput(Bytes("wxyz")), 4u);
  EXPECT_EQ(rig->rx->PopUsed().value()->len, 0u);
  EXPECT_EQ(rig->console->pending_input(), 4u);
  const Range rings[] = {*Range::Create(GuestPhysAddr(testing::kRingsBase), 0x8000)};
  EXPECT_TRUE(rig->ram.ChangesOutside(before, rig->ram.Snapshot(), rings).empty());
  EXPECT_EQ(rig->console->stats().malformed_chains, 2u);
}

TEST_F(ConsoleTest, ABrokenTransmitQueueNeedsReset) {
  Transmit(Data(0), "before");
  ASSERT_TRUE(rig->tx->WriteDesc(5, {Data(0).value(), 4, virtio::kDescFlagNext, 5}).ok());
  ASSERT_TRUE(rig->tx->Publish(5).ok());
  ASSERT_TRUE(rig->mmio->Notify(console::kTransmitQueue).ok());
  EXPECT_EQ(rig->transport->needs_reset_reason(), QueueFault::kChainTooLong);
  EXPECT_NE(rig->transport->interrupt_status() & mmio::kInterruptConfigChange, 0u);
  // Input still buffers but is not delivered to a device that needs a reset.
  PostReceive(Data(100), 8);
  EXPECT_EQ(rig->console->ReceiveInput(Bytes("in")), 2u);
  EXPECT_EQ(rig->rx->ReadUsedIdx().value(), 0);
  EXPECT_EQ(rig->output.text, "before");
}

TEST_F(ConsoleTest, ABrokenReceiveQueueNeedsResetWhenInputArrives) {
  ASSERT_TRUE(rig->rx->Publish(rig->queue_size).ok());  // head out of range
  ASSERT_TRUE(rig->mmio->Notify(console::kReceiveQueue).ok());
  // Nothing to deliver, so the ring is not even read yet.
  EXPECT_FALSE(rig->transport->needs_reset_reason().has_value());
  EXPECT_EQ(rig->console->ReceiveInput(Bytes("x")), 1u);
  EXPECT_EQ(rig->transport->needs_reset_reason(), QueueFault::kHeadOutOfRange);
}

}  // namespace
}  // namespace hv::devices
