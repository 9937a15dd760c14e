// Property test: 100 000 random cursor operations per format, each checked
// against a reference model, on the host over a simulated arena.
//
// The model is a map from a leaf's first address to what it maps (size,
// physical address, property, RAM or I/O). It knows one rule of the
// engine beyond "a map from page to item": a leaf is split (into 512
// leaves one level down, recursively) exactly when an operation's range
// boundary falls inside it. That makes every answer checkable exactly:
// Map's replaced item, Unmap's count, ProtectNext's ranges, Query's slot,
// FindNext's address, the reference counts of frames, and the number of
// leaves in the table.
//
// After every operation, each page whose translation changed or went away
// must have been covered by a TLB flush (on the CPU where the space is
// active) before the cursor was destroyed. Every 2000 operations the whole
// table is compared with the model and its invariants checked (child
// counts, no empty page-table pages left behind).
//
// HV_PROPERTY_OPS and HV_PROPERTY_SEED (environment) override the number of
// operations and the seed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <random>
#include <vector>

#include <mm/frame.h>
#include <mm/io_mem.h>
#include <mm/testing/arena_space.h>
#include <mm/vm_space.h>

namespace hv::mm {
namespace {

using testing::FakeMmu;
using testing::kGiB;
using testing::kMiB;

constexpr uint64_t k2M = 2 * kMiB;

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::strtoull(value, nullptr, 0) : fallback;
}

PagingLevel LevelOfSize(uint64_t size) {
  for (PagingLevel level = 1; level <= 3; ++level) {
    if (PageSizeAt(level) == size) return level;
  }
  ADD_FAILURE() << "no level for size " << size;
  return 1;
}

struct ModelLeaf {
  uint64_t size;
  uint64_t pa;
  PageProperty prop;  // as the table reports it (kAvail1 on I/O leaves)
  bool io;
  bool operator==(const ModelLeaf&) const = default;
};

// The reference model: leaves by first address, never overlapping.
class Model {
 public:
  const std::map<uint64_t, ModelLeaf>& leaves() const { return leaves_; }

  // The leaf containing `va`, if any.
  std::optional<std::pair<uint64_t, ModelLeaf>> Find(uint64_t va) const {
    auto it = leaves_.upper_bound(va);
    if (it == leaves_.begin()) return std::nullopt;
    --it;
    if (va - it->first < it->second.size) return *it;
    return std::nullopt;
  }

  // Splits leaves until none straddles `at`, as the engine's walks do.
  void SplitAt(uint64_t at) {
    while (true) {
      auto found = Find(at);
      if (!found || found->first == at) return;
      const auto [start, leaf] = *found;
      leaves_.erase(start);
      const uint64_t child = leaf.size / kEntriesPerTable;
      for (uint64_t i = 0; i < kEntriesPerTable; ++i) {
        leaves_[start + i * child] = ModelLeaf{child, leaf.pa + i * child, leaf.prop, leaf.io};
      }
    }
  }

  // Removes the leaves inside [start, end) (after SplitAt of both ends) and
  // returns them.
  std::vector<std::pair<uint64_t, ModelLeaf>> Take(uint64_t start, uint64_t end) {
    std::vector<std::pair<uint64_t, ModelLeaf>> taken;
    auto it = leaves_.lower_bound(start);
    while (it != leaves_.end() && it->first < end) {
      taken.push_back(*it);
      it = leaves_.erase(it);
    }
    return taken;
  }

  void Insert(uint64_t va, ModelLeaf leaf) { leaves_[va] = leaf; }

  std::vector<std::pair<uint64_t, ModelLeaf*>> In(uint64_t start, uint64_t end) {
    std::vector<std::pair<uint64_t, ModelLeaf*>> found;
    for (auto it = leaves_.lower_bound(start); it != leaves_.end() && it->first < end; ++it) {
      found.emplace_back(it->first, &it->second);
    }
    return found;
  }

