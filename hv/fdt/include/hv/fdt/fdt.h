// A reader of flattened device trees (DTB, Devicetree Specification v0.4:
// version 17, last compatible version 16), freestanding and allocation-free.
//
// Fdt::Create() validates the whole blob before anything else reads it: the
// header (magic, version, every block inside `totalsize` and the span, no
// overlapping blocks), the memory reservation map, and every token of the
// structure block (names and property values inside the block, property
// names NUL-terminated inside the strings block, properties before subnodes,
// one root node, balanced nesting no deeper than kMaxDepth, FDT_END last).
// A blob that fails any check is refused with an error:
//
//   kOutOfRange    something lies (partly) outside the blob or its block:
//                  a truncated blob, an offset or length past the end, a
//                  name whose NUL is missing before the end of its block
//   kInvalidArgs   anything else malformed: bad magic, bad alignment,
//                  overlapping blocks, unknown or misplaced tokens, empty
//                  node or property names, nesting too deep
//   kUnsupported   a version this reader does not understand (< 17, or a
//                  last compatible version > 17)
//
// Once created, walking the tree cannot fail: nodes, properties and children
// are plain iteration. Reading a property's *contents* can fail (a `reg`
// whose length is not a whole number of entries, a string without its NUL,
// #address-cells > kMaxCells...), and those accessors return errors; nothing
// ever reads outside the blob.
//
// Fdt, Node, Property and the ranges are small values that point into the
// blob. REQUIRES: the blob outlives them and does not change while they are
// used.
//
//   const Fdt fdt = HV_TRY(Fdt::Create(blob));
//   const Node uart = HV_TRY(fdt.FindNode("/soc/serial@10000000"));
//   const RegEntry mmio = HV_TRY(HV_TRY(uart.Reg()).At(0));
//   for (const Node cpu : HV_TRY(fdt.FindNode("/cpus")).ChildrenNamed("cpu")) ...
#ifndef HV_FDT_FDT_H_
#define HV_FDT_FDT_H_

#include <hv/base/result.h>
#include <hv/base/std.h>

namespace hv::fdt {

inline constexpr uint32_t kMagic = 0xd00d'feed;
// The version this reader implements. Blobs of later versions are read if
// their last compatible version is at most this.
inline constexpr uint32_t kVersion = 17;
inline constexpr size_t kHeaderSize = 40;
// Nodes may nest this deep (the root counts as one level), as in libfdt.
inline constexpr size_t kMaxDepth = 32;
// #address-cells and #size-cells above this are refused (kInvalidArgs).
inline constexpr uint32_t kMaxCells = 4;
// What a node's children get when it has no #address-cells/#size-cells.
inline constexpr uint32_t kDefaultAddressCells = 2;
inline constexpr uint32_t kDefaultSizeCells = 1;

// One (address, size) pair of a `reg` property, or a memory reservation.
struct RegEntry {
  uint64_t address;
  uint64_t size;

  constexpr bool operator==(const RegEntry&) const = default;
};

class Fdt;
class Node;

namespace internal {

// The two blocks walking reads: the structure block and the strings block.
// Offsets in Node and the iterators are into `structure`.
struct Blocks {
  std::span<const std::byte> structure;
  std::span<const std::byte> strings;
};

// The #address-cells/#size-cells a node gives its children, as read: a
// value of kInvalidCells means the property was there but not one cell.
struct Cells {
  static constexpr uint32_t kInvalidCells = 0xffff'ffff;
  uint32_t address = kInvalidCells;
  uint32_t size = kInvalidCells;
};

// Offset value that marks an end iterator.
inline constexpr uint32_t kEndOffset = 0xffff'ffff;

}  // namespace internal

// The strings of a string-list property ("a\0b\0c\0"), in order. Created
// only from a value that is non-empty and ends in NUL; strings may be empty.
class StringList {
 public:
  class Iterator {
   public:
    // An input iterator (for range-for and the standard algorithms).
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;

    Iterator operator++(int) {
      Iterator old = *this;
      ++*this;
      return old;
    }
    std::string_view operator*() const;
    Iterator& operator++();
    bool operator==(const Iterator& other) const { return rest_.data() == other.rest_.data(); }

   private:
    friend class StringList;
    explicit Iterator(std::span<const std::byte> rest) : rest_(rest) {}
    std::span<const std::byte> rest_;
  };

  Iterator begin() const { return Iterator(value_); }
  Iterator end() const { return Iterator(value_.subspan(value_.size())); }

  // The number of strings.
  size_t size() const;
  // The index'th string, or kOutOfRange.
  Result<std::string_view> At(size_t index) const;
  bool Contains(std::string_view s) const;

