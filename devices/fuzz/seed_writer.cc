// Writes the seed corpora of the fuzz targets into DIR/virtqueue and
// DIR/blk, for libFuzzer to start from:
//   ./bazelw run //devices/fuzz:seed_writer -- /tmp/devices_corpus
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "devices/fuzz/fuzz_targets.h"

namespace {

bool WriteAll(const std::string& dir, const std::vector<std::vector<uint8_t>>& seeds) {
  mkdir(dir.c_str(), 0755);
  for (size_t i = 0; i < seeds.size(); ++i) {
    std::ofstream out(dir + "/seed_" + std::to_string(i), std::ios::binary);
    // SAFETY: viewing bytes as chars is always valid; the length is the
    // vector's.
    out.write(reinterpret_cast<const char*>(seeds[i].data()),
              static_cast<std::streamsize>(seeds[i].size()));
    if (!out) return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: seed_writer DIR\n");
    return 2;
  }
  const std::string root = argv[1];
  mkdir(root.c_str(), 0755);
  if (!WriteAll(root + "/virtqueue", hv::devices::fuzz::VirtqueueSeeds()) ||
      !WriteAll(root + "/blk", hv::devices::fuzz::BlkSeeds())) {
    std::fprintf(stderr, "cannot write under %s\n", root.c_str());
    return 1;
  }
  std::printf("seeds in %s/virtqueue and %s/blk\n", root.c_str(), root.c_str());
  return 0;
}