 private:
  std::map<uint64_t, ModelLeaf> leaves_;
};

template <typename Config>
class PropertyTest : public testing::ArenaSpaceTest<Config, 256 * kMiB> {
 protected:
  using Base = testing::ArenaSpaceTest<Config, 256 * kMiB>;
  using Base::alloc_;
  using Base::mmu_;
  using Base::R;
  using Base::space_;
  using typename Base::FormatT;
  using typename Base::RangeT;
  using typename Base::SpaceT;
  using typename Base::VaddrT;
  using CursorT = typename SpaceT::CursorMut;

  // The window the operations touch: [3 GiB, 5 GiB), with a hot zone of
  // 4 MiB across the 4 GiB boundary (a root-entry boundary of the 3-level
  // formats, so some cursors span two root entries).
  static constexpr uint64_t kWindow = 3 * kGiB;
  static constexpr uint64_t kWindowSize = 2 * kGiB;
  static constexpr uint64_t kHot = 4 * kGiB - 2 * kMiB;
  static constexpr uint64_t kHotSize = 4 * kMiB;
  static constexpr uint64_t kIoPa = 0x40'0000'0000;

  void SetUp() override {
    Base::SetUp();
    for (int i = 0; i < 64; ++i) small_.push_back(alloc_->Alloc(1).value());
    for (int i = 0; i < 8; ++i) huge_.push_back(alloc_->Alloc(2).value());
    ios_.push_back(IoMem::Create(HostPhysAddr(kIoPa), 3 * kPageSize).value());
    ios_.push_back(IoMem::Create(HostPhysAddr(kIoPa + kGiB), k2M + kPageSize).value());
    ios_.push_back(IoMem::Create(HostPhysAddr(kIoPa + 2 * kGiB), kGiB).value());
  }

  void ReleaseFrames() override {
    small_.clear();
    huge_.clear();
  }

  // What the table reports for `prop` on a leaf.
  static PageProperty Normalize(PageProperty prop, bool io) {
    if (io) {
      prop.priv_flags |= PrivilegedPageFlags::kAvail1;
    } else {
      prop.priv_flags -= PrivilegedPageFlags::kAvail1;
    }
    return FormatT::LeafProperty(FormatT::MakeLeaf(HostPhysAddr(0), 1, prop), 1);
  }

  PageProperty RandomProp() {
    PageProperty prop;
    prop.flags = static_cast<PageFlags>(rng_() & 0x1f);
    prop.cache = static_cast<CachePolicy>(rng_() % 3);
    prop.priv_flags = static_cast<PrivilegedPageFlags>(rng_() & 0x3);
    return prop;
  }
  uint64_t Below(uint64_t n) { return rng_() % n; }
  bool Chance(int percent) { return Below(100) < static_cast<uint64_t>(percent); }

  // A page-aligned range inside the window: mostly in the hot zone.
  std::pair<uint64_t, uint64_t> RandomRange() {
    const bool hot = Chance(85);
    const uint64_t zone = hot ? kHot : kWindow;
    const uint64_t zone_size = hot ? kHotSize : kWindowSize;
    uint64_t pages;
    switch (Below(10)) {
      case 0:
        pages = 1 + Below(2048);
        break;
      case 1:
        pages = 512 * (1 + Below(4));
        break;
      default:
        pages = 1 + Below(40);
        break;
    }
    const uint64_t len = std::min(pages * kPageSize, zone_size);
    const uint64_t start = zone + Below((zone_size - len) / kPageSize + 1) * kPageSize;
    return {start, len};
  }

  // Records that [start, start + size) changed translation and must be
  // covered by a flush before the cursor is destroyed.
  void MustFlush(uint64_t start, uint64_t size) { must_flush_.emplace_back(start, size); }

