// libFuzzer entry point: SplitQueue (see fuzz_targets.h).
#include <cstddef>
#include <cstdint>

#include "devices/fuzz/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  hv::devices::fuzz::FuzzVirtqueue(data, size);
  return 0;
}
