// VmSpace on the real MMUs, under QEMU on both boards: kernel memory from
// the firmware, a host space sharing the kernel half, and copies through
// its lower half with the fallible readers and writers, so that every
// translation is the hardware's. QEMU models a TLB, so a missing flush shows
// up as a stale translation that still works.
//
// Lower-half pages are mapped as a user space would map them (kUser: U=1 on
// riscv64, which the fallible primitives reach through sstatus.SUM; US=1 on
// x86_64), or supervisor-only, which the kernel's copies reach too.
//
// Catching a missing flush on riscv64 takes care: QEMU 7.2 flushes its
// whole TLB whenever sstatus.SUM changes, which every fallible copy does on
// entry. So the checks that must see a stale translation use plain loads
// from supervisor-only pages (PlainLoad), and read through a frame mapped
// into the hole an unmap left (a mapping into an empty slot needs no flush;
// only the unmap's flush stands between the load and the old frame). A write
// after taking W away has to fault, so it can only be fallible: that check
// catches a missing flush on x86_64 (and real riscv64 hardware), not on
// QEMU's riscv64. Device mappings do not stay in QEMU's TLB either (with
// the flush left out, a plain load right after unmapping the HPET faults,
// and one after replacing the UART with RAM sees the RAM), so the I/O tests
// check the mappings, and the RAM tests the flushes.
#include <arch/layout.h>
#include <board/config.h>
#include <hv/base/format.h>
#include <hv/kmem/kmem.h>
#include <ktest/ktest.h>
#include <mm/frame.h>
#include <mm/io.h>
#include <mm/io_mem.h>
#include <mm/vm_space.h>

#if defined(__riscv)
#include <arch/riscv64/mm/mmu.h>
#include <arch/riscv64/mm/pte.h>
#elif defined(__x86_64__)
#include <arch/x86_64/mm/mmu.h>
#include <arch/x86_64/mm/pte.h>
#endif

namespace {

using hv::Error;
using hv::HostPhysAddr;
using hv::HostVirtAddr;
using hv::kmem::KernelHostSpace;
using hv::kmem::KernelMemory;
using hv::mm::CachePolicy;
using hv::mm::CopyError;
using hv::mm::CopyResult;
using hv::mm::Fallible;
using hv::mm::Frame;
using hv::mm::FrameAllocator;
using hv::mm::Infallible;
using hv::mm::IoMem;
using hv::mm::MappedRam;
using hv::mm::PageFlags;
using hv::mm::PageProperty;
using hv::mm::PrivilegedPageFlags;
using hv::mm::VmReader;
using hv::mm::VmWriter;

constexpr uint64_t kPage = hv::mm::kPageSize;
constexpr uint64_t k2M = uint64_t{2} << 20;
// Lower-half addresses (64 GiB and up), in every host space of both
// architectures, 2 MiB aligned.
constexpr uint64_t kVa = 0x10'0000'0000;
constexpr uint64_t kIoVa = kVa + 0x4000'0000;
static_assert(kIoVa + k2M <= hv::arch::kUserSpaceEnd);

using Range = KernelHostSpace::Range;

Range R(uint64_t start, uint64_t size) { return *Range::Create(HostVirtAddr(start), size); }

// What a failed read is reported as in a comparison with the expected value.
constexpr uint64_t kFailed = 0xdead'dead'dead'dead;

// The error of `result`, nullopt if it succeeded: a check that expects an
// error then fails as a comparison instead of a panic.
template <typename T, typename E>
std::optional<E> ErrorOf(const hv::Result<T, E>& result) {
  if (result.ok()) return std::nullopt;
  return result.error();
}

// A plain load at `va` through the active space, without the fallible
// primitives (and so, on riscv64, without touching sstatus.SUM).
// REQUIRES: `va` is mapped readable and supervisor-accessible (not kUser) in
// the active space: the load cannot fault.
template <typename T>
T PlainLoad(uint64_t va) {
  // SAFETY: the caller maps `va` readable for the kernel in the active
  // space (REQUIRES); the access is aligned and of one device-safe width.
  return *hv::PtrFromHostVirt<const volatile T>(HostVirtAddr(va));
}

PageProperty UserRw() {
  return PageProperty{.flags = PageFlags::kRW | PageFlags::kAccessed | PageFlags::kDirty,
                      .priv_flags = PrivilegedPageFlags::kUser};
}
PageProperty SupervisorRw() {
  return PageProperty::New(PageFlags::kRW | PageFlags::kAccessed | PageFlags::kDirty);
}
PageProperty DeviceRw() {
  return PageProperty::New(PageFlags::kRW | PageFlags::kAccessed | PageFlags::kDirty,
                           CachePolicy::kUncacheable);
}

KernelMemory* Kmem() {
  const hv::Result<KernelMemory*> kmem = KernelMemory::Init(ktest::Boot());
  if (!kmem.ok()) {
    hv::Printf("KernelMemory::Init: %s\n", hv::ErrorName(kmem.error()));
    return nullptr;
  }
  return *kmem;
}

// A RAM frame's bytes through the direct map.
uint8_t* DirectMap(HostPhysAddr pa) {
  return hv::PtrFromHostVirt<uint8_t>(hv::arch::PhysToVirt(pa));
}
uint64_t Load64(HostPhysAddr pa) {
  uint64_t value;
  // SAFETY: `pa` is in a frame the test owns, in the direct map.
  __builtin_memcpy(&value, DirectMap(pa), sizeof(value));
  return value;
}
uint8_t Load8(HostPhysAddr pa) {
  // SAFETY: as Load64.
  return *DirectMap(pa);
}
void Store64(HostPhysAddr pa, uint64_t value) {
  // SAFETY: as Load64.
  __builtin_memcpy(DirectMap(pa), &value, sizeof(value));
}
uint8_t PatternByte(uint64_t i, uint8_t seed) { return static_cast<uint8_t>(i * 31 + seed); }
void FillPattern(const Frame& frame, uint8_t seed) {
  uint8_t* bytes = DirectMap(frame.paddr());
  for (uint64_t i = 0; i < frame.size(); ++i) {
    // SAFETY: the frame is the test's, in the direct map, size() bytes.
    bytes[i] = PatternByte(i, seed);
  }
}
bool MatchesPattern(std::span<const std::byte> bytes, uint64_t offset, uint8_t seed) {
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] != std::byte{PatternByte(offset + i, seed)}) return false;
  }
  return true;
}