  // Checks MustFlush ranges against the flushes since `since`.
  void CheckFlushes(size_t since) {
    if (must_flush_.empty()) return;
    std::vector<std::pair<uint64_t, uint64_t>> flushed;
    bool all = false;
    const auto records = mmu_.flushes();
    for (size_t i = since; i < records.size(); ++i) {
      if (!records[i].cpus.Contains(0)) continue;
      for (const TlbFlushOp& op : records[i].ops) {
        if (op.is_all()) all = true;
        if (!op.is_all()) flushed.emplace_back(op.start(), op.start() + op.num_pages() * kPageSize);
      }
    }
    if (!all) {
      std::sort(flushed.begin(), flushed.end());
      std::vector<std::pair<uint64_t, uint64_t>> merged;
      for (const auto& r : flushed) {
        if (!merged.empty() && r.first <= merged.back().second) {
          merged.back().second = std::max(merged.back().second, r.second);
        } else {
          merged.push_back(r);
        }
      }
      for (const auto& [start, size] : must_flush_) {
        auto it = std::upper_bound(merged.begin(), merged.end(), std::pair(start, ~uint64_t{0}));
        const bool covered = it != merged.begin() && std::prev(it)->first <= start &&
                             std::prev(it)->second >= start + size;
        ASSERT_TRUE(covered) << Where() << "changed [" << std::hex << start << ", +" << size
                             << ") not flushed";
      }
    }
    must_flush_.clear();
  }

  std::string Where() const {
    return "seed " + std::to_string(seed_) + " op " + std::to_string(op_) + ": ";
  }

  void ExpectItem(const std::optional<VmQueriedItem>& item, const ModelLeaf& leaf) {
    ASSERT_TRUE(item.has_value()) << Where() << "missing item";
    if (leaf.io) {
      const auto* io = std::get_if<MappedIoMem>(&*item);
      ASSERT_NE(io, nullptr) << Where() << "RAM where I/O expected";
      EXPECT_EQ(io->paddr.value(), leaf.pa) << Where();
      EXPECT_EQ(io->prop, leaf.prop) << Where();
    } else {
      const auto* ram = std::get_if<MappedRam>(&*item);
      ASSERT_NE(ram, nullptr) << Where() << "I/O where RAM expected";
      EXPECT_EQ(ram->frame.paddr().value(), leaf.pa) << Where();
      EXPECT_EQ(ram->frame.level(), LevelOfSize(leaf.size)) << Where();
      EXPECT_EQ(ram->prop, leaf.prop) << Where();
    }
  }

  // Map `leaf` at `va` through `cursor` (positioned at va) and check what
  // it replaced.
  void MapAndCheck(CursorT& cursor, uint64_t va, const ModelLeaf& leaf, Frame frame) {
    model_.SplitAt(va);
    model_.SplitAt(va + leaf.size);
    const auto taken = model_.Take(va, va + leaf.size);
    for (const auto& [start, old] : taken) MustFlush(start, old.size);
    std::optional<ModelLeaf> expected;
    if (taken.size() == 1 && taken[0].first == va && taken[0].second.size == leaf.size) {
      expected = taken[0].second;
    }
    model_.Insert(va, leaf);
    std::optional<VmQueriedItem> replaced;
    if (frame) {
      auto result = cursor.Map(std::move(frame), leaf.prop);
      ASSERT_TRUE(result.ok()) << Where() << ErrorName(result.error());
      replaced = std::move(result).value();
    } else {
      ADD_FAILURE() << "I/O leaves are mapped through MapIoMem";
    }
    ++counts_.maps;
    if (expected) {
      ++counts_.replaced;
      ExpectItem(replaced, *expected);
    } else {
      EXPECT_FALSE(replaced.has_value()) << Where() << "unexpected replaced item";
    }
  }

  void DoMapFrame(CursorT& cursor, uint64_t start, uint64_t len) {
    const bool huge = len >= k2M && Chance(30);
    const uint64_t size = huge ? k2M : kPageSize;
    const uint64_t first = (start + size - 1) & ~(size - 1);
    if (first + size > start + len) return;
    const uint64_t va = first + Below((start + len - first) / size) * size;
    Frame& frame = huge ? huge_[Below(huge_.size())] : small_[Below(small_.size())];
    const PageProperty prop = RandomProp();
    ASSERT_TRUE(cursor.Jump(VaddrT(va)).ok());
    MapAndCheck(cursor, va, ModelLeaf{size, frame.paddr().value(), Normalize(prop, false), false},
                frame);
    EXPECT_EQ(cursor.virt_addr().value(), va + size) << Where();
  }

