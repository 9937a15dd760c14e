// The verified VmWriter specification's postconditions as executable checks,
// over random operation sequences on real memory with real holes:
//   - a copy moves min(remain, avail) bytes unless it faults, and both
//     cursors advance by exactly the count returned or reported;
//   - a fault is reported at exactly the first inaccessible byte;
//   - ReadVal/WriteVal/Collect that fail leave the reader/writer unchanged;
//   - bytes land where a flat reference model says, and nowhere else.
#include <gtest/gtest.h>
#include <mm/io.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "testing/memory/guarded_region.h"

namespace hv::mm {
namespace {

using ::hv::testing::GuardedRegion;

constexpr size_t kPages = 6;

// Memory with some pages inaccessible, and a model of its contents.
class Arena {
 public:
  Arena() : page_(GuardedRegion::PageSize()), region_(kPages * page_), model_(kPages * page_) {
    for (size_t i = 0; i < model_.size(); ++i) model_[i] = static_cast<std::byte>(i * 13 + 1);
    std::memcpy(region_.data(), model_.data(), model_.size());
    accessible_.assign(kPages, true);
  }
  ~Arena() {
    for (size_t p = 0; p < kPages; ++p) SetAccessible(p, true);
  }

  size_t size() const { return model_.size(); }
  std::byte* at(size_t offset) const { return region_.data() + offset; }
  std::vector<std::byte>& model() { return model_; }

  void SetAccessible(size_t page, bool accessible) {
    if (accessible_[page] == accessible) return;
    GuardedRegion::Protect(region_.data() + page * page_, accessible);
    accessible_[page] = accessible;
  }
  // Offset of the first inaccessible byte in [offset, offset + len), or
  // offset + len if all are accessible. One past the arena is a guard.
  size_t FirstHole(size_t offset, size_t len) const {
    for (size_t i = offset; i < offset + len; ++i) {
      if (i >= model_.size() || !accessible_[i / page_]) return i;
    }
    return offset + len;
  }
  bool Matches() const {
    for (size_t p = 0; p < kPages; ++p) {
      if (!accessible_[p]) continue;
      if (std::memcmp(region_.data() + p * page_, model_.data() + p * page_, page_) != 0) {
        return false;
      }
    }
    return true;
  }