Frame NewFrame(KernelMemory& kmem, hv::mm::PagingLevel level = 1) {
  hv::Result<Frame> frame = kmem.frames().Alloc(level);
  HV_CHECK(frame.ok(), "out of frames");
  return std::move(frame).value();
}

// Keeps a space active on this CPU for a scope (ASSERT_* returns early, and
// an active space must not be destroyed).
class ScopedActivation {
 public:
  explicit ScopedActivation(KernelHostSpace& space) : space_(space) { space_.Activate(); }
  ~ScopedActivation() { space_.Deactivate(); }
  ScopedActivation(const ScopedActivation&) = delete;
  ScopedActivation& operator=(const ScopedActivation&) = delete;

 private:
  KernelHostSpace& space_;
};

// One fallible 8-byte load through `space` at `va`.
hv::Result<uint64_t> Read64(const KernelHostSpace& space, uint64_t va) {
  auto reader = HV_TRY(space.Reader(HostVirtAddr(va), 8));
  return reader.ReadOnce<uint64_t>();
}
hv::Result<void> Write64(const KernelHostSpace& space, uint64_t va, uint64_t value) {
  auto writer = HV_TRY(space.Writer(HostVirtAddr(va), 8));
  return writer.WriteOnce<uint64_t>(value);
}

// One fallible copy of buf.size() bytes through `space` from `va` into buf.
// The range must lie in the space (a refused reader is a test failure).
CopyResult ReadFrom(const KernelHostSpace& space, uint64_t va, std::span<std::byte> buf) {
  auto reader = space.Reader(HostVirtAddr(va), buf.size());
  if (!reader.ok()) {
    ADD_FAILURE() << "the space refused a reader";
    return CopyError{reader.error(), 0};
  }
  auto out = VmWriter<Infallible>::FromSpan(buf);
  return reader->ReadFallible(out);
}

// The end of the IoMem tests, once the device page at kIoVa is unmapped: a
// copy from 16 bytes below it (the RAM page, pattern 5) stops exactly at
// the hole.
void ExpectCopyStopsBeforeTheUnmappedDevice(const KernelHostSpace& space) {
  std::array<std::byte, 32> buf;
  const CopyResult read = ReadFrom(space, kIoVa - 16, buf);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, Error::kPageFault);
  EXPECT_EQ(read.error().done, 16u);
  EXPECT_TRUE(MatchesPattern(std::span(buf).first(16), kPage - 16, 5));
}

// The kernel's MMU, watched: every flush first records whether a chosen
// frame is still allocated and whether the flush covers a chosen address,
// then goes to the real MMU.
class FlushWatchingMmu final : public hv::mm::Mmu {
 public:
  FlushWatchingMmu(hv::mm::Mmu& real, const FrameAllocator& frames)
      : real_(real), frames_(frames) {}

  hv::mm::CpuId CurrentCpu() const override { return real_.CurrentCpu(); }
  void SetRoot(HostPhysAddr root, uint16_t asid) override { real_.SetRoot(root, asid); }
  void ClearRoot() override { real_.ClearRoot(); }
  void Flush(hv::mm::CpuSet cpus, std::span<const hv::mm::TlbFlushOp> ops, uint16_t asid) override {
    ++flushes_;
    for (const hv::mm::TlbFlushOp& op : ops) covered_ = covered_ || op.Covers(va_);
    allocated_at_flush_ = frames_.IsAllocated(frame_);
    real_.Flush(cpus, ops, asid);
  }

  void Watch(HostPhysAddr frame, uint64_t va) {
    frame_ = frame;
    va_ = va;
    flushes_ = 0;
    covered_ = false;
  }
  int flushes() const { return flushes_; }
  bool covered() const { return covered_; }
  bool allocated_at_flush() const { return allocated_at_flush_; }

 private:
  hv::mm::Mmu& real_;
  const FrameAllocator& frames_;
  HostPhysAddr frame_;
  uint64_t va_ = 0;
  int flushes_ = 0;
  bool covered_ = false;
  bool allocated_at_flush_ = false;
};

}  // namespace