  void DoMapIoMem(CursorT& cursor, uint64_t start, uint64_t len) {
    const IoMem& io = ios_[Below(ios_.size())];
    // Align the start like the IoMem for huge leaves half of the time.
    uint64_t va = start;
    uint64_t offset = Below(io.size() / kPageSize + 1) * kPageSize;
    if (Chance(50) && io.size() >= k2M) {
      offset = Chance(50) ? 0 : k2M;
      const uint64_t align = io.size() >= kGiB && Chance(50) ? kGiB : k2M;
      va = (start + align - 1) & ~(align - 1);
      if (va >= start + len) return;
    }
    const uint64_t room = start + len - va;
    const uint64_t want =
        std::min<uint64_t>(room, (1 + Below(1024)) * kPageSize * (Chance(20) ? 512 : 1));
    const PageProperty prop = RandomProp();
    ASSERT_TRUE(cursor.Jump(VaddrT(va)).ok());
    auto result = cursor.MapIoMem(io, prop, want, offset);
    ASSERT_TRUE(result.ok()) << Where() << ErrorName(result.error());
    if (offset >= io.size()) {
      EXPECT_EQ(cursor.virt_addr().value(), va) << Where();
      return;
    }
    uint64_t remaining = std::min(want, io.size() - offset);
    uint64_t pa = io.paddr().value() + offset;
    uint64_t at = va;
    while (remaining != 0) {
      PagingLevel level = FormatT::kMaxLeafLevel;
      while (level > 1 &&
             (PageSizeAt(level) > remaining || ((at | pa) & (PageSizeAt(level) - 1)) != 0)) {
        --level;
      }
      const uint64_t size = PageSizeAt(level);
      model_.SplitAt(at);
      model_.SplitAt(at + size);
      for (const auto& [s, old] : model_.Take(at, at + size)) MustFlush(s, old.size);
      model_.Insert(at, ModelLeaf{size, pa, Normalize(prop, true), true});
      ++counts_.io_maps;
      at += size;
      pa += size;
      remaining -= size;
    }
    EXPECT_EQ(cursor.virt_addr().value(), at) << Where();
  }

  void DoUnmap(CursorT& cursor, uint64_t start, uint64_t len) {
    model_.SplitAt(start);
    model_.SplitAt(start + len);
    uint64_t expected = 0;
    for (const auto& [s, old] : model_.Take(start, start + len)) {
      MustFlush(s, old.size);
      if (!old.io) ++expected;
    }
    ASSERT_TRUE(cursor.Jump(VaddrT(start)).ok());
    auto count = cursor.Unmap(len);
    ASSERT_TRUE(count.ok()) << Where() << ErrorName(count.error());
    EXPECT_EQ(*count, expected) << Where() << "unmap count";
    counts_.unmapped += expected;
    EXPECT_EQ(cursor.virt_addr().value(), start + len) << Where();
  }

  void DoProtect(CursorT& cursor, uint64_t start, uint64_t len) {
    model_.SplitAt(start);
    model_.SplitAt(start + len);
    const int kind = static_cast<int>(Below(3));
    const PageProperty target = RandomProp();
    auto op = [&](PageFlags& flags, CachePolicy& cache) {
      switch (kind) {
        case 0:
          flags -= PageFlags::kW;
          break;
        case 1:
          flags = target.flags;
          break;
        default:
          flags = target.flags;
          cache = target.cache;
          break;
      }
    };
    ASSERT_TRUE(cursor.Jump(VaddrT(start)).ok());
    for (const auto& [s, leaf] : model_.In(start, start + len)) {
      const uint64_t left = start + len - cursor.virt_addr().value();
      auto found = cursor.ProtectNext(left, op);
      ASSERT_TRUE(found.ok()) << Where() << ErrorName(found.error());
      ASSERT_TRUE(found->has_value()) << Where() << "protect missed a leaf";
      EXPECT_EQ(**found, R(s, leaf->size)) << Where() << "protected range";
      PageProperty prop = leaf->prop;
      op(prop.flags, prop.cache);
      prop = Normalize(prop, leaf->io);
      if (prop != leaf->prop) MustFlush(s, leaf->size);
      ++counts_.protected_leaves;
      leaf->prop = prop;
    }
    const uint64_t left = start + len - cursor.virt_addr().value();
    auto none = cursor.ProtectNext(left, op);
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value()) << Where() << "protect found more than the model";
    EXPECT_EQ(cursor.virt_addr().value(), start + len) << Where();
  }

