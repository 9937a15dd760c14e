#include <hv/base/check.h>
#include <hv/fdt/fdt.h>

#include "hv/fdt/internal/text.h"

namespace hv::fdt {
namespace {

using internal::Before;
using internal::Blocks;
using internal::Cells;
using internal::FindChar;
using internal::Head;
using internal::kEndOffset;
using internal::Tail;

// Structure block tokens.
constexpr uint32_t kBeginNode = 1;
constexpr uint32_t kEndNode = 2;
constexpr uint32_t kProp = 3;
constexpr uint32_t kNop = 4;
constexpr uint32_t kEnd = 9;

constexpr size_t kReservationEntrySize = 16;

// Big-endian loads. Blobs need no alignment: every read is bytewise.
// REQUIRES (checked): the bytes lie inside `bytes`.
uint32_t LoadBe32(std::span<const std::byte> bytes, size_t offset) {
  HV_CHECK(offset <= bytes.size() && bytes.size() - offset >= 4, "read of 4 at %zu of %zu", offset,
           bytes.size());
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i) {
    value = (value << 8) | std::to_integer<uint32_t>(bytes[offset + i]);
  }
  return value;
}

uint64_t LoadBe64(std::span<const std::byte> bytes, size_t offset) {
  return (uint64_t{LoadBe32(bytes, offset)} << 32) | LoadBe32(bytes, offset + 4);
}

std::string_view AsChars(std::span<const std::byte> bytes) {
  // SAFETY: char may alias any object representation, and the view covers
  // exactly the bytes of the span.
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

constexpr uint64_t AlignUp4(uint64_t x) { return (x + 3) & ~uint64_t{3}; }

// The length of the NUL-terminated string at `offset` in `block`:
// kOutOfRange if no NUL follows before the end of the block.
Result<size_t> StringLength(std::span<const std::byte> block, size_t offset) {
  for (size_t i = offset; i < block.size(); ++i) {
    if (block[i] == std::byte{0}) return i - offset;
  }
  return Error::kOutOfRange;
}

// Reads a validated block. Validation (Create) has established every fact
// these rely on; the checks only turn a validation bug into a panic rather
// than a stray read.

uint32_t TokenAt(const Blocks& blocks, uint32_t offset) {
  return LoadBe32(blocks.structure, offset);
}

uint32_t SkipNops(const Blocks& blocks, uint32_t offset) {
  while (TokenAt(blocks, offset) == kNop) offset += 4;
  return offset;
}

struct BeginNode {
  std::string_view name;
  uint32_t content;  // the first token inside the node
};

BeginNode ReadBeginNode(const Blocks& blocks, uint32_t offset) {
  HV_CHECK(TokenAt(blocks, offset) == kBeginNode, "no FDT_BEGIN_NODE at %u", offset);
  const Result<size_t> length = StringLength(blocks.structure, offset + 4);
  HV_CHECK(length.ok(), "unterminated node name at %u", offset);
  return BeginNode{
      .name = AsChars(blocks.structure.subspan(offset + 4, *length)),
      .content = static_cast<uint32_t>(AlignUp4(offset + 4 + *length + 1)),
  };
}

struct Prop {
  std::string_view name;
  std::span<const std::byte> value;
  uint32_t next;  // the token after the property
};

Prop ReadProp(const Blocks& blocks, uint32_t offset) {
  HV_CHECK(TokenAt(blocks, offset) == kProp, "no FDT_PROP at %u", offset);
  const uint32_t length = LoadBe32(blocks.structure, offset + 4);
  const uint32_t name_offset = LoadBe32(blocks.structure, offset + 8);
  const uint64_t value_offset = uint64_t{offset} + 12;
  HV_CHECK(
      value_offset <= blocks.structure.size() && length <= blocks.structure.size() - value_offset,
      "property at %u runs past the structure block", offset);
  const Result<size_t> name_length = StringLength(blocks.strings, name_offset);
  HV_CHECK(name_length.ok(), "unterminated property name at %u", name_offset);
  return Prop{
      .name = AsChars(blocks.strings.subspan(name_offset, *name_length)),
      .value = blocks.structure.subspan(value_offset, length),
      .next = static_cast<uint32_t>(AlignUp4(value_offset + length)),
  };
}

// The offset just past the FDT_END_NODE that closes the node at `offset`.
uint32_t SkipNode(const Blocks& blocks, uint32_t offset) {
  size_t depth = 0;
  for (;;) {
    switch (TokenAt(blocks, offset)) {
      case kBeginNode:
        ++depth;
        offset = ReadBeginNode(blocks, offset).content;
        break;
      case kEndNode:
        offset += 4;
        if (--depth == 0) return offset;
        break;
      case kProp:
        offset = ReadProp(blocks, offset).next;
        break;
      case kNop:
        offset += 4;
        break;
      default:
        HV_PANIC("unexpected token %#x at %u in a validated tree", TokenAt(blocks, offset), offset);
    }
  }
}

// The first property at or after `offset` (inside a node), or kEndOffset.
uint32_t NextProperty(const Blocks& blocks, uint32_t offset) {
  offset = SkipNops(blocks, offset);
  return TokenAt(blocks, offset) == kProp ? offset : kEndOffset;
}

// The first token after the properties of the node whose content starts at
// `offset`: a child's FDT_BEGIN_NODE or the node's FDT_END_NODE.
uint32_t SkipProperties(const Blocks& blocks, uint32_t offset) {
  for (;;) {
    offset = SkipNops(blocks, offset);
    if (TokenAt(blocks, offset) != kProp) return offset;
    offset = ReadProp(blocks, offset).next;
  }
}

// Validation of an untrusted structure block: every token, name and
// property inside its block, properties before subnodes, exactly one root,
// balanced nesting no deeper than kMaxDepth, and FDT_END last.
Result<void> ValidateStructure(const Blocks& blocks) {
  const std::span<const std::byte> block = blocks.structure;
  const uint64_t size = block.size();
  uint64_t offset = 0;
  size_t depth = 0;
  bool root_done = false;
  // child_seen[d]: the open node at depth d (1-based) already had a subnode.
  std::array<bool, kMaxDepth + 1> child_seen{};
  for (;;) {
    if (size - offset < 4) return Error::kOutOfRange;
    const uint32_t token = LoadBe32(block, offset);
    offset += 4;
    switch (token) {
      case kNop:
        break;
      case kBeginNode: {
        if (root_done) return Error::kInvalidArgs;  // a second root
        const size_t length = HV_TRY(StringLength(block, offset));
        const std::string_view name = AsChars(block.subspan(offset, length));
        if (depth == 0) {
          if (!name.empty()) return Error::kInvalidArgs;  // the root is nameless
        } else {
          // '/' would make the node unreachable by path.
          if (name.empty() || FindChar(name, '/') != std::string_view::npos) {
            return Error::kInvalidArgs;
          }
          child_seen[depth] = true;
        }
        if (depth == kMaxDepth) return Error::kInvalidArgs;
        offset = AlignUp4(offset + length + 1);
        ++depth;
        child_seen[depth] = false;
        break;
      }
      case kEndNode:
        if (depth == 0) return Error::kInvalidArgs;
        if (--depth == 0) root_done = true;
        break;
      case kProp: {
        if (depth == 0) return Error::kInvalidArgs;         // outside any node
        if (child_seen[depth]) return Error::kInvalidArgs;  // after a subnode
        if (size - offset < 8) return Error::kOutOfRange;
        const uint32_t length = LoadBe32(block, offset);
        const uint32_t name_offset = LoadBe32(block, offset + 4);
        offset += 8;
        if (length > size - offset) return Error::kOutOfRange;
        if (name_offset >= blocks.strings.size()) return Error::kOutOfRange;
        const size_t name_length = HV_TRY(StringLength(blocks.strings, name_offset));
        if (name_length == 0) return Error::kInvalidArgs;
        offset = AlignUp4(offset + length);
        break;
      }
      case kEnd:
        if (!root_done) return Error::kInvalidArgs;
        if (offset != size) return Error::kInvalidArgs;  // FDT_END must be last
        return Ok();
      default:
        return Error::kInvalidArgs;
    }
    // A name or value padded past the end leaves no room for FDT_END.
    if (offset > size) return Error::kOutOfRange;
  }
}

// [offset, offset + size) lies in [kHeaderSize, total_size).
bool BlockInside(uint64_t offset, uint64_t size, uint64_t total_size) {
  return offset >= kHeaderSize && offset <= total_size && size <= total_size - offset;
}

bool Overlap(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size) {
  return a_size != 0 && b_size != 0 && a < b + b_size && b < a + a_size;
}

Cells ReadChildCells(const Blocks& blocks, uint32_t content) {
  Cells cells{.address = kDefaultAddressCells, .size = kDefaultSizeCells};
  bool address_seen = false;
  bool size_seen = false;
  for (uint32_t offset = NextProperty(blocks, content); offset != kEndOffset;) {
    const Prop prop = ReadProp(blocks, offset);
    const uint32_t value = prop.value.size() == 4 ? LoadBe32(prop.value, 0) : Cells::kInvalidCells;
    // The first occurrence wins, as for FindProperty.
    if (prop.name == "#address-cells" && !address_seen) {
      cells.address = value;
      address_seen = true;
    } else if (prop.name == "#size-cells" && !size_seen) {
      cells.size = value;
      size_seen = true;
    }
    offset = NextProperty(blocks, prop.next);
  }
  return cells;
}

// A cells value as read, checked: kInvalidArgs if malformed or too large.
Result<uint32_t> CheckCells(uint32_t cells) {
  if (cells == Cells::kInvalidCells || cells > kMaxCells) return Error::kInvalidArgs;
  return cells;
}

// `count` cells at `offset` as one number. REQUIRES: cells beyond the low
// two are zero (the caller checked).
uint64_t ReadCells(std::span<const std::byte> value, size_t offset, uint32_t count) {
  uint64_t result = 0;
  for (uint32_t i = 0; i < count; ++i) {
    result = (result << 32) | LoadBe32(value, offset + 4 * i);
  }
  return result;
}

}  // namespace

std::string_view StringList::Iterator::operator*() const {
  const Result<size_t> length = StringLength(rest_, 0);
  HV_CHECK(length.ok(), "string list without its final NUL");
  return AsChars(rest_.subspan(0, *length));
}

StringList::Iterator& StringList::Iterator::operator++() {
  rest_ = rest_.subspan((**this).size() + 1);
  return *this;
}

size_t StringList::size() const {
  size_t count = 0;
  for (const std::byte b : value_) {
    if (b == std::byte{0}) ++count;
  }
  return count;
}

Result<std::string_view> StringList::At(size_t index) const {
  for (const std::string_view s : *this) {
    if (index-- == 0) return s;
  }
  return Error::kOutOfRange;
}

bool StringList::Contains(std::string_view s) const {
  for (const std::string_view item : *this) {
    if (item == s) return true;
  }
  return false;
}

RegEntry RegList::Entry(size_t index) const {
  HV_CHECK(index < size(), "reg entry %zu of %zu", index, size());
  const size_t offset = index * 4 * (address_cells_ + size_cells_);
  return RegEntry{
      .address = ReadCells(value_, offset, address_cells_),
      .size = ReadCells(value_, offset + 4 * address_cells_, size_cells_),
  };
}

Result<RegEntry> RegList::At(size_t index) const {
  if (index >= size()) return Error::kOutOfRange;
  return Entry(index);
}

Result<uint32_t> Property::AsU32() const {
  if (value_.size() != 4) return Error::kInvalidArgs;
  return LoadBe32(value_, 0);
}

Result<uint64_t> Property::AsU64() const {
  if (value_.size() != 8) return Error::kInvalidArgs;
  return LoadBe64(value_, 0);
}

Result<uint64_t> Property::AsU32OrU64() const {
  if (value_.size() == 4) return uint64_t{LoadBe32(value_, 0)};
  return AsU64();
}

Result<uint32_t> Property::CellAt(size_t index) const {
  if (value_.size() % 4 != 0) return Error::kInvalidArgs;
  if (index >= value_.size() / 4) return Error::kOutOfRange;
  return LoadBe32(value_, 4 * index);
}

Result<std::string_view> Property::AsString() const {
  const StringList list = HV_TRY(AsStringList());
  if (list.size() != 1) return Error::kInvalidArgs;
  return *list.begin();
}

Result<StringList> Property::AsStringList() const {
  if (value_.empty() || value_.back() != std::byte{0}) return Error::kInvalidArgs;
  return StringList(value_);
}

Property PropertyRange::Iterator::operator*() const {
  const Prop prop = ReadProp(blocks_, offset_);
  return Property(prop.name, prop.value);
}

PropertyRange::Iterator& PropertyRange::Iterator::operator++() {
  offset_ = NextProperty(blocks_, ReadProp(blocks_, offset_).next);
  return *this;
}

PropertyRange::Iterator PropertyRange::begin() const {
  return Iterator(blocks_, NextProperty(blocks_, first_));
}

Node::Node(Blocks blocks, uint32_t offset, Cells parent_cells)
    : blocks_(blocks), offset_(offset), parent_cells_(parent_cells) {
  const BeginNode begin = ReadBeginNode(blocks, offset);
  name_ = begin.name;
  content_ = begin.content;
}

std::string_view Node::base_name() const { return Before(name_, '@'); }

std::string_view Node::unit_address() const {
  const size_t at = FindChar(name_, '@');
  return at == std::string_view::npos ? std::string_view() : Tail(name_, at + 1);
}

Result<Property> Node::FindProperty(std::string_view name) const {
  for (const Property prop : properties()) {
    if (prop.name() == name) return prop;
  }
  return Error::kNotFound;
}

Result<uint32_t> Node::ReadU32(std::string_view name) const {
  return HV_TRY(FindProperty(name)).AsU32();
}

Result<uint64_t> Node::ReadU32OrU64(std::string_view name) const {
  return HV_TRY(FindProperty(name)).AsU32OrU64();
}

Result<std::string_view> Node::ReadString(std::string_view name) const {
  return HV_TRY(FindProperty(name)).AsString();
}

Result<StringList> Node::ReadStringList(std::string_view name) const {
  return HV_TRY(FindProperty(name)).AsStringList();
}

bool Node::IsCompatible(std::string_view compatible) const {
  const Result<StringList> list = ReadStringList("compatible");
  return list.ok() && list->Contains(compatible);
}

bool Node::IsEnabled() const {
  const Result<Property> status = FindProperty("status");
  if (!status.ok()) return true;
  const Result<std::string_view> value = status->AsString();
  return value.ok() && (*value == "okay" || *value == "ok");
}

Result<uint32_t> Node::Phandle() const {
  Result<Property> prop = FindProperty("phandle");
  if (!prop.ok()) prop = FindProperty("linux,phandle");
  return HV_TRY(std::move(prop)).AsU32();
}

Cells Node::ChildCells() const { return ReadChildCells(blocks_, content_); }

Result<uint32_t> Node::AddressCells() const { return CheckCells(ChildCells().address); }

Result<uint32_t> Node::SizeCells() const { return CheckCells(ChildCells().size); }

Result<RegList> Node::Reg() const {
  const Property reg = HV_TRY(FindProperty("reg"));
  if (is_root()) return Error::kInvalidArgs;
  const uint32_t address_cells = HV_TRY(CheckCells(parent_cells_.address));
  const uint32_t size_cells = HV_TRY(CheckCells(parent_cells_.size));
  if (address_cells == 0) return Error::kInvalidArgs;
  const size_t entry_size = 4 * (address_cells + size_cells);
  if (reg.size() % entry_size != 0) return Error::kInvalidArgs;
  // Each number must fit in 64 bits: cells above the low two are zero.
  for (size_t entry = 0; entry < reg.size(); entry += entry_size) {
    for (uint32_t i = 0; i + 2 < address_cells; ++i) {
      if (LoadBe32(reg.value(), entry + 4 * i) != 0) return Error::kOutOfRange;
    }
    for (uint32_t i = 0; i + 2 < size_cells; ++i) {
      if (LoadBe32(reg.value(), entry + 4 * (address_cells + i)) != 0) return Error::kOutOfRange;
    }
  }
  return RegList(reg.value(), address_cells, size_cells);
}

ChildRange Node::children() const {
  return ChildRange(blocks_, content_, ChildCells(), std::nullopt);
}

ChildRange Node::ChildrenNamed(std::string_view base_name) const {
  return ChildRange(blocks_, content_, ChildCells(), base_name);
}

Result<Node> Node::FindChild(std::string_view name) const {
  if (name.empty()) return Error::kInvalidArgs;
  const bool has_unit_address = FindChar(name, '@') != std::string_view::npos;
  std::optional<Node> by_base_name;
  bool ambiguous = false;
  for (const Node child : children()) {
    if (child.name() == name) return child;
    if (!has_unit_address && child.base_name() == name) {
      ambiguous = by_base_name.has_value();
      by_base_name = child;
    }
  }
  if (ambiguous) return Error::kInvalidArgs;
  if (by_base_name.has_value()) return *by_base_name;
  return Error::kNotFound;
}

uint32_t ChildRange::NextMatch(uint32_t offset) const {
  if (offset == kEndOffset) return kEndOffset;
  for (offset = SkipProperties(blocks_, offset);;) {
    offset = SkipNops(blocks_, offset);
    if (TokenAt(blocks_, offset) != kBeginNode) return kEndOffset;  // the parent's FDT_END_NODE
    if (!base_name_.has_value()) return offset;
    const std::string_view name = ReadBeginNode(blocks_, offset).name;
    if (Before(name, '@') == *base_name_) return offset;
    offset = SkipNode(blocks_, offset);
  }
}

ChildRange::Iterator& ChildRange::Iterator::operator++() {
  offset_ = range_.NextMatch(SkipNode(range_.blocks_, offset_));
  return *this;
}

Node NodeRange::Iterator::operator*() const {
  return Node(blocks_, offset_, depth_ == 0 ? Cells{} : cells_[depth_ - 1]);
}

NodeRange::Iterator& NodeRange::Iterator::operator++() {
  const BeginNode current = ReadBeginNode(blocks_, offset_);
  // Validation bounds the depth of every node below kMaxDepth.
  HV_CHECK(depth_ < kMaxDepth, "node at depth %zu", depth_);
  cells_[depth_] = ReadChildCells(blocks_, current.content);
  uint32_t offset = SkipProperties(blocks_, current.content);
  if (TokenAt(blocks_, offset) == kBeginNode) {  // the first child
    ++depth_;
    offset_ = offset;
    return *this;
  }
  // The node has no children: go to the next sibling of it or of the
  // nearest ancestor that has one.
  for (;;) {
    HV_CHECK(TokenAt(blocks_, offset) == kEndNode, "expected FDT_END_NODE at %u", offset);
    if (depth_ == 0) {
      offset_ = kEndOffset;
      return *this;
    }
    offset = SkipNops(blocks_, offset + 4);
    if (TokenAt(blocks_, offset) == kBeginNode) {
      offset_ = offset;
      return *this;
    }
    --depth_;
  }
}

RegEntry ReservationRange::Iterator::operator*() const {
  return RegEntry{.address = LoadBe64(entries_, offset_), .size = LoadBe64(entries_, offset_ + 8)};
}

Result<Fdt> Fdt::Create(std::span<const std::byte> blob) {
  if (blob.size() < kHeaderSize) return Error::kOutOfRange;
  if (LoadBe32(blob, 0) != kMagic) return Error::kInvalidArgs;
  const uint32_t total_size = LoadBe32(blob, 4);
  const uint32_t struct_offset = LoadBe32(blob, 8);
  const uint32_t strings_offset = LoadBe32(blob, 12);
  const uint32_t reservations_offset = LoadBe32(blob, 16);
  const uint32_t version = LoadBe32(blob, 20);
  const uint32_t last_compatible_version = LoadBe32(blob, 24);
  const uint32_t boot_cpuid_phys = LoadBe32(blob, 28);
  const uint32_t strings_size = LoadBe32(blob, 32);
  const uint32_t struct_size = LoadBe32(blob, 36);

  if (total_size < kHeaderSize) return Error::kInvalidArgs;
  if (total_size > blob.size()) return Error::kOutOfRange;
  if (last_compatible_version > version) return Error::kInvalidArgs;
  // Version 17 added size_dt_struct, which this reader needs.
  if (version < kVersion || last_compatible_version > kVersion) return Error::kUnsupported;
  if (struct_offset % 4 != 0 || struct_size % 4 != 0 || reservations_offset % 8 != 0) {
    return Error::kInvalidArgs;
  }
  if (!BlockInside(struct_offset, struct_size, total_size) ||
      !BlockInside(strings_offset, strings_size, total_size) ||
      !BlockInside(reservations_offset, 0, total_size)) {
    return Error::kOutOfRange;
  }
  if (Overlap(struct_offset, struct_size, strings_offset, strings_size)) {
    return Error::kInvalidArgs;
  }

  // The reservation map runs to its (0, 0) entry, which must come before the
  // end of the blob and without running into the other blocks.
  size_t reservations_size = 0;
  for (;;) {
    const uint64_t entry = uint64_t{reservations_offset} + reservations_size;
    if (total_size - entry < kReservationEntrySize) return Error::kOutOfRange;
    if (Overlap(entry, kReservationEntrySize, struct_offset, struct_size) ||
        Overlap(entry, kReservationEntrySize, strings_offset, strings_size)) {
      return Error::kInvalidArgs;
    }
    if (LoadBe64(blob, entry) == 0 && LoadBe64(blob, entry + 8) == 0) break;
    reservations_size += kReservationEntrySize;
  }

  Fdt fdt;
  fdt.blob_ = blob.subspan(0, total_size);
  fdt.blocks_ = Blocks{
      .structure = fdt.blob_.subspan(struct_offset, struct_size),
      .strings = fdt.blob_.subspan(strings_offset, strings_size),
  };
  fdt.reservations_ = fdt.blob_.subspan(reservations_offset, reservations_size);
  fdt.version_ = version;
  fdt.boot_cpuid_phys_ = boot_cpuid_phys;
  HV_TRY(ValidateStructure(fdt.blocks_));
  fdt.root_offset_ = SkipNops(fdt.blocks_, 0);
  return fdt;
}

Node Fdt::root() const { return Node(blocks_, root_offset_, Cells{}); }

Result<Node> Fdt::FindNode(std::string_view path) const {
  if (path.empty()) return Error::kInvalidArgs;
  Node node = root();
  if (path.front() != '/') {
    const size_t slash = FindChar(path, '/');
    const std::string_view alias = Head(path, slash);
    path = Tail(path, slash);
    const Node aliases = HV_TRY(root().FindChild("aliases"));
    const std::string_view target = HV_TRY(aliases.ReadString(alias));
    if (target.empty() || target.front() != '/') return Error::kInvalidArgs;
    node = HV_TRY(FindNode(target));
  }
  for (;;) {
    while (!path.empty() && path.front() == '/') path.remove_prefix(1);
    if (path.empty()) break;
    const std::string_view component = Before(path, '/');
    node = HV_TRY(node.FindChild(component));
    path.remove_prefix(component.size());
  }
  return node;
}

Result<Node> Fdt::FindCompatible(std::string_view compatible) const {
  for (const Node node : nodes()) {
    if (node.IsCompatible(compatible)) return node;
  }
  return Error::kNotFound;
}

Result<Node> Fdt::FindPhandle(uint32_t phandle) const {
  // 0 and ~0 are never phandles.
  if (phandle == 0 || phandle == 0xffff'ffff) return Error::kNotFound;
  for (const Node node : nodes()) {
    const Result<uint32_t> value = node.Phandle();
    if (value.ok() && *value == phandle) return node;
  }
  return Error::kNotFound;
}

Result<Node> Fdt::Parent(const Node& node) const {
  std::array<uint32_t, kMaxDepth> path{};
  std::optional<uint32_t> parent;
  for (auto it = nodes().begin(); it != nodes().end(); ++it) {
    path[it.depth()] = (*it).offset();
    if ((*it).offset() == node.offset()) {
      if (it.depth() == 0) return Error::kNotFound;
      parent = path[it.depth() - 1];
      break;
    }
  }
  if (!parent.has_value()) return Error::kNotFound;
  // A second walk yields the parent with its own parent's cells.
  for (const Node candidate : nodes()) {
    if (candidate.offset() == *parent) return candidate;
  }
  HV_PANIC("parent at %u vanished", *parent);
}

}  // namespace hv::fdt
