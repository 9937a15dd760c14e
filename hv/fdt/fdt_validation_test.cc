// Fdt::Create() on hand-built blobs, each broken in one way: every malformed
// header, block layout and token sequence must be refused with the
// documented error, and the valid corner cases accepted.
#include <gtest/gtest.h>

#include <hv/fdt/fdt.h>

#include <string>
#include <vector>

namespace hv {

void PrintTo(Error error, std::ostream* os) {
  *os << (error == Error{} ? "(no error)" : ErrorName(error));
}

namespace fdt {
namespace {

template <typename T>
Error ErrorOf(const Result<T>& result) {
  return result.ok() ? Error{} : result.error();
}

// Header fields, by byte offset.
constexpr size_t kTotalSize = 4;
constexpr size_t kOffStruct = 8;
constexpr size_t kOffStrings = 12;
constexpr size_t kOffReservations = 16;
constexpr size_t kVersionField = 20;
constexpr size_t kLastCompVersion = 24;
constexpr size_t kSizeStrings = 32;
constexpr size_t kSizeStruct = 36;

uint32_t GetU32(const std::vector<std::byte>& blob, size_t offset) {
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i) value = (value << 8) | std::to_integer<uint32_t>(blob[offset + i]);
  return value;
}

void SetU32(std::vector<std::byte>& blob, size_t offset, uint32_t value) {
  for (size_t i = 0; i < 4; ++i) blob[offset + i] = std::byte(value >> (24 - 8 * i));
}

// Writes a blob the way dtc lays it out (header, reservations, structure,
// strings), with whatever token sequence the test asks for.
class Builder {
 public:
  Builder& Begin(std::string_view name) {
    Token(1);
    for (const char c : name) struct_.push_back(std::byte(c));
    struct_.push_back(std::byte{0});
    Pad();
    return *this;
  }
  Builder& End() { return Token(2); }
  Builder& Nop() { return Token(4); }
  Builder& Prop(std::string_view name, std::vector<uint8_t> value) {
    return RawProp(static_cast<uint32_t>(value.size()), NameOffset(name), value);
  }
  Builder& PropU32(std::string_view name, uint32_t value) {
    return Prop(name, {static_cast<uint8_t>(value >> 24), static_cast<uint8_t>(value >> 16),
                       static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value)});
  }
  // A property whose header says `length` and `name_offset`, followed by
  // `value` (which may disagree with `length`).
  Builder& RawProp(uint32_t length, uint32_t name_offset, const std::vector<uint8_t>& value) {
    Token(3);
    Token(length);
    Token(name_offset);
    for (const uint8_t b : value) struct_.push_back(std::byte(b));
    Pad();
    return *this;
  }
  Builder& Token(uint32_t value) {
    struct_.resize(struct_.size() + 4);
    for (size_t i = 0; i < 4; ++i)
      struct_[struct_.size() - 4 + i] = std::byte(value >> (24 - 8 * i));
    return *this;
  }
  Builder& Reserve(uint64_t address, uint64_t size) {
    reservations_.push_back({address, size});
    return *this;
  }
  Builder& RawStrings(std::vector<uint8_t> bytes) {
    for (const uint8_t b : bytes) strings_.push_back(std::byte(b));
    return *this;
  }
  uint32_t NameOffset(std::string_view name) {
    // SAFETY: char may alias the bytes; the view covers exactly the vector.
    const std::string_view existing(reinterpret_cast<const char*>(strings_.data()),
                                    strings_.size());
    const size_t found = existing.find(std::string(name) + '\0');
    if (found != std::string_view::npos) return static_cast<uint32_t>(found);
    const auto offset = static_cast<uint32_t>(strings_.size());
    for (const char c : name) strings_.push_back(std::byte(c));
    strings_.push_back(std::byte{0});
    return offset;
  }

