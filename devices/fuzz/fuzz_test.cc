// The fuzz targets as a test: the seed corpus plus deterministic
// pseudo-random mutations of it, built with ASan and UBSan (see BUILD), so
// `bazel test //...` catches what a short fuzzing run would.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "devices/fuzz/fuzz_targets.h"

namespace hv::devices::fuzz {
namespace {

// Mutations per seed; a few seconds under the sanitizers.
constexpr int kMutationsPerSeed = 1000;

// Flips, overwrites, inserts and truncates bytes, as libFuzzer's basic
// mutators do.
std::vector<uint8_t> Mutate(std::vector<uint8_t> input, std::mt19937& rng) {
  const int edits = 1 + static_cast<int>(rng() % 8);
  for (int i = 0; i < edits; ++i) {
    if (input.empty()) input.push_back(0);
    const size_t at = rng() % input.size();
    switch (rng() % 6) {
      case 0:
        input[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
        break;
      case 1:
        input[at] = static_cast<uint8_t>(rng());
        break;
      case 2: {
        // Interesting values: 0, 1, 0xff, 0x80, 0x7f, small counts.
        const uint8_t values[] = {0, 1, 2, 3, 0x7f, 0x80, 0xfe, 0xff, 16, 64};
        input[at] = values[rng() % std::size(values)];
        break;
      }
      case 3:
        input.insert(input.begin() + static_cast<ptrdiff_t>(at), static_cast<uint8_t>(rng()));
        break;
      case 4:
        input.resize(at);
        break;
      case 5:
        for (int j = 0; j < 6; ++j) input.push_back(static_cast<uint8_t>(rng()));
        break;
    }
  }
  return input;
}

void RunCorpus(void (*target)(const uint8_t*, size_t),
               const std::vector<std::vector<uint8_t>>& seeds, uint32_t seed) {
  ASSERT_FALSE(seeds.empty());
  std::mt19937 rng(seed);
  for (const auto& input : seeds) target(input.data(), input.size());
  for (const auto& input : seeds) {
    for (int i = 0; i < kMutationsPerSeed; ++i) {
      const std::vector<uint8_t> mutated = Mutate(input, rng);
      target(mutated.data(), mutated.size());
    }
  }
  // Pure noise and the empty input.
  for (int i = 0; i < kMutationsPerSeed; ++i) {
    std::vector<uint8_t> noise(rng() % 2048);
    for (uint8_t& b : noise) b = static_cast<uint8_t>(rng());
    target(noise.data(), noise.size());
  }
  target(nullptr, 0);
}

TEST(FuzzTargets, VirtqueueSeedsAndMutations) { RunCorpus(&FuzzVirtqueue, VirtqueueSeeds(), 1); }

TEST(FuzzTargets, BlkSeedsAndMutations) { RunCorpus(&FuzzBlk, BlkSeeds(), 2); }

}  // namespace
}  // namespace hv::devices::fuzz