 private:
  size_t page_;
  GuardedRegion region_;
  std::vector<std::byte> model_;
  std::vector<bool> accessible_;
};

class IoPropertyTest : public ::testing::TestWithParam<uint32_t> {};

TEST_P(IoPropertyTest, RandomSequencesKeepTheSpecPostconditions) {
  std::mt19937 rng(GetParam());
  Arena arena;
  const size_t page = GuardedRegion::PageSize();
  auto uniform = [&](size_t lo, size_t hi) {
    return std::uniform_int_distribution<size_t>(lo, hi)(rng);
  };

  for (int step = 0; step < 4000; ++step) {
    // Flip a page's accessibility now and then.
    if (uniform(0, 9) == 0) arena.SetAccessible(uniform(0, kPages - 1), uniform(0, 2) != 0);

    // A source and a destination window that do not overlap.
    const size_t half = arena.size() / 2;
    size_t src_off = uniform(0, half - 1);
    size_t src_len = uniform(0, std::min<size_t>(3 * page, half - src_off));
    size_t dst_off = half + uniform(0, half - 1);
    size_t dst_len = uniform(0, arena.size() - dst_off + 16);  // may run past the arena
    if (uniform(0, 1)) {
      std::swap(src_off, dst_off);
      src_len = std::min(src_len, arena.size() - src_off);
      dst_len = std::min(dst_len, half - dst_off);
    }
    VmReader<Fallible> reader = VmReader<Fallible>::FromUser(arena.at(src_off), src_len).value();
    VmWriter<Fallible> writer = VmWriter<Fallible>::FromUser(arena.at(dst_off), dst_len).value();

    switch (uniform(0, 4)) {
      case 0: {  // ReadFallible / WriteFallible
        const size_t want = std::min(src_len, dst_len);
        const size_t src_hole = arena.FirstHole(src_off, want) - src_off;
        const size_t dst_hole = arena.FirstHole(dst_off, want) - dst_off;
        const size_t expect = std::min(src_hole, dst_hole);
        CopyResult r = uniform(0, 1) ? reader.ReadFallible(writer) : writer.WriteFallible(reader);
        const size_t done = r.ok() ? r.value() : r.error().done;
        ASSERT_EQ(done, expect) << "step " << step;
        ASSERT_EQ(r.ok(), expect == want) << "step " << step;
        if (!r.ok()) {
          ASSERT_EQ(r.error().code, Error::kPageFault);
        }
        ASSERT_EQ(reader.remain(), src_len - done);
        ASSERT_EQ(writer.avail(), dst_len - done);
        std::memmove(arena.model().data() + dst_off, arena.model().data() + src_off, done);
        break;
      }
      case 1: {  // ReadVal: all or nothing
        const std::byte* before = reader.cursor();
        Result<uint64_t> v = reader.ReadVal<uint64_t>();
        if (src_len < 8) {
          ASSERT_EQ(v.error(), Error::kInvalidArgs);
        } else if (arena.FirstHole(src_off, 8) != src_off + 8) {
          ASSERT_EQ(v.error(), Error::kPageFault);
        } else {
          uint64_t expect;
          std::memcpy(&expect, arena.model().data() + src_off, 8);
          ASSERT_EQ(v.value(), expect);
        }
        ASSERT_EQ(reader.cursor(), v.ok() ? before + 8 : before);
        break;
      }
      case 2: {  // WriteVal: on error the writer is unchanged
        const std::byte* before = writer.cursor();
        const size_t avail_before = writer.avail();
        const uint32_t value = static_cast<uint32_t>(rng());
        Result<void> w = writer.WriteVal(value);
        const size_t hole = arena.FirstHole(dst_off, std::min<size_t>(4, dst_len)) - dst_off;
        if (dst_len < 4) {
          ASSERT_EQ(w.error(), Error::kInvalidArgs);
        } else if (hole < 4) {
          ASSERT_EQ(w.error(), Error::kPageFault);
        }
        // Bytes before a fault may have been written: mirror them.
        const size_t written = dst_len < 4 ? 0 : hole;
        std::memcpy(arena.model().data() + dst_off, &value, written);
        if (w.ok()) {
          ASSERT_EQ(writer.cursor(), before + 4);
        } else {
          ASSERT_EQ(writer.cursor(), before);
          ASSERT_EQ(writer.avail(), avail_before);
        }
        break;
      }
      case 3: {  // FillZeros: partial count on a fault
        const size_t len = uniform(0, dst_len + 8);
        const size_t want = std::min(len, dst_len);
        const size_t expect = arena.FirstHole(dst_off, want) - dst_off;
        CopyResult r = writer.FillZeros(len);
        const size_t done = r.ok() ? r.value() : r.error().done;
        ASSERT_EQ(done, expect);
        ASSERT_EQ(r.ok(), expect == want);
        ASSERT_EQ(writer.avail(), dst_len - done);
        std::memset(arena.model().data() + dst_off, 0, done);
        break;
      }
      case 4: {  // Collect: all or nothing
        const std::byte* before = reader.cursor();
        Result<std::vector<std::byte>> all = reader.Collect();
        if (arena.FirstHole(src_off, src_len) == src_off + src_len) {
          ASSERT_TRUE(all.ok());
          ASSERT_EQ(all->size(), src_len);
          ASSERT_TRUE(std::equal(all->begin(), all->end(), arena.model().begin() + src_off));
          ASSERT_FALSE(reader.has_remain());
        } else {
          ASSERT_EQ(all.error(), Error::kPageFault);
          ASSERT_EQ(reader.cursor(), before);
        }
        break;
      }
    }
    ASSERT_TRUE(arena.Matches()) << "memory diverged from the model at step " << step;
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, IoPropertyTest, ::testing::Values(1u, 2u, 3u, 4u));

}  // namespace
}  // namespace hv::mm