 private:
  friend class Property;
  explicit StringList(std::span<const std::byte> value) : value_(value) {}
  std::span<const std::byte> value_;
};

// The entries of a `reg` property, decoded with the parent's #address-cells
// and #size-cells. Every entry has been checked to fit in 64 bits.
class RegList {
 public:
  class Iterator;

  Iterator begin() const;
  Iterator end() const;

  size_t size() const { return value_.size() / (4 * (address_cells_ + size_cells_)); }
  bool empty() const { return value_.empty(); }
  // The index'th entry, or kOutOfRange.
  Result<RegEntry> At(size_t index) const;
  uint32_t address_cells() const { return address_cells_; }
  uint32_t size_cells() const { return size_cells_; }

 private:
  friend class Node;
  RegList(std::span<const std::byte> value, uint32_t address_cells, uint32_t size_cells)
      : value_(value), address_cells_(address_cells), size_cells_(size_cells) {}
  // REQUIRES: index < size().
  RegEntry Entry(size_t index) const;

  std::span<const std::byte> value_;
  uint32_t address_cells_;
  uint32_t size_cells_;
};

class RegList::Iterator {
 public:
  // An input iterator (for range-for and the standard algorithms).
  using value_type = RegEntry;
  using difference_type = std::ptrdiff_t;

  Iterator operator++(int) {
    Iterator old = *this;
    ++*this;
    return old;
  }
  RegEntry operator*() const { return list_.Entry(index_); }
  Iterator& operator++() {
    ++index_;
    return *this;
  }
  bool operator==(const Iterator& other) const { return index_ == other.index_; }

 private:
  friend class RegList;
  Iterator(const RegList& list, size_t index) : list_(list), index_(index) {}
  RegList list_;
  size_t index_;
};

inline RegList::Iterator RegList::begin() const { return Iterator(*this, 0); }
inline RegList::Iterator RegList::end() const { return Iterator(*this, size()); }

// One property of a node: a name and a value of any length.
class Property {
 public:
  std::string_view name() const { return name_; }
  std::span<const std::byte> value() const { return value_; }
  size_t size() const { return value_.size(); }
  bool empty() const { return value_.empty(); }

  // The value as one big-endian cell; kInvalidArgs unless it is 4 bytes.
  Result<uint32_t> AsU32() const;
  // The value as two cells (high first); kInvalidArgs unless it is 8 bytes.
  Result<uint64_t> AsU64() const;
  // One or two cells, as frequencies may be written; kInvalidArgs otherwise.
  Result<uint64_t> AsU32OrU64() const;
  // The index'th cell: kInvalidArgs if the length is not a multiple of 4,
  // kOutOfRange if there is no such cell.
  Result<uint32_t> CellAt(size_t index) const;
  // The value as one string (without its NUL): kInvalidArgs unless the value
  // is non-empty, ends in NUL and has no other NUL.
  Result<std::string_view> AsString() const;
  // The value as a string list: kInvalidArgs unless non-empty and ending in
  // NUL.
  Result<StringList> AsStringList() const;

 private:
  friend class Node;
  friend class PropertyRange;
  Property(std::string_view name, std::span<const std::byte> value) : name_(name), value_(value) {}

  std::string_view name_;
  std::span<const std::byte> value_;
};

// The properties of one node, in blob order.
class PropertyRange {
 public:
  class Iterator {
   public:
    // An input iterator (for range-for and the standard algorithms).
    using value_type = Property;
    using difference_type = std::ptrdiff_t;

    Iterator operator++(int) {
      Iterator old = *this;
      ++*this;
      return old;
    }
    Property operator*() const;
    Iterator& operator++();
    bool operator==(const Iterator& other) const { return offset_ == other.offset_; }

   private:
    friend class PropertyRange;
    Iterator(internal::Blocks blocks, uint32_t offset) : blocks_(blocks), offset_(offset) {}
    internal::Blocks blocks_;
    uint32_t offset_;  // of an FDT_PROP token, or kEndOffset
  };

  Iterator begin() const;
  Iterator end() const { return Iterator(blocks_, internal::kEndOffset); }

 private:
  friend class Node;
  PropertyRange(internal::Blocks blocks, uint32_t first) : blocks_(blocks), first_(first) {}
  internal::Blocks blocks_;
  uint32_t first_;  // the first token inside the node
};

class ChildRange;

// A node of a validated tree. A default-constructed Node is a placeholder
// (for arrays a caller fills); only Nodes obtained from an Fdt may be used.
class Node {
 public:
  Node() = default;