  // The blob, with FDT_END appended when `end` is set.
  std::vector<std::byte> Build(bool end = true) const {
    std::vector<std::byte> structure = struct_;
    if (end) {
      for (const uint8_t b : {0, 0, 0, 9}) structure.push_back(std::byte(b));
    }
    const size_t off_reservations = kHeaderSize;
    const size_t off_struct = off_reservations + 16 * (reservations_.size() + 1);
    const size_t off_strings = off_struct + structure.size();
    const size_t total = off_strings + strings_.size();
    std::vector<std::byte> blob(total);
    SetU32(blob, 0, kMagic);
    SetU32(blob, kTotalSize, static_cast<uint32_t>(total));
    SetU32(blob, kOffStruct, static_cast<uint32_t>(off_struct));
    SetU32(blob, kOffStrings, static_cast<uint32_t>(off_strings));
    SetU32(blob, kOffReservations, static_cast<uint32_t>(off_reservations));
    SetU32(blob, kVersionField, 17);
    SetU32(blob, kLastCompVersion, 16);
    SetU32(blob, kSizeStrings, static_cast<uint32_t>(strings_.size()));
    SetU32(blob, kSizeStruct, static_cast<uint32_t>(structure.size()));
    for (size_t i = 0; i < reservations_.size(); ++i) {
      const size_t at = off_reservations + 16 * i;
      SetU32(blob, at, static_cast<uint32_t>(reservations_[i].address >> 32));
      SetU32(blob, at + 4, static_cast<uint32_t>(reservations_[i].address));
      SetU32(blob, at + 8, static_cast<uint32_t>(reservations_[i].size >> 32));
      SetU32(blob, at + 12, static_cast<uint32_t>(reservations_[i].size));
    }
    std::copy(structure.begin(), structure.end(), blob.begin() + off_struct);
    std::copy(strings_.begin(), strings_.end(), blob.begin() + off_strings);
    return blob;
  }

 private:
  void Pad() {
    while (struct_.size() % 4 != 0) struct_.push_back(std::byte{0});
  }

