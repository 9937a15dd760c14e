#include <arch/extable.h>
#include <gtest/gtest.h>

#include <array>

namespace hv::arch {
namespace {

// Stand-ins for code addresses, and room for test tables next to them, so
// that the offsets stay far inside the 32-bit range of an entry's fields.
char g_code[256];
std::array<ExTableEntry, 3> g_table;

uintptr_t CodeAt(size_t offset) {
  // SAFETY: an address as an integer, never dereferenced.
  return reinterpret_cast<uintptr_t>(&g_code[offset]);
}

// Makes `entry` cover `from` and resume at `to`, as HV_EXTABLE does.
void Fill(ExTableEntry& entry, uintptr_t from, uintptr_t to,
          uint32_t type = static_cast<uint32_t>(ExType::kFixup)) {
  // SAFETY: field addresses as integers, never dereferenced.
  entry.from = static_cast<int32_t>(from - reinterpret_cast<uintptr_t>(&entry.from));
  entry.to = static_cast<int32_t>(to - reinterpret_cast<uintptr_t>(&entry.to));
  entry.type = type;
}

TEST(ExTable, FieldsAreOffsetsFromThemselves) {
  ExTableEntry& entry = g_table[0];
  Fill(entry, CodeAt(10), CodeAt(200));
  EXPECT_EQ(entry.from_address(), CodeAt(10));
  EXPECT_EQ(entry.to_address(), CodeAt(200));
  // Moving an entry changes what it points at: the offsets are relative.
  ExTableEntry copy = entry;
  EXPECT_NE(copy.from_address(), CodeAt(10));
}

TEST(ExTable, FindsTheEntryForEachFaultingPc) {
  std::span<ExTableEntry> table(g_table);
  Fill(table[0], CodeAt(40), CodeAt(100));
  Fill(table[1], CodeAt(8), CodeAt(120));  // unsorted on purpose
  Fill(table[2], CodeAt(44), CodeAt(100));
  EXPECT_EQ(SearchExTable(table, CodeAt(40)), CodeAt(100));
  EXPECT_EQ(SearchExTable(table, CodeAt(8)), CodeAt(120));
  EXPECT_EQ(SearchExTable(table, CodeAt(44)), CodeAt(100));
}

TEST(ExTable, OnlyExactPcsMatch) {
  std::span<ExTableEntry> table(g_table.data(), 2);
  Fill(table[0], CodeAt(40), CodeAt(100));
  Fill(table[1], CodeAt(44), CodeAt(100));
  for (size_t offset : {0, 39, 41, 42, 43, 45, 100, 255}) {
    EXPECT_EQ(SearchExTable(table, CodeAt(offset)), std::nullopt) << "offset " << offset;
  }
  EXPECT_EQ(SearchExTable({}, CodeAt(40)), std::nullopt);
}

TEST(ExTable, EntriesOfUnknownTypeAreNotFixedUp) {
  std::span<ExTableEntry> table(g_table.data(), 1);
  Fill(table[0], CodeAt(40), CodeAt(100), /*type=*/7);
  EXPECT_EQ(SearchExTable(table, CodeAt(40)), std::nullopt);
}

}  // namespace
}  // namespace hv::arch
