// The exception-table format as the assembler sees it. Included by the
// fallible primitives' .S files on every architecture (and by extable.h for
// the constants), so both architectures emit one identical layout:
//
//   struct { int32_t from; int32_t to; uint32_t type; }   (12 bytes, align 4)
//
// `from` is the address of an instruction that may fault and `to` the
// address execution resumes at, each stored as an offset from the field
// itself (as Linux does), so the table needs no relocation and works in
// position-independent executables. Entries go to the section `hv_ex_table`:
// its name has no leading dot, so GNU ld defines __start_hv_ex_table and
// __stop_hv_ex_table in Linux builds, and the kernel linker scripts define
// the same two symbols.
#ifndef ARCH_EXTABLE_ASM_H_
#define ARCH_EXTABLE_ASM_H_

// Entry types. A fixup entry sends a faulting `from` to `to` with every
// register as it was at the fault.
#define HV_EX_TYPE_FIXUP 1

#define HV_EX_ENTRY_SIZE 12

#ifdef __ASSEMBLER__
// clang-format off
// HV_EXTABLE from, to[, type]: `from` may fault; on a fault, resume at `to`.
.macro HV_EXTABLE from:req, to:req, type=HV_EX_TYPE_FIXUP
    .pushsection hv_ex_table, "a"
    .balign 4
    .long (\from) - .
    .long (\to) - .
    .long \type
    .popsection
.endm
// clang-format on
#endif  // __ASSEMBLER__

#endif  // ARCH_EXTABLE_ASM_H_
