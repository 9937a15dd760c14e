// ByteFifo against std::deque: random pushes (partial when full), pops and
// consumes of the contiguous front, across many wraps of the ring.
#include <devices/char_io.h>
#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <vector>

namespace hv::devices {
namespace {

TEST(ByteFifo, MatchesADequeAcrossWraps) {
  ByteFifo<37> fifo;
  std::deque<std::byte> model;
  std::mt19937 rng(7);
  uint8_t next = 0;
  for (int step = 0; step < 20000; ++step) {
    switch (rng() % 3) {
      case 0: {
        std::vector<std::byte> in(rng() % 50);
        for (auto& b : in) b = std::byte{next++};
        const size_t taken = fifo.Push(in);
        ASSERT_EQ(taken, std::min(in.size(), 37 - model.size()));
        model.insert(model.end(), in.begin(), in.begin() + static_cast<ptrdiff_t>(taken));
        break;
      }
      case 1:
        if (!model.empty()) {
          ASSERT_EQ(fifo.Pop(), model.front());
          model.pop_front();
        }
        break;
      case 2: {
        const std::span<const std::byte> front = fifo.Front();
        ASSERT_LE(front.size(), model.size());
        ASSERT_TRUE(model.empty() || !front.empty());
        for (size_t i = 0; i < front.size(); ++i) ASSERT_EQ(front[i], model[i]);
        const size_t n = front.empty() ? 0 : rng() % (front.size() + 1);
        fifo.Consume(n);
        model.erase(model.begin(), model.begin() + static_cast<ptrdiff_t>(n));
        break;
      }
    }
    ASSERT_EQ(fifo.size(), model.size());
    ASSERT_EQ(fifo.full(), model.size() == 37);
  }
}

}  // namespace
}  // namespace hv::devices
