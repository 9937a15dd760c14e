// Byte streams between character devices and the host: where guest output
// goes (CharSink) and a fixed-size FIFO for input waiting for the guest.
#ifndef DEVICES_CHAR_IO_H_
#define DEVICES_CHAR_IO_H_

#include <hv/base/check.h>
#include <hv/base/std.h>

namespace hv::devices {

// Receives a device's output (the hypervisor console, a VMM's stdout, a
// test's buffer). Write takes every byte; a sink that cannot keep up buffers
// or drops, by its own policy.
class CharSink {
 public:
  virtual ~CharSink() = default;
  virtual void Write(std::span<const std::byte> bytes) = 0;
};

// A ring of at most N bytes, without allocation.
template <size_t N>
class ByteFifo {
 public:
  static_assert(N > 0);
  static constexpr size_t kCapacity = N;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool full() const { return size_ == N; }

  // Appends as many bytes as fit; returns how many.
  size_t Push(std::span<const std::byte> bytes) {
    size_t n = 0;
    // At most two pieces: up to the end of the array, then from its start.
    while (n < bytes.size() && size_ < N) {
      const size_t tail = (head_ + size_) % N;
      const size_t chunk = std::min(std::min(bytes.size() - n, N - size_), N - tail);
      // SAFETY: [tail, tail + chunk) lies inside data_ (chunk <= N - tail)
      // and [n, n + chunk) inside `bytes`; they are distinct objects.
      __builtin_memcpy(data_.data() + tail, bytes.data() + n, chunk);
      n += chunk;
      size_ += chunk;
    }
    return n;
  }
  bool Push(std::byte b) { return Push(std::span<const std::byte>(&b, 1)) == 1; }

  // REQUIRES: !empty().
  std::byte Pop() {
    HV_CHECK(!empty(), "ByteFifo::Pop on an empty fifo");
    const std::byte b = data_[head_];
    Consume(1);
    return b;
  }

  // The oldest bytes that are contiguous in the ring (all of them unless
  // they wrap); Consume(n) then drops n of them.
  std::span<const std::byte> Front() const {
    return {data_.data() + head_, std::min(size_, N - head_)};
  }
  // REQUIRES: n <= size().
  void Consume(size_t n) {
    HV_CHECK(n <= size_, "ByteFifo::Consume(%zu) of %zu", n, size_);
    head_ = (head_ + n) % N;
    size_ -= n;
  }
  void Clear() {
    head_ = 0;
    size_ = 0;
  }

 private:
  std::array<std::byte, N> data_{};
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace hv::devices

#endif  // DEVICES_CHAR_IO_H_