  // The full name ("serial@10000000"); "" for the root.
  std::string_view name() const { return name_; }
  // The name without its unit address ("serial").
  std::string_view base_name() const;
  // The unit address ("10000000"), or "" when the name has none.
  std::string_view unit_address() const;
  bool is_root() const { return name_.empty(); }
  // Where the node starts in the structure block: its identity.
  uint32_t offset() const { return offset_; }
  bool operator==(const Node& other) const { return offset_ == other.offset_; }

  PropertyRange properties() const { return PropertyRange(blocks_, content_); }
  // The first property called `name`, or kNotFound.
  Result<Property> FindProperty(std::string_view name) const;
  bool HasProperty(std::string_view name) const { return FindProperty(name).ok(); }

  // A property read in one go: kNotFound if absent, kInvalidArgs if its
  // value does not have the expected form (see Property).
  Result<uint32_t> ReadU32(std::string_view name) const;
  Result<uint64_t> ReadU32OrU64(std::string_view name) const;
  Result<std::string_view> ReadString(std::string_view name) const;
  Result<StringList> ReadStringList(std::string_view name) const;

  // Whether `compatible` lists `compatible` (false if absent or malformed).
  bool IsCompatible(std::string_view compatible) const;
  // True unless `status` is present and neither "okay" nor "ok".
  bool IsEnabled() const;
  // `phandle` (or the older `linux,phandle`): kNotFound or kInvalidArgs.
  Result<uint32_t> Phandle() const;

  // The #address-cells/#size-cells this node gives its children (defaults
  // kDefaultAddressCells/kDefaultSizeCells); kInvalidArgs if the property is
  // not one cell or exceeds kMaxCells.
  Result<uint32_t> AddressCells() const;
  Result<uint32_t> SizeCells() const;

  // `reg`, decoded with the parent's cells. kNotFound without `reg`;
  // kInvalidArgs if the parent's #address-cells is 0 or invalid, its
  // #size-cells invalid, the node is the root, or the length is not a whole
  // number of entries; kOutOfRange if an entry does not fit in 64 bits
  // (cells beyond the low two are not zero). Addresses are in the parent
  // bus's address space: `ranges` translation is not applied.
  Result<RegList> Reg() const;

  // The direct children, in blob order.
  ChildRange children() const;
  // The direct children whose base name is `base_name` ("cpu" gives cpu@0,
  // cpu@1, but not cpu-map).
  ChildRange ChildrenNamed(std::string_view base_name) const;
  // The child called `name`. A name with a unit address must match exactly;
  // one without matches a child of that exact name first, else the one child
  // with that base name. kNotFound if none; kInvalidArgs if the name is empty
  // or several children have that base name (and none the exact name).
  Result<Node> FindChild(std::string_view name) const;

 private:
  friend class Fdt;
  friend class ChildRange;
  friend class NodeRange;
  // REQUIRES: `offset` is the FDT_BEGIN_NODE token of a node in `blocks`,
  // which passed validation.
  Node(internal::Blocks blocks, uint32_t offset, internal::Cells parent_cells);
  // The cells this node gives its children, as read (see internal::Cells).
  internal::Cells ChildCells() const;

  internal::Blocks blocks_;
  std::string_view name_;
  uint32_t offset_ = internal::kEndOffset;
  uint32_t content_ = internal::kEndOffset;  // the first token after the name
  internal::Cells parent_cells_;
};

// Direct children of a node, optionally only those with one base name.
class ChildRange {
 public:
  class Iterator;

  Iterator begin() const;
  Iterator end() const;

 private:
  friend class Node;
  ChildRange(internal::Blocks blocks, uint32_t first, internal::Cells cells,
             std::optional<std::string_view> base_name)
      : blocks_(blocks), first_(first), cells_(cells), base_name_(base_name) {}
  // The first child at or after `offset` (a token inside the parent) that
  // passes the name filter, or kEndOffset.
  uint32_t NextMatch(uint32_t offset) const;

  internal::Blocks blocks_;
  uint32_t first_;
  internal::Cells cells_;  // the parent's, for the children's `reg`
  std::optional<std::string_view> base_name_;
};

class ChildRange::Iterator {
 public:
  // An input iterator (for range-for and the standard algorithms).
  using value_type = Node;
  using difference_type = std::ptrdiff_t;

  Iterator operator++(int) {
    Iterator old = *this;
    ++*this;
    return old;
  }
  Node operator*() const { return Node(range_.blocks_, offset_, range_.cells_); }
  Iterator& operator++();
  bool operator==(const Iterator& other) const { return offset_ == other.offset_; }