  void DoQuery(CursorT& cursor, uint64_t start, uint64_t len) {
    const uint64_t va = start + Below(len / kPageSize) * kPageSize;
    ASSERT_TRUE(cursor.Jump(VaddrT(va)).ok());
    auto result = cursor.Query();
    ASSERT_TRUE(result.ok()) << Where();
    const auto& [range, item] = *result;
    EXPECT_TRUE(range.Contains(VaddrT(va))) << Where();
    const auto leaf = model_.Find(va);
    if (leaf) {
      EXPECT_EQ(range, R(leaf->first, leaf->second.size)) << Where() << "query range";
      ExpectItem(item, leaf->second);
    } else {
      EXPECT_FALSE(item.has_value()) << Where() << "query found an item the model lacks";
      // The empty slot must really be empty.
      const uint64_t slot = range.start().value();
      EXPECT_TRUE(model_.In(slot, slot + range.size()).empty()) << Where();
      const auto before = model_.Find(slot);
      EXPECT_FALSE(before.has_value()) << Where();
    }
    EXPECT_EQ(cursor.virt_addr().value(), va) << Where() << "query moved the cursor";
    counts_.queries += leaf ? 1 : 0;
  }

  void DoFindNext(CursorT& cursor, uint64_t start, uint64_t len) {
    ASSERT_TRUE(cursor.Jump(VaddrT(start)).ok());
    const auto found = cursor.FindNext(len);
    std::optional<uint64_t> expected;
    if (const auto leaf = model_.Find(start)) {
      expected = start;
    } else {
      const auto in = model_.In(start, start + len);
      if (!in.empty()) expected = in.front().first;
    }
    if (expected) {
      ++counts_.found;
      ASSERT_TRUE(found.has_value()) << Where() << "find_next missed " << std::hex << *expected;
      EXPECT_EQ(found->value(), *expected) << Where();
    } else {
      EXPECT_FALSE(found.has_value()) << Where();
      EXPECT_EQ(cursor.virt_addr().value(), start + len) << Where();
    }
  }

  // Something a cursor must refuse, leaving everything as it was.
  void DoBad(CursorT& cursor, uint64_t cursor_start, uint64_t cursor_len) {
    const uint64_t end = cursor_start + cursor_len;
    ASSERT_TRUE(cursor.Jump(VaddrT(end - kPageSize)).ok());
    switch (Below(4)) {
      case 0:
        EXPECT_EQ(cursor.Unmap(2 * kPageSize).error(), Error::kOutOfRange) << Where();
        break;
      case 1:
        EXPECT_EQ(cursor.Map(huge_[0], PageProperty::New(PageFlags::kR)).error(),
                  Error::kOutOfRange)
            << Where();
        break;
      case 2:
        EXPECT_EQ(cursor.Jump(VaddrT(end)).error(), Error::kOutOfRange) << Where();
        break;
      default:
        EXPECT_EQ(
            cursor.MapIoMem(ios_[0], PageProperty::New(PageFlags::kR), 2 * kPageSize, 0).error(),
            Error::kOutOfRange)
            << Where();
        break;
    }
  }