  std::vector<std::byte> struct_;
  std::vector<std::byte> strings_;
  std::vector<RegEntry> reservations_;
};

Error CreateError(const std::vector<std::byte>& blob) { return ErrorOf(Fdt::Create(blob)); }

// A small valid tree: / { a = <1>; child@1 { reg = <1 2>; }; }.
Builder Small() {
  Builder b;
  b.Begin("").PropU32("#address-cells", 1).PropU32("#size-cells", 1);
  b.Begin("child@1").Prop("reg", {0, 0, 0, 1, 0, 0, 0, 2}).End();
  b.End();
  return b;
}

TEST(Validation, TheBuilderMakesValidBlobs) {
  const std::vector<std::byte> blob = Small().Reserve(0x1000, 0x2000).Build();
  const Result<Fdt> fdt = Fdt::Create(blob);
  ASSERT_TRUE(fdt.ok()) << ErrorName(fdt.error());
  EXPECT_EQ(*(*fdt->FindNode("/child@1")).Reg()->At(0), (RegEntry{1, 2}));
  ASSERT_EQ(fdt->reservations().size(), 1u);
  EXPECT_EQ(*fdt->reservations().begin(), (RegEntry{0x1000, 0x2000}));
}

TEST(Validation, Truncation) {
  const std::vector<std::byte> blob = Small().Build();
  EXPECT_EQ(ErrorOf(Fdt::Create({})), Error::kOutOfRange);
  EXPECT_EQ(ErrorOf(Fdt::Create(std::span(blob).first(kHeaderSize - 1))), Error::kOutOfRange);
  // totalsize beyond the span, at every shorter length.
  for (size_t n = kHeaderSize; n < blob.size(); ++n) {
    EXPECT_EQ(ErrorOf(Fdt::Create(std::span(blob).first(n))), Error::kOutOfRange) << n;
  }
  // A longer span is fine: only totalsize bytes are the blob.
  std::vector<std::byte> longer = blob;
  longer.resize(blob.size() + 100, std::byte{0xa5});
  const Result<Fdt> fdt = Fdt::Create(longer);
  ASSERT_TRUE(fdt.ok());
  EXPECT_EQ(fdt->blob().size(), blob.size());
}

TEST(Validation, Header) {
  const std::vector<std::byte> good = Small().Build();
  auto with = [&](size_t field, uint32_t value) {
    std::vector<std::byte> blob = good;
    SetU32(blob, field, value);
    return blob;
  };
  EXPECT_EQ(CreateError(with(0, 0xedfe0dd0)), Error::kInvalidArgs);  // little-endian magic
  EXPECT_EQ(CreateError(with(kTotalSize, kHeaderSize - 1)), Error::kInvalidArgs);
  EXPECT_EQ(CreateError(with(kTotalSize, 0xffff'ffff)), Error::kOutOfRange);
  // Versions: 16 lacks size_dt_struct; a last compatible version above 17
  // is a format this reader does not know; newer but compatible is fine.
  EXPECT_EQ(CreateError(with(kVersionField, 16)), Error::kUnsupported);
  {
    std::vector<std::byte> blob = with(kVersionField, 18);
    SetU32(blob, kLastCompVersion, 18);
    EXPECT_EQ(CreateError(blob), Error::kUnsupported);
  }
  EXPECT_TRUE(Fdt::Create(with(kVersionField, 18)).ok());
  EXPECT_EQ(CreateError(with(kLastCompVersion, 18)), Error::kInvalidArgs);  // above version
}

TEST(Validation, BlockLayout) {
  const std::vector<std::byte> good = Small().Build();
  const uint32_t off_struct = GetU32(good, kOffStruct);
  const uint32_t size_struct = GetU32(good, kSizeStruct);
  const uint32_t size_strings = GetU32(good, kSizeStrings);
  const uint32_t total = GetU32(good, kTotalSize);
  auto with = [&](size_t field, uint32_t value) {
    std::vector<std::byte> blob = good;
    SetU32(blob, field, value);
    return CreateError(blob);
  };
  // Alignment.
  EXPECT_EQ(with(kOffStruct, off_struct + 2), Error::kInvalidArgs);
  EXPECT_EQ(with(kSizeStruct, size_struct - 2), Error::kInvalidArgs);
  EXPECT_EQ(with(kOffReservations, kHeaderSize + 4), Error::kInvalidArgs);
  // Blocks past totalsize, or inside the header.
  EXPECT_EQ(with(kSizeStruct, size_struct + 0x1000), Error::kOutOfRange);
  EXPECT_EQ(with(kOffStruct, 0xffff'fff0), Error::kOutOfRange);
  EXPECT_EQ(with(kSizeStrings, size_strings + 1), Error::kOutOfRange);
  EXPECT_EQ(with(kOffStrings, total + 1), Error::kOutOfRange);
  EXPECT_EQ(with(kOffStrings, 0xffff'ffff), Error::kOutOfRange);
  EXPECT_EQ(with(kOffStruct, 0), Error::kOutOfRange);
  EXPECT_EQ(with(kOffReservations, (total + 8) & ~7u), Error::kOutOfRange);
  EXPECT_EQ(with(kOffReservations, 0xffff'fff8), Error::kOutOfRange);
  // Overlapping blocks.
  EXPECT_EQ(with(kOffStrings, off_struct + 4), Error::kInvalidArgs);
  EXPECT_EQ(with(kOffReservations, off_struct), Error::kInvalidArgs);
  // No structure at all: nothing where FDT_BEGIN_NODE should be.
  EXPECT_EQ(with(kSizeStruct, 0), Error::kOutOfRange);
  // Strings may be empty when no property needs them.
  EXPECT_TRUE(Fdt::Create(Builder().Begin("").End().Build()).ok());
  // Block order is free: strings before the structure.
  {
    const std::vector<std::byte> blob = Builder().Begin("").PropU32("x", 7).End().Build();
    std::vector<std::byte> swapped(blob.begin(), blob.begin() + GetU32(blob, kOffStruct));
    const uint32_t s_off = GetU32(blob, kOffStrings);
    const uint32_t s_size = GetU32(blob, kSizeStrings);
    const uint32_t t_off = GetU32(blob, kOffStruct);
    const uint32_t t_size = GetU32(blob, kSizeStruct);
    swapped.insert(swapped.end(), blob.begin() + s_off, blob.begin() + s_off + s_size);
    while (swapped.size() % 4 != 0) swapped.push_back(std::byte{0});
    SetU32(swapped, kOffStrings, t_off);
    SetU32(swapped, kOffStruct, static_cast<uint32_t>(swapped.size()));
    swapped.insert(swapped.end(), blob.begin() + t_off, blob.begin() + t_off + t_size);
    SetU32(swapped, kTotalSize, static_cast<uint32_t>(swapped.size()));
    const Result<Fdt> fdt = Fdt::Create(swapped);
    ASSERT_TRUE(fdt.ok()) << ErrorName(fdt.error());
    EXPECT_EQ(*fdt->root().ReadU32("x"), 7u);
  }
}

TEST(Validation, ReservationMap) {
  // No terminator before the end: the map runs into the structure block.
  std::vector<std::byte> blob = Small().Reserve(1, 2).Build();
  SetU32(blob, kHeaderSize + 16 + 12, 1);  // the terminator is now (0, 1)
  EXPECT_EQ(CreateError(blob), Error::kInvalidArgs);
  // A map at the end of the blob without its terminator.
  blob = Small().Build();
  blob.resize((blob.size() + 7) & ~size_t{7});
  blob.resize(blob.size() + 16, std::byte{0xff});
  SetU32(blob, kTotalSize, static_cast<uint32_t>(blob.size()));
  SetU32(blob, kOffReservations, static_cast<uint32_t>(blob.size() - 16));
  EXPECT_EQ(CreateError(blob), Error::kOutOfRange);
}

TEST(Validation, StructureTokens) {
  // Each builder is one defect away from Small().
  struct Case {
    const char* what;
    std::vector<std::byte> blob;
    Error error;
  };
  std::vector<Case> cases;
  const auto add = [&](const char* what, std::vector<std::byte> blob, Error error) {
    cases.push_back({what, std::move(blob), error});
  };
  add("no FDT_END", Small().Build(/*end=*/false), Error::kOutOfRange);
  add("FDT_END not last", Small().Token(9).Nop().Build(false), Error::kInvalidArgs);
  add("FDT_END inside the root", Builder().Begin("").Build(), Error::kInvalidArgs);
  add("unknown token", Builder().Begin("").Token(5).End().Build(), Error::kInvalidArgs);
  add("token 0", Builder().Begin("").Token(0).End().Build(), Error::kInvalidArgs);
  add("property outside any node", Builder().PropU32("a", 1).Begin("").End().Build(),
      Error::kInvalidArgs);
  add("property after a subnode",
      Builder().Begin("").Begin("c").End().PropU32("a", 1).End().Build(), Error::kInvalidArgs);
  add("FDT_END_NODE with no open node", Builder().End().Build(), Error::kInvalidArgs);
  add("extra FDT_END_NODE", Builder().Begin("").End().End().Build(), Error::kInvalidArgs);
  add("two roots", Builder().Begin("").End().Begin("").End().Build(), Error::kInvalidArgs);
  add("named root", Builder().Begin("root").End().Build(), Error::kInvalidArgs);
  add("nameless child", Builder().Begin("").Begin("").End().End().Build(), Error::kInvalidArgs);
  add("slash in a name", Builder().Begin("").Begin("a/b").End().End().Build(), Error::kInvalidArgs);
  {
    Builder b;
    b.Begin("");
    const uint32_t name = b.NameOffset("p");
    add("length past the block", b.RawProp(0x100, name, {1, 2, 3, 4}).End().Build(),
        Error::kOutOfRange);
  }
  {
    Builder b;
    b.Begin("");
    const uint32_t name = b.NameOffset("p");
    add("length 0xffffffff", b.RawProp(0xffff'ffff, name, {}).End().Build(), Error::kOutOfRange);
  }
  add("name offset past the strings", Builder().Begin("").RawProp(0, 1000, {}).End().Build(),
      Error::kOutOfRange);
  add("name offset 0xffffffff", Builder().Begin("").RawProp(0, 0xffff'ffff, {}).End().Build(),
      Error::kOutOfRange);
  add("unterminated name in the strings",
      Builder().RawStrings({'a', 'b'}).Begin("").RawProp(0, 0, {}).End().Build(),
      Error::kOutOfRange);
  add("empty property name", Builder().RawStrings({0}).Begin("").RawProp(0, 0, {}).End().Build(),
      Error::kInvalidArgs);
  {
    // The structure block ends inside a node name.
    std::vector<std::byte> blob = Builder().Begin("").Begin("abcdefg").Build(false);
    SetU32(blob, kSizeStruct, GetU32(blob, kSizeStruct) - 4);
    add("unterminated node name", std::move(blob), Error::kOutOfRange);
  }
  {
    // The structure block ends inside a property header.
    std::vector<std::byte> blob = Builder().Begin("").PropU32("a", 1).Build(false);
    SetU32(blob, kSizeStruct, GetU32(blob, kSizeStruct) - 8);
    add("truncated property header", std::move(blob), Error::kOutOfRange);
  }
  {
    Builder b;
    for (size_t i = 0; i <= kMaxDepth; ++i) b.Begin(i == 0 ? "" : "n");
    for (size_t i = 0; i <= kMaxDepth; ++i) b.End();
    add("nesting deeper than kMaxDepth", b.Build(), Error::kInvalidArgs);
  }

  for (const Case& c : cases) {
    EXPECT_EQ(CreateError(c.blob), c.error) << c.what;
  }
}

TEST(Validation, AcceptedCornerCases) {
  {
    Builder b;
    for (size_t i = 0; i < kMaxDepth; ++i) b.Begin(i == 0 ? "" : "n");
    b.PropU32("deepest", 1);
    for (size_t i = 0; i < kMaxDepth; ++i) b.End();
    const std::vector<std::byte> blob = b.Build();  // outlives the Fdt
    const Result<Fdt> fdt = Fdt::Create(blob);
    ASSERT_TRUE(fdt.ok());
    std::string path;
    for (size_t i = 1; i < kMaxDepth; ++i) path += "/n";
    EXPECT_EQ(*fdt->FindNode(path)->ReadU32("deepest"), 1u);
    size_t max_depth = 0;
    for (auto it = fdt->nodes().begin(); it != fdt->nodes().end(); ++it) {
      max_depth = std::max(max_depth, it.depth());
    }
    EXPECT_EQ(max_depth, kMaxDepth - 1);
  }
  {
    // NOPs anywhere between tokens.
    Builder b;
    b.Nop().Begin("").Nop().PropU32("a", 1).Nop().PropU32("b", 2).Nop();
    b.Begin("c").Nop().End().Nop().Begin("d").End().Nop().End().Nop();
    const std::vector<std::byte> blob = b.Build();  // outlives the Fdt
    const Result<Fdt> fdt = Fdt::Create(blob);
    ASSERT_TRUE(fdt.ok());
    EXPECT_EQ(*fdt->root().ReadU32("b"), 2u);
    std::vector<std::string_view> names;
    for (const Node n : fdt->root().children()) names.push_back(n.name());
    EXPECT_EQ(names, (std::vector<std::string_view>{"c", "d"}));
    size_t nodes = 0;
    for ([[maybe_unused]] const Node n : fdt->nodes()) ++nodes;
    EXPECT_EQ(nodes, 3u);
  }
  {
    // Cells that are not one cell, and #address-cells 0 with a reg.
    Builder b;
    b.Begin("").Prop("#address-cells", {0, 0, 0, 1}).Prop("#size-cells", {0, 1});
    b.Begin("a").Prop("reg", {0, 0, 0, 1}).End();
    b.Begin("zero").PropU32("#address-cells", 0).PropU32("#size-cells", 1);
    b.Begin("b").Prop("reg", {0, 0, 0, 1}).End().End();
    b.End();
    const std::vector<std::byte> blob = b.Build();  // outlives the Fdt
    const Result<Fdt> fdt = Fdt::Create(blob);
    ASSERT_TRUE(fdt.ok());
    EXPECT_EQ(ErrorOf(fdt->root().SizeCells()), Error::kInvalidArgs);
    EXPECT_EQ(ErrorOf(fdt->FindNode("/a")->Reg()), Error::kInvalidArgs);
    EXPECT_EQ(ErrorOf(fdt->FindNode("/zero/b")->Reg()), Error::kInvalidArgs);
  }
}

}  // namespace
}  // namespace fdt
}  // namespace hv