 private:
  friend class ChildRange;
  Iterator(const ChildRange& range, uint32_t offset) : range_(range), offset_(offset) {}
  ChildRange range_;
  uint32_t offset_;  // of a child's FDT_BEGIN_NODE, or kEndOffset
};

inline ChildRange::Iterator ChildRange::begin() const { return Iterator(*this, NextMatch(first_)); }
inline ChildRange::Iterator ChildRange::end() const {
  return Iterator(*this, internal::kEndOffset);
}

// Every node of the tree, depth first in blob order (the root first).
class NodeRange {
 public:
  class Iterator {
   public:
    // An input iterator (for range-for and the standard algorithms).
    using value_type = Node;
    using difference_type = std::ptrdiff_t;

    Iterator operator++(int) {
      Iterator old = *this;
      ++*this;
      return old;
    }
    Node operator*() const;
    Iterator& operator++();
    bool operator==(const Iterator& other) const { return offset_ == other.offset_; }
    // The depth of the current node: 0 for the root.
    size_t depth() const { return depth_; }

   private:
    friend class NodeRange;
    Iterator(internal::Blocks blocks, uint32_t offset) : blocks_(blocks), offset_(offset) {}
    internal::Blocks blocks_;
    uint32_t offset_;  // of the current node's FDT_BEGIN_NODE, or kEndOffset
    size_t depth_ = 0;
    // cells_[d]: what the node at depth d gives its children.
    std::array<internal::Cells, kMaxDepth> cells_{};
  };

  Iterator begin() const { return Iterator(blocks_, root_); }
  Iterator end() const { return Iterator(blocks_, internal::kEndOffset); }

 private:
  friend class Fdt;
  NodeRange(internal::Blocks blocks, uint32_t root) : blocks_(blocks), root_(root) {}
  internal::Blocks blocks_;
  uint32_t root_;
};

// The memory reservation map: regions the OS must not use.
class ReservationRange {
 public:
  class Iterator {
   public:
    // An input iterator (for range-for and the standard algorithms).
    using value_type = RegEntry;
    using difference_type = std::ptrdiff_t;

    Iterator operator++(int) {
      Iterator old = *this;
      ++*this;
      return old;
    }
    RegEntry operator*() const;
    Iterator& operator++() {
      offset_ += 16;
      return *this;
    }
    bool operator==(const Iterator& other) const { return offset_ == other.offset_; }

   private:
    friend class ReservationRange;
    Iterator(std::span<const std::byte> entries, size_t offset)
        : entries_(entries), offset_(offset) {}
    std::span<const std::byte> entries_;
    size_t offset_;
  };

  Iterator begin() const { return Iterator(entries_, 0); }
  Iterator end() const { return Iterator(entries_, entries_.size()); }
  size_t size() const { return entries_.size() / 16; }

 private:
  friend class Fdt;
  explicit ReservationRange(std::span<const std::byte> entries) : entries_(entries) {}
  std::span<const std::byte> entries_;  // without the terminating entry
};

// A validated device tree blob.
class Fdt {
 public:
  // Validates `blob` (see the top of this file) and returns a reader for it.
  // The blob may be longer than the header's totalsize; the rest is ignored.
  static Result<Fdt> Create(std::span<const std::byte> blob);

  Node root() const;
  // Every node, depth first.
  NodeRange nodes() const { return NodeRange(blocks_, root_offset_); }
  ReservationRange reservations() const { return ReservationRange(reservations_); }

  // The node at `path`: "/" is the root, "/soc/serial@10000000" a node (see
  // Node::FindChild for names without unit addresses). A path that does not
  // start with '/' starts with an alias: "serial0/child" resolves "serial0"
  // through /aliases, whose value must be an absolute path. kInvalidArgs for
  // an empty path or an alias that is not an absolute path string;
  // kNotFound if a node (or the alias) does not exist.
  Result<Node> FindNode(std::string_view path) const;
  // The first node (depth first) whose `compatible` lists `compatible`, or
  // kNotFound.
  Result<Node> FindCompatible(std::string_view compatible) const;
  // The first node whose phandle is `phandle`, or kNotFound.
  Result<Node> FindPhandle(uint32_t phandle) const;
  // The parent of `node`; kNotFound for the root.
  Result<Node> Parent(const Node& node) const;

  std::span<const std::byte> blob() const { return blob_; }
  uint32_t version() const { return version_; }
  uint32_t boot_cpuid_phys() const { return boot_cpuid_phys_; }

 private:
  Fdt() = default;

  std::span<const std::byte> blob_;  // exactly totalsize bytes
  internal::Blocks blocks_;
  std::span<const std::byte> reservations_;
  uint32_t root_offset_ = 0;
  uint32_t version_ = 0;
  uint32_t boot_cpuid_phys_ = 0;
};

}  // namespace hv::fdt

#endif  // HV_FDT_FDT_H_