  // One cursor, one or several operations inside its range.
  void Step() {
    auto [start, len] = RandomRange();
    uint64_t cursor_start = start;
    uint64_t cursor_len = len;
    const bool session = Chance(20);
    if (session || Chance(30)) {
      // A larger cursor range, aligned to 2 MiB or 1 GiB, inside the window.
      const uint64_t align = Chance(10) ? kGiB : k2M;
      cursor_start = std::max(kWindow, start & ~(align - 1));
      const uint64_t cursor_end =
          std::min(kWindow + kWindowSize, ((start + len + align - 1) & ~(align - 1)) + align);
      cursor_len = cursor_end - cursor_start;
    }
    mmu_.ClearRecords();
    {
      auto opened = space_->OpenCursorMut(R(cursor_start, cursor_len));
      ASSERT_TRUE(opened.ok()) << Where() << ErrorName(opened.error());
      CursorT cursor = std::move(opened).value();
      const int ops = session ? 2 + static_cast<int>(Below(5)) : 1;
      for (int i = 0; i < ops; ++i) {
        if (i > 0) {
          // Another range inside the cursor's.
          const uint64_t pages = cursor_len / kPageSize;
          const uint64_t first = Below(pages);
          const uint64_t count = 1 + Below(std::min<uint64_t>(pages - first, 600));
          start = cursor_start + first * kPageSize;
          len = count * kPageSize;
        }
        if (Chance(1)) {
          start = cursor_start;
          len = cursor_len;
        }
        const uint64_t dice = Below(100);
        if (dice < 30) {
          DoMapFrame(cursor, start, len);
        } else if (dice < 36) {
          DoMapIoMem(cursor, start, len);
        } else if (dice < 56) {
          DoUnmap(cursor, start, len);
        } else if (dice < 72) {
          DoProtect(cursor, start, len);
        } else if (dice < 86) {
          DoQuery(cursor, start, len);
        } else if (dice < 97) {
          DoFindNext(cursor, start, len);
        } else {
          DoBad(cursor, cursor_start, cursor_len);
        }
        if (::testing::Test::HasFatalFailure()) return;
      }
    }
    CheckFlushes(0);
  }

  // The whole table against the model.
  void CheckAll() {
    std::map<uint64_t, ModelLeaf> seen;
    {
      auto cursor = space_->OpenCursor(R(kWindow, kWindowSize)).value();
      const uint64_t end = kWindow + kWindowSize;
      while (cursor.virt_addr().value() < end) {
        const auto va = cursor.FindNext(end - cursor.virt_addr().value());
        if (!va) break;
        auto [range, item] = cursor.Query().value();
        ASSERT_TRUE(item.has_value());
        ModelLeaf leaf{range.size(), 0, {}, false};
        if (const auto* ram = std::get_if<MappedRam>(&*item)) {
          leaf.pa = ram->frame.paddr().value();
          leaf.prop = ram->prop;
        } else {
          const auto& io = std::get<MappedIoMem>(*item);
          leaf.pa = io.paddr.value();
          leaf.prop = io.prop;
          leaf.io = true;
        }
        seen[range.start().value()] = leaf;
        const uint64_t next = range.start().value() + range.size();
        if (next >= end) break;
        ASSERT_TRUE(cursor.Jump(VaddrT(next)).ok());
      }
    }
    ASSERT_EQ(seen.size(), model_.leaves().size()) << Where() << "leaf count";
    counts_.max_leaves = std::max<uint64_t>(counts_.max_leaves, seen.size());
    for (const auto& [va, leaf] : seen) counts_.huge_leaves += leaf.size > kPageSize ? 1 : 0;
    EXPECT_TRUE(seen == model_.leaves()) << Where() << "table differs from the model";
    const auto stats = space_->CheckInvariants();
    EXPECT_EQ(stats.leaves, model_.leaves().size()) << Where();
    EXPECT_EQ(stats.empty_tables, 0u) << Where() << "empty page-table pages left behind";
    // Each frame is referenced by its handle and by every leaf mapping it.
    std::map<uint64_t, uint32_t> refs;
    for (const auto& [va, leaf] : model_.leaves()) {
      if (leaf.io) continue;
      const uint64_t block = leaf.pa & ~(leaf.size >= k2M ? leaf.size - 1 : 0);
      refs[block] += 1;
    }
    for (const Frame& frame : small_) {
      EXPECT_EQ(frame.ref_count(), 1 + refs[frame.paddr().value()]) << Where();
    }
    for (const Frame& frame : huge_) {
      uint32_t pieces = 0;
      for (const auto& [va, leaf] : model_.leaves()) {
        if (!leaf.io && leaf.pa - frame.paddr().value() < k2M) ++pieces;
      }
      EXPECT_EQ(frame.ref_count(), 1 + pieces) << Where();
    }
  }