TEST(VmSpaceKernel, ReadersAndWritersCopyThroughTheMappings) {
  KernelMemory* kmem = Kmem();
  ASSERT_TRUE(kmem != nullptr);
  const uint64_t free_before = kmem->frames().free_frames();
  {
    auto space = kmem->CreateHostSpace();
    ASSERT_TRUE(space.ok());
    ScopedActivation active(*space);
    Frame user = NewFrame(*kmem);
    Frame supervisor = NewFrame(*kmem);
    FillPattern(user, 1);
    FillPattern(supervisor, 2);
    {
      auto cursor = space->OpenCursorMut(R(kVa, 2 * kPage));
      ASSERT_TRUE(cursor.ok());
      ASSERT_TRUE(cursor->Map(user, UserRw()).ok());
      ASSERT_TRUE(cursor->Map(supervisor, SupervisorRw()).ok());
    }
    // A whole page, then a copy across both.
    std::array<std::byte, kPage> page;
    auto reader = space->Reader(HostVirtAddr(kVa), kPage);
    ASSERT_TRUE(reader.ok());
    ASSERT_EQ(reader->Collect(page).value_or(0), kPage);
    EXPECT_TRUE(MatchesPattern(page, 0, 1));
    std::array<std::byte, 16> across;
    reader = space->Reader(HostVirtAddr(kVa + kPage - 8), 16);
    ASSERT_TRUE(reader.ok());
    ASSERT_EQ(reader->Collect(across).value_or(0), 16u);
    EXPECT_TRUE(MatchesPattern(std::span(across).first(8), kPage - 8, 1));
    EXPECT_TRUE(MatchesPattern(std::span(across).last(8), 0, 2)) << "the supervisor page";
    // Writes land in the frames, as their direct-map views show.
    auto writer = space->Writer(HostVirtAddr(kVa + 100), 8);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE(writer->WriteVal<uint64_t>(0x1122'3344'5566'7788).ok());
    EXPECT_EQ(Load64(HostPhysAddr(user.paddr().value() + 100)), 0x1122'3344'5566'7788u);
    auto both = space->ReaderWriter(HostVirtAddr(kVa + kPage + 64), 8);
    ASSERT_TRUE(both.ok());
    ASSERT_TRUE(both->second.WriteOnce<uint64_t>(0xfeed'f00d'0bad'cafe).ok());
    EXPECT_EQ(both->first.ReadOnce<uint64_t>().value_or(kFailed), 0xfeed'f00d'0bad'cafeu);
    EXPECT_EQ(Load64(HostPhysAddr(supervisor.paddr().value() + 64)), 0xfeed'f00d'0bad'cafeu);
    // And direct-map writes show through the mappings.
    Store64(HostPhysAddr(user.paddr().value() + 8), 0x0102'0304'0506'0708);
    EXPECT_EQ(Read64(*space, kVa + 8).value_or(kFailed), 0x0102'0304'0506'0708u);
  }
  EXPECT_EQ(kmem->frames().free_frames(), free_before);
}

TEST(VmSpaceKernel, ReadersAndWritersNeedTheActiveSpaceAndARangeInside) {
  KernelMemory* kmem = Kmem();
  ASSERT_TRUE(kmem != nullptr);
  auto space = kmem->CreateHostSpace();
  ASSERT_TRUE(space.ok());
  EXPECT_EQ(ErrorOf(space->Reader(HostVirtAddr(kVa), 8)), Error::kAccessDenied) << "never active";
  {
    ScopedActivation active(*space);
    EXPECT_TRUE(space->Reader(HostVirtAddr(kVa), 8).ok());
    const uint64_t end = KernelHostSpace::kBase + KernelHostSpace::kSize;
    EXPECT_EQ(end, hv::arch::kUserSpaceEnd);
    EXPECT_TRUE(space->Writer(HostVirtAddr(end - 8), 8).ok());
    EXPECT_EQ(ErrorOf(space->Writer(HostVirtAddr(end - 8), 9)), Error::kAccessDenied);
    EXPECT_EQ(ErrorOf(space->Reader(HostVirtAddr(hv::arch::kDirectMapBase), 8)),
              Error::kAccessDenied)
        << "the kernel half is not the space's";
    EXPECT_EQ(ErrorOf(space->ReaderWriter(HostVirtAddr(kVa), ~uint64_t{0})), Error::kAccessDenied);
    {
      auto other = kmem->CreateHostSpace();
      ASSERT_TRUE(other.ok());
      ScopedActivation other_active(*other);
      EXPECT_EQ(ErrorOf(space->Reader(HostVirtAddr(kVa), 8)), Error::kAccessDenied)
          << "another space is active";
      EXPECT_TRUE(other->Reader(HostVirtAddr(kVa), 8).ok());
    }
    EXPECT_EQ(ErrorOf(space->Writer(HostVirtAddr(kVa), 8)), Error::kAccessDenied)
        << "the other space's deactivation went to the kernel's root";
  }
  EXPECT_EQ(ErrorOf(space->Reader(HostVirtAddr(kVa), 8)), Error::kAccessDenied) << "deactivated";
}

// After an unmap the old frame is out of reach: a frame mapped into the hole
// is what a load sees (a missing flush would leave the old translation),
// a copy through the hole stops exactly at it, and the frame went back to
// the allocator only after the flush.
TEST(VmSpaceKernel, UnmappedPagesFaultWithTheExactCountAndFreeAfterTheFlush) {
  KernelMemory* kmem = Kmem();
  ASSERT_TRUE(kmem != nullptr);
  FrameAllocator& frames = kmem->frames();
  const uint64_t free_before = frames.free_frames();
  FlushWatchingMmu mmu(kmem->mmu(), frames);
  {
    auto space = KernelHostSpace::Create(
        frames, kmem->phys(), mmu, hv::mm::VmSpaceOptions{.shared_root = kmem->kernel_root()});
    ASSERT_TRUE(space.ok());
    ScopedActivation active(*space);
    Frame first = NewFrame(*kmem);
    Frame second = NewFrame(*kmem);
    // Allocated now, so that it cannot be `second` coming back.
    Frame filler = NewFrame(*kmem);
    FillPattern(first, 3);
    FillPattern(second, 4);
    FillPattern(filler, 5);
    const HostPhysAddr second_pa = second.paddr();
    const uint64_t second_word = Load64(second_pa);
    {
      auto cursor = space->OpenCursorMut(R(kVa, 2 * kPage));
      ASSERT_TRUE(cursor.ok());
      ASSERT_TRUE(cursor->Map(first, UserRw()).ok());
      ASSERT_TRUE(cursor->Map(std::move(second), SupervisorRw()).ok());
    }
    std::array<std::byte, 2 * kPage> both;
    ASSERT_EQ(space->Reader(HostVirtAddr(kVa), 2 * kPage)->Collect(both).value_or(0), 2 * kPage);
    EXPECT_TRUE(MatchesPattern(std::span(both).first(kPage), 0, 3));
    EXPECT_TRUE(MatchesPattern(std::span(both).last(kPage), 0, 4));
    // Translated, so the TLB holds it.
    EXPECT_EQ(PlainLoad<uint64_t>(kVa + kPage), second_word);

    mmu.Watch(second_pa, kVa + kPage);
    const uint64_t free_before_unmap = frames.free_frames();
    {
      auto cursor = space->OpenCursorMut(R(kVa + kPage, kPage));
      ASSERT_TRUE(cursor.ok());
      EXPECT_EQ(cursor->Unmap(kPage).value(), 1u);
      EXPECT_FALSE(frames.IsAllocated(second_pa)) << "Unmap returns after the flush";
    }
    EXPECT_EQ(mmu.flushes(), 1);
    EXPECT_TRUE(mmu.covered());
    EXPECT_TRUE(mmu.allocated_at_flush()) << "the frame was freed before its flush";
    EXPECT_EQ(frames.free_frames(), free_before_unmap + 1);

    {
      auto cursor = space->OpenCursorMut(R(kVa + kPage, kPage));
      ASSERT_TRUE(cursor.ok());
      auto replaced = cursor->Map(filler, SupervisorRw());
      ASSERT_TRUE(replaced.ok());
      EXPECT_FALSE(replaced->has_value()) << "an empty slot: nothing to flush";
    }
    EXPECT_EQ(PlainLoad<uint64_t>(kVa + kPage), Load64(filler.paddr()))
        << "the unmapped frame is still reachable: stale translation";
    {
      auto cursor = space->OpenCursorMut(R(kVa + kPage, kPage));
      ASSERT_TRUE(cursor.ok());
      EXPECT_EQ(cursor->Unmap(kPage).value(), 1u);
    }

    // Reading 300 bytes from 100 before the hole: exactly 100 arrive.
    std::array<std::byte, 300> buf;
    buf.fill(std::byte{0xee});
    auto reader = space->Reader(HostVirtAddr(kVa + kPage - 100), buf.size());
    ASSERT_TRUE(reader.ok());
    auto out = VmWriter<Infallible>::FromSpan(buf);
    const CopyResult read = reader->ReadFallible(out);
    ASSERT_FALSE(read.ok()) << "read the unmapped page: a stale TLB entry?";
    EXPECT_EQ(read.error().code, Error::kPageFault);
    EXPECT_EQ(read.error().done, 100u);
    EXPECT_EQ(reader->remain(), 200u);
    EXPECT_TRUE(MatchesPattern(std::span(buf).first(100), kPage - 100, 3));
    EXPECT_EQ(buf[100], std::byte{0xee});
    // Writing 100 bytes from 50 before it: exactly 50 land.
    std::array<std::byte, 100> src;
    src.fill(std::byte{0x5a});
    auto writer = space->Writer(HostVirtAddr(kVa + kPage - 50), src.size());
    ASSERT_TRUE(writer.ok());
    auto in = VmReader<Infallible>::FromSpan(src);
    const CopyResult written = writer->WriteFallible(in);
    ASSERT_FALSE(written.ok());
    EXPECT_EQ(written.error().code, Error::kPageFault);
    EXPECT_EQ(written.error().done, 50u);
    EXPECT_EQ(Load8(HostPhysAddr(first.paddr().value() + kPage - 50)), 0x5a);
    EXPECT_EQ(Load8(HostPhysAddr(first.paddr().value() + kPage - 51)), PatternByte(kPage - 51, 3));
    EXPECT_EQ(ErrorOf(Read64(*space, kVa + kPage)), Error::kPageFault);
  }
  EXPECT_EQ(frames.free_frames(), free_before);
}

// Mapping a new frame where one is mapped flushes the old translation: a
// load right after sees the new frame (on a stale TLB, the old one).
TEST(VmSpaceKernel, RemappingFlushesTheOldTranslation) {
  KernelMemory* kmem = Kmem();
  ASSERT_TRUE(kmem != nullptr);
  const uint64_t free_before = kmem->frames().free_frames();
  {
    auto space = kmem->CreateHostSpace();
    ASSERT_TRUE(space.ok());
    ScopedActivation active(*space);
    Frame old_frame = NewFrame(*kmem);
    Frame new_frame = NewFrame(*kmem);
    Store64(old_frame.paddr(), 0x01d0'01d0'01d0'01d0);
    Store64(new_frame.paddr(), 0x0e30'0e30'0e30'0e30);
    auto cursor = space->OpenCursorMut(R(kVa, kPage));
    ASSERT_TRUE(cursor.ok());
    ASSERT_TRUE(cursor->Map(old_frame, SupervisorRw()).ok());
    EXPECT_EQ(PlainLoad<uint64_t>(kVa), 0x01d0'01d0'01d0'01d0u);
    ASSERT_TRUE(cursor->Jump(HostVirtAddr(kVa)).ok());
    auto replaced = cursor->Map(new_frame, SupervisorRw());
    ASSERT_TRUE(replaced.ok());
    EXPECT_EQ(PlainLoad<uint64_t>(kVa), 0x0e30'0e30'0e30'0e30u) << "stale translation";
    ASSERT_TRUE(replaced->has_value());
    const auto* ram = std::get_if<MappedRam>(&**replaced);
    ASSERT_TRUE(ram != nullptr);
    EXPECT_TRUE(ram->frame == old_frame);
    EXPECT_EQ(Read64(*space, kVa).value_or(kFailed), 0x0e30'0e30'0e30'0e30u);
    ASSERT_TRUE(Write64(*space, kVa, 42).ok());
    EXPECT_EQ(Load64(new_frame.paddr()), 42u);
    EXPECT_EQ(Load64(old_frame.paddr()), 0x01d0'01d0'01d0'01d0u);
    ASSERT_TRUE(cursor->Jump(HostVirtAddr(kVa)).ok());
    EXPECT_EQ(cursor->Unmap(kPage).value(), 1u);
  }
  EXPECT_EQ(kmem->frames().free_frames(), free_before);
}

// Taking W away from a page makes fallible writes fault (a stale writable
// TLB entry would let them through) while reads still work.
TEST(VmSpaceKernel, ProtectMakesAPageReadOnly) {
  KernelMemory* kmem = Kmem();
  ASSERT_TRUE(kmem != nullptr);
  const uint64_t free_before = kmem->frames().free_frames();
  {
    auto space = kmem->CreateHostSpace();
    ASSERT_TRUE(space.ok());
    ScopedActivation active(*space);
    {
      auto cursor = space->OpenCursorMut(R(kVa, 2 * kPage));
      ASSERT_TRUE(cursor.ok());
      ASSERT_TRUE(cursor->Map(NewFrame(*kmem), UserRw()).ok());
      ASSERT_TRUE(cursor->Map(NewFrame(*kmem), UserRw()).ok());
    }
    ASSERT_TRUE(Write64(*space, kVa + kPage, 1).ok());
    ASSERT_TRUE(Write64(*space, kVa + kPage - 8, 2).ok());
    {
      auto cursor = space->OpenCursorMut(R(kVa + kPage, kPage));
      ASSERT_TRUE(cursor.ok());
      auto found = cursor->ProtectNext(
          kPage, [](PageFlags& flags, CachePolicy&) { flags = flags - PageFlags::kW; });
      ASSERT_TRUE(found.ok());
      ASSERT_TRUE(found->has_value());
      EXPECT_EQ(**found, R(kVa + kPage, kPage));
    }  // The cursor dispatches the flush.
    EXPECT_EQ(ErrorOf(Write64(*space, kVa + kPage, 3)), Error::kPageFault)
        << "stale writable entry?";
    EXPECT_EQ(Read64(*space, kVa + kPage).value_or(kFailed), 1u);
    // A write across the boundary stops at the read-only page.
    const std::array<std::byte, 16> src{};
    auto writer = space->Writer(HostVirtAddr(kVa + kPage - 8), src.size());
    ASSERT_TRUE(writer.ok());
    auto in = VmReader<Infallible>::FromSpan(src);
    const CopyResult written = writer->WriteFallible(in);
    ASSERT_FALSE(written.ok());
    EXPECT_EQ(written.error().code, Error::kPageFault);
    EXPECT_EQ(written.error().done, 8u);
    EXPECT_EQ(Read64(*space, kVa + kPage - 8).value_or(kFailed), 0u);
    EXPECT_EQ(Read64(*space, kVa + kPage).value_or(kFailed), 1u);
    {
      auto cursor = space->OpenCursorMut(R(kVa + kPage, kPage));
      ASSERT_TRUE(cursor.ok());
      auto found = cursor->ProtectNext(
          kPage, [](PageFlags& flags, CachePolicy&) { flags = flags | PageFlags::kW; });
      ASSERT_TRUE(found.ok() && found->has_value());
    }
    EXPECT_TRUE(Write64(*space, kVa + kPage, 4).ok()) << "writable again";
    EXPECT_EQ(Read64(*space, kVa + kPage).value_or(kFailed), 4u);
    auto cursor = space->OpenCursorMut(R(kVa, 2 * kPage));
    ASSERT_TRUE(cursor.ok());
    EXPECT_EQ(cursor->Unmap(2 * kPage).value(), 2u);
  }
  EXPECT_EQ(kmem->frames().free_frames(), free_before);
}

// A 2 MiB frame is one leaf; unmapping one 4 KiB page of it splits the leaf,
// takes exactly that page away (a frame mapped into the hole is what loads
// see there, copies into the hole stop at it), leaves the rest of the frame
// mapped, and keeps the frame until its last piece is unmapped.
TEST(VmSpaceKernel, HugePagesMapAndSplitOnPartialUnmap) {
  KernelMemory* kmem = Kmem();
  ASSERT_TRUE(kmem != nullptr);
  FrameAllocator& frames = kmem->frames();
  const uint64_t free_before = frames.free_frames();
  {
    auto space = kmem->CreateHostSpace();
    ASSERT_TRUE(space.ok());
    ScopedActivation active(*space);
    Frame huge = NewFrame(*kmem, 2);
    Frame patch = NewFrame(*kmem);
    ASSERT_EQ(huge.size(), k2M);
    ASSERT_TRUE(huge.paddr().IsAligned(k2M));
    const HostPhysAddr huge_pa = huge.paddr();
    for (uint64_t i = 0; i < k2M / kPage; ++i) {
      Store64(HostPhysAddr(huge_pa.value() + i * kPage), 0x1000 + i);
    }
    Store64(patch.paddr(), 0x9a7c'9a7c'9a7c'9a7c);
    auto cursor = space->OpenCursorMut(R(kVa, k2M));
    ASSERT_TRUE(cursor.ok());
    ASSERT_TRUE(cursor->Map(std::move(huge), SupervisorRw()).ok());
    ASSERT_TRUE(cursor->Jump(HostVirtAddr(kVa)).ok());
    EXPECT_EQ(cursor->Query().value().first, R(kVa, k2M)) << "one 2 MiB leaf";
    for (uint64_t i : {0u, 5u, 6u, 511u}) {
      EXPECT_EQ(Read64(*space, kVa + i * kPage).value_or(kFailed), 0x1000 + i) << "page " << i;
    }
    // After the fallible reads (see the top of the file): page 5 is in the
    // TLB when it is unmapped.
    for (uint64_t i : {0u, 6u, 511u, 5u}) {
      EXPECT_EQ(PlainLoad<uint64_t>(kVa + i * kPage), 0x1000 + i) << "page " << i;
    }

    ASSERT_TRUE(cursor->Jump(HostVirtAddr(kVa + 5 * kPage)).ok());
    EXPECT_EQ(cursor->Unmap(kPage).value(), 1u);
    ASSERT_TRUE(cursor->Jump(HostVirtAddr(kVa)).ok());
    EXPECT_EQ(cursor->Query().value().first, R(kVa, kPage)) << "split into 4 KiB leaves";
    EXPECT_TRUE(frames.IsAllocated(huge_pa)) << "511 pieces are still mapped";
    ASSERT_TRUE(cursor->Jump(HostVirtAddr(kVa + 5 * kPage)).ok());
    ASSERT_TRUE(cursor->Map(patch, SupervisorRw()).ok());
    EXPECT_EQ(PlainLoad<uint64_t>(kVa + 5 * kPage), 0x9a7c'9a7c'9a7c'9a7cu)
        << "stale 2 MiB translation";
    for (uint64_t i : {0u, 4u, 6u, 511u}) {
      EXPECT_EQ(PlainLoad<uint64_t>(kVa + i * kPage), 0x1000 + i) << "page " << i;
    }
    ASSERT_TRUE(cursor->Jump(HostVirtAddr(kVa + 5 * kPage)).ok());
    EXPECT_EQ(cursor->Unmap(kPage).value(), 1u);

    EXPECT_EQ(ErrorOf(Read64(*space, kVa + 5 * kPage)), Error::kPageFault);
    std::array<std::byte, 16> buf;
    const CopyResult read = ReadFrom(*space, kVa + 6 * kPage - 8, buf);
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.error().done, 0u) << "starts in the hole";
    const CopyResult into_hole = ReadFrom(*space, kVa + 5 * kPage - 8, buf);
    ASSERT_FALSE(into_hole.ok());
    EXPECT_EQ(into_hole.error().done, 8u);
    for (uint64_t i : {0u, 4u, 6u, 511u}) {
      EXPECT_EQ(Read64(*space, kVa + i * kPage).value_or(kFailed), 0x1000 + i) << "page " << i;
    }

    ASSERT_TRUE(cursor->Jump(HostVirtAddr(kVa)).ok());
    EXPECT_EQ(cursor->Unmap(k2M).value(), 511u);
    EXPECT_FALSE(frames.IsAllocated(huge_pa));
    EXPECT_EQ(ErrorOf(Read64(*space, kVa)), Error::kPageFault);
  }
  EXPECT_EQ(frames.free_frames(), free_before);
}

#if defined(__riscv)
// The virt board's 16550 UART through a lower-half mapping: LSR reads, the
// scratch register round-trips against the direct map, and bytes written to
// THR appear on the console.
TEST(VmSpaceKernel, IoMemMapsTheUart) {
  constexpr uint64_t kThr = 0;
  constexpr uint64_t kLsr = 5;
  constexpr uint64_t kScr = 7;
  constexpr uint8_t kLsrThrEmpty = 0x20;
  KernelMemory* kmem = Kmem();
  ASSERT_TRUE(kmem != nullptr);
  const uint64_t free_before = kmem->frames().free_frames();
  {
    auto space = kmem->CreateHostSpace();
    ASSERT_TRUE(space.ok());
    ScopedActivation active(*space);
    const auto uart = IoMem::Create(HostPhysAddr(hv::board::kUart0Base), kPage);
    ASSERT_TRUE(uart.ok());
    Frame ram = NewFrame(*kmem);
    FillPattern(ram, 5);
    auto cursor = space->OpenCursorMut(R(kIoVa - kPage, 2 * kPage));
    ASSERT_TRUE(cursor.ok());
    ASSERT_TRUE(cursor->Map(ram, UserRw()).ok());
    ASSERT_TRUE(cursor->MapIoMem(*uart, DeviceRw(), kPage, 0).ok());

    auto reg = [&](uint64_t offset) {
      return space->ReaderWriter(HostVirtAddr(kIoVa + offset), 1);
    };
    const auto lsr = reg(kLsr)->first.ReadOnce<uint8_t>();
    ASSERT_TRUE(lsr.ok());
    EXPECT_NE(*lsr & kLsrThrEmpty, 0) << "LSR " << *lsr;
    volatile uint8_t* direct_scr = hv::PtrFromHostVirt<volatile uint8_t>(
        hv::arch::PhysToVirt(HostPhysAddr(hv::board::kUart0Base + kScr)));
    // SAFETY (every *direct_scr below): the UART's scratch register, in the
    // direct map (device memory, one byte access, no side effects).
    ASSERT_TRUE(reg(kScr)->second.WriteOnce<uint8_t>(0xa5).ok());
    EXPECT_EQ(*direct_scr, 0xa5);
    *direct_scr = 0x5a;
    EXPECT_EQ(reg(kScr)->first.ReadOnce<uint8_t>().value_or(0), 0x5a);
    for (const char c : std::string_view("[uart through a VmSpace mapping]\n")) {
      while ((reg(kLsr)->first.ReadOnce<uint8_t>().value_or(kLsrThrEmpty) & kLsrThrEmpty) == 0) {
      }
      ASSERT_TRUE(reg(kThr)->second.WriteOnce<uint8_t>(static_cast<uint8_t>(c)).ok());
    }

    ASSERT_TRUE(cursor->Jump(HostVirtAddr(kIoVa)).ok());
    EXPECT_EQ(cursor->Unmap(kPage).value(), 0u) << "I/O leaves are not counted";
    // (Not a flush check: QEMU does not keep device translations in its
    // TLB. See the top of the file.)
    EXPECT_EQ(ErrorOf(reg(kLsr)->first.ReadOnce<uint8_t>()), Error::kPageFault);
    EXPECT_EQ(ErrorOf(reg(kScr)->second.WriteOnce<uint8_t>(0)), Error::kPageFault);
    EXPECT_EQ(*direct_scr, 0x5a) << "the faulting write did not reach the device";
    ExpectCopyStopsBeforeTheUnmappedDevice(*space);
    EXPECT_TRUE(space->FindIoMemByPaddr(HostPhysAddr(hv::board::kUart0Base + kLsr)).has_value());
    ASSERT_TRUE(cursor->Jump(HostVirtAddr(kIoVa - kPage)).ok());
    EXPECT_EQ(cursor->Unmap(kPage).value(), 1u);
  }
  EXPECT_EQ(kmem->frames().free_frames(), free_before);
}
#elif defined(__x86_64__)
// The HPET through a lower-half mapping (uncached): plausible capabilities,
// the same as through the direct map, and a main counter that advances once
// enabled.
TEST(VmSpaceKernel, IoMemMapsTheHpet) {
  constexpr uint64_t kCapabilities = 0x0;
  constexpr uint64_t kPeriod = 0x4;  // upper half of the capabilities
  constexpr uint64_t kConfig = 0x10;
  constexpr uint64_t kCounter = 0xf0;
  constexpr uint32_t kEnable = 1;
  // The HPET specification's bound on the counter period: 100 ns, in fs.
  constexpr uint32_t kMaxPeriodFs = 100'000'000;
  KernelMemory* kmem = Kmem();
  ASSERT_TRUE(kmem != nullptr);
  const uint64_t free_before = kmem->frames().free_frames();
  {
    auto space = kmem->CreateHostSpace();
    ASSERT_TRUE(space.ok());
    ScopedActivation active(*space);
    const auto hpet = IoMem::Create(HostPhysAddr(hv::board::kHpetBase), kPage);
    ASSERT_TRUE(hpet.ok());
    Frame ram = NewFrame(*kmem);
    FillPattern(ram, 5);
    auto cursor = space->OpenCursorMut(R(kIoVa - kPage, 2 * kPage));
    ASSERT_TRUE(cursor.ok());
    ASSERT_TRUE(cursor->Map(ram, UserRw()).ok());
    ASSERT_TRUE(cursor->MapIoMem(*hpet, DeviceRw(), kPage, 0).ok());

    auto reg = [&](uint64_t offset) {
      return space->ReaderWriter(HostVirtAddr(kIoVa + offset), 4);
    };
    auto direct = [](uint64_t offset) {
      // SAFETY: an HPET register in the direct map (uncached top GiB),
      // read with one aligned 32-bit load.
      return *hv::PtrFromHostVirt<volatile uint32_t>(
          hv::arch::PhysToVirt(HostPhysAddr(hv::board::kHpetBase + offset)));
    };
    const auto caps = reg(kCapabilities)->first.ReadOnce<uint32_t>();
    const auto period = reg(kPeriod)->first.ReadOnce<uint32_t>();
    ASSERT_TRUE(caps.ok() && period.ok());
    hv::Printf("HPET: capabilities %#x, period %u fs\n", *caps, *period);
    EXPECT_NE(*caps & 0xff, 0u) << "revision";
    EXPECT_NE(*caps >> 16, 0u) << "vendor";
    EXPECT_NE(*caps >> 16, 0xffffu) << "vendor (all ones: nothing there)";
    EXPECT_GT(*period, 0u);
    EXPECT_LE(*period, kMaxPeriodFs);
    EXPECT_EQ(*caps, direct(kCapabilities));
    EXPECT_EQ(*period, direct(kPeriod));
    const uint32_t config = reg(kConfig)->first.ReadOnce<uint32_t>().value_or(0);
    ASSERT_TRUE(reg(kConfig)->second.WriteOnce<uint32_t>(config | kEnable).ok());
    EXPECT_EQ(direct(kConfig) & kEnable, kEnable);
    const uint32_t before = reg(kCounter)->first.ReadOnce<uint32_t>().value_or(0);
    uint32_t after = before;
    for (int i = 0; i < 1'000'000 && after == before; ++i) {
      after = reg(kCounter)->first.ReadOnce<uint32_t>().value_or(0);
    }
    EXPECT_NE(after, before) << "the main counter does not advance";
    ASSERT_TRUE(reg(kConfig)->second.WriteOnce<uint32_t>(config).ok());

    ASSERT_TRUE(cursor->Jump(HostVirtAddr(kIoVa)).ok());
    EXPECT_EQ(cursor->Unmap(kPage).value(), 0u) << "I/O leaves are not counted";
    // (Not a flush check: QEMU does not keep device translations in its
    // TLB. See the top of the file.)
    EXPECT_EQ(ErrorOf(reg(kCapabilities)->first.ReadOnce<uint32_t>()), Error::kPageFault);
    EXPECT_EQ(ErrorOf(reg(kConfig)->second.WriteOnce<uint32_t>(config | kEnable)),
              Error::kPageFault);
    EXPECT_EQ(direct(kConfig), config) << "the faulting write did not reach the device";
    ExpectCopyStopsBeforeTheUnmappedDevice(*space);
    EXPECT_TRUE(space->FindIoMemByPaddr(HostPhysAddr(hv::board::kHpetBase + kCounter)).has_value());
    ASSERT_TRUE(cursor->Jump(HostVirtAddr(kIoVa - kPage)).ok());
    EXPECT_EQ(cursor->Unmap(kPage).value(), 1u);
  }
  EXPECT_EQ(kmem->frames().free_frames(), free_before);
}
#endif

namespace {

// Every cursor operation on a space of another format, over kernel memory
// (never activated: these formats are not what the kernel runs on).
template <typename Space>
void ExerciseFormat(KernelMemory& kmem, hv::mm::Mmu& mmu) {
  using Vaddr = typename Space::Vaddr;
  const uint64_t free_before = kmem.frames().free_frames();
  {
    auto space = Space::Create(kmem.frames(), kmem.phys(), mmu);
    ASSERT_TRUE(space.ok());
    const auto range = *hv::AddrRange<Vaddr>::Create(Vaddr(uint64_t{1} << 30), 4 * k2M);
    auto cursor = space->OpenCursorMut(range);
    ASSERT_TRUE(cursor.ok());
    ASSERT_TRUE(cursor->Map(NewFrame(kmem), SupervisorRw()).ok());
    ASSERT_TRUE(cursor->Jump(Vaddr(range.start().value() + k2M)).ok());
    ASSERT_TRUE(cursor->Map(NewFrame(kmem, 2), SupervisorRw()).ok());
    const auto io = IoMem::Create(HostPhysAddr(0x1000'0000), k2M);
    ASSERT_TRUE(io.ok());
    ASSERT_TRUE(cursor->MapIoMem(*io, DeviceRw(), k2M, 0).ok());
    ASSERT_TRUE(cursor->Jump(range.start()).ok());
    EXPECT_EQ(cursor->FindNext(range.size()), range.start());
    ASSERT_TRUE(cursor->Jump(Vaddr(range.start().value() + 2 * k2M)).ok());
    auto io_leaf = cursor->Query();
    ASSERT_TRUE(io_leaf.ok() && io_leaf->second.has_value());
    EXPECT_EQ(io_leaf->first.size(), k2M);
    EXPECT_TRUE(std::holds_alternative<hv::mm::MappedIoMem>(*io_leaf->second));
    ASSERT_TRUE(cursor->Jump(range.start()).ok());
    auto found = cursor->ProtectNext(
        range.size(), [](PageFlags& flags, CachePolicy&) { flags = flags - PageFlags::kW; });
    ASSERT_TRUE(found.ok() && found->has_value());
    ASSERT_TRUE(cursor->Jump(range.start()).ok());
    EXPECT_EQ(cursor->Unmap(range.size()).value(), 2u);
    EXPECT_TRUE(space->FindIoMemByPaddr(HostPhysAddr(0x1000'0000)).has_value());
  }
  EXPECT_EQ(kmem.frames().free_frames(), free_before);
}

}  // namespace

TEST(VmSpaceKernel, OtherFormatsWorkOnKernelMemory) {
  KernelMemory* kmem = Kmem();
  ASSERT_TRUE(kmem != nullptr);
#if defined(__riscv)
  using hv::arch::riscv64::Sv39x4PteFormat;
  using hv::arch::riscv64::Sv48PteFormat;
  using hv::arch::riscv64::Sv48x4PteFormat;
  hv::arch::riscv64::SatpMmu sv48(Sv48PteFormat<>::kTranslationMode, 0);
  hv::arch::riscv64::HgatpMmu hgatp(Sv39x4PteFormat<>::kTranslationMode);
  ExerciseFormat<
      hv::mm::VmSpace<hv::mm::HostSpaceConfig<Sv48PteFormat<>>, hv::mm::DirectMapPhysMem>>(*kmem,
                                                                                           sv48);
  ExerciseFormat<
      hv::mm::VmSpace<hv::mm::GuestSpaceConfig<Sv39x4PteFormat<>>, hv::mm::DirectMapPhysMem>>(
      *kmem, hgatp);
  ExerciseFormat<
      hv::mm::VmSpace<hv::mm::GuestSpaceConfig<Sv48x4PteFormat<>>, hv::mm::DirectMapPhysMem>>(
      *kmem, hgatp);
#elif defined(__x86_64__)
  hv::arch::x86_64::NptMmu npt;
  ExerciseFormat<hv::mm::VmSpace<hv::mm::GuestSpaceConfig<hv::arch::x86_64::NptPteFormat>,
                                 hv::mm::DirectMapPhysMem>>(*kmem, npt);
#endif
}