  // How much the run exercised, printed at the end.
  struct Counts {
    uint64_t maps = 0, io_maps = 0, replaced = 0, unmapped = 0, protected_leaves = 0, queries = 0,
             found = 0, max_leaves = 0, huge_leaves = 0;
  } counts_;

  void Run() {
    // A fixed seed per format, so that a failure replays.
    const std::string format =
        ::testing::UnitTest::GetInstance()->current_test_info()->type_param();
    seed_ = EnvOr("HV_PROPERTY_SEED", 0x5eed'0000 + std::hash<std::string>()(format) % 10'000);
    rng_.seed(seed_);
    const uint64_t ops = EnvOr("HV_PROPERTY_OPS", 100'000);
    for (op_ = 0; op_ < ops; ++op_) {
      Step();
      if (::testing::Test::HasFatalFailure() || ::testing::Test::HasNonfatalFailure()) {
        FAIL() << Where() << "stopping at the first failure";
      }
      if (op_ % 2000 == 1999) {
        CheckAll();
        if (::testing::Test::HasFailure()) FAIL() << Where() << "full check failed";
      }
      if (Chance(1) && Chance(20)) {
        // Now and then, clear a random half of the window.
        const uint64_t start = kWindow + Below(2) * kGiB;
        mmu_.ClearRecords();
        {
          auto cursor = space_->OpenCursorMut(R(start, kGiB)).value();
          DoUnmap(cursor, start, kGiB);
        }
        CheckFlushes(0);
      }
    }
    CheckAll();
    std::printf(
        "%s: %lu ops: %lu maps (%lu replaced), %lu I/O leaves, %lu RAM leaves unmapped, %lu leaves "
        "protected, %lu queries and %lu find_next hits, up to %lu leaves (%lu huge seen)\n",
        ::testing::UnitTest::GetInstance()->current_test_info()->name(), op_, counts_.maps,
        counts_.replaced, counts_.io_maps, counts_.unmapped, counts_.protected_leaves,
        counts_.queries, counts_.found, counts_.max_leaves, counts_.huge_leaves);
    // Unmap everything: only the root may remain, and frames hold only
    // their handles.
    {
      auto cursor = space_->OpenCursorMut(R(kWindow, kWindowSize)).value();
      DoUnmap(cursor, kWindow, kWindowSize);
    }
    EXPECT_TRUE(model_.leaves().empty());
    EXPECT_EQ(space_->CheckInvariants().tables, 1u);
    for (const Frame& frame : small_) EXPECT_EQ(frame.ref_count(), 1u);
    for (const Frame& frame : huge_) EXPECT_EQ(frame.ref_count(), 1u);
  }

  std::vector<Frame> small_;
  std::vector<Frame> huge_;
  std::vector<IoMem> ios_;
  Model model_;
  std::vector<std::pair<uint64_t, uint64_t>> must_flush_;
  std::mt19937_64 rng_;
  uint64_t seed_ = 0;
  uint64_t op_ = 0;
};

TYPED_TEST_SUITE(PropertyTest, testing::AllSpaceConfigs, testing::SpaceConfigNames);

TYPED_TEST(PropertyTest, RandomOperationsMatchTheModel) { this->Run(); }

}  // namespace
}  // namespace hv::mm
