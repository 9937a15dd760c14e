// hv_memcpy_fallible, hv_memset_fallible and the single-access
// hv_load_once_fallible_N/hv_store_once_fallible_N for riscv64 (contract in
// arch/include/arch/fallible.h). The same code serves kernel images and
// Linux processes; every instruction that may fault has an HV_EXTABLE entry.
//
// Every load and store is naturally aligned: bytes up to an 8-byte boundary
// of the destination, then 8-byte words, then the remaining bytes. Aligned
// accesses never straddle two pages, so a store either writes its whole word
// or nothing, and no access depends on misaligned-access emulation (which
// OpenSBI does by trapping, slowly). When source and destination are
// mutually misaligned, the source is read in aligned words and each
// destination word is merged from two of them by shifts; the first load may
// read a few bytes before the source and the last a few after it, but always
// within an aligned word that holds a byte of the source, hence in a page
// the copy has to read anyway.
//
// Exactness: a faulting word access resumes in the byte loop at the start of
// that word, which faults again at the exact first bad byte, whose fixup
// returns the bytes left.
//
// In kernel images (HV_KERNEL) sstatus.SUM is set for the duration of the
// access, so that lower-half (user/guest window) pages are accessible, and
// cleared on both the normal and the fault exits; Linux builds touch no CSR.
//
// a0 = dst, a1 = src (or value), a2 = len; returns a0 = bytes not done.
// Only caller-saved registers are used.
#include <arch/extable_asm.h>

#ifdef HV_KERNEL
#define SSTATUS_SUM (1 << 18)
.macro user_access_begin
    li t6, SSTATUS_SUM
    csrs sstatus, t6
.endm
.macro user_access_end
    li t6, SSTATUS_SUM
    csrc sstatus, t6
.endm
#else
.macro user_access_begin
.endm
.macro user_access_end
.endm
#endif

    .text

    .globl hv_memcpy_fallible
    .type hv_memcpy_fallible, @function
    .balign 4
hv_memcpy_fallible:
    user_access_begin
    li t0, 8
    bltu a2, t0, .Lcopy_bytes
    // Bytes until dst is aligned (len >= 8, so at least one byte remains).
    andi t1, a0, 7
    beqz t1, .Lcopy_dst_aligned
.Lcopy_head_load:
    lbu t2, 0(a1)
.Lcopy_head_store:
    sb t2, 0(a0)
    addi a0, a0, 1
    addi a1, a1, 1
    addi a2, a2, -1
    andi t1, a0, 7
    bnez t1, .Lcopy_head_load
.Lcopy_dst_aligned:
    bltu a2, t0, .Lcopy_bytes
    andi t1, a1, 7
    bnez t1, .Lcopy_shifted
.Lcopy_words:
.Lcopy_word_load:
    ld t2, 0(a1)
.Lcopy_word_store:
    sd t2, 0(a0)
    addi a0, a0, 8
    addi a1, a1, 8
    addi a2, a2, -8
    bgeu a2, t0, .Lcopy_words
    j .Lcopy_bytes

    // src = t5 + t1 with t5 aligned and t1 in 1..7: destination word i is
    // (word i of t5 >> 8*t1) | (word i+1 of t5 << (64 - 8*t1)).
.Lcopy_shifted:
    slli t3, t1, 3
    neg t4, t3                      // shifts use the low six bits: 64 - 8*t1
    andi t5, a1, -8
.Lcopy_shifted_first_load:
    ld a3, 0(t5)
.Lcopy_shifted_loop:
.Lcopy_shifted_load:
    ld a4, 8(t5)
    srl a5, a3, t3
    sll a6, a4, t4
    or a5, a5, a6
.Lcopy_shifted_store:
    sd a5, 0(a0)
    mv a3, a4
    addi t5, t5, 8
    addi a0, a0, 8
    addi a1, a1, 8
    addi a2, a2, -8
    bgeu a2, t0, .Lcopy_shifted_loop

    // Bytewise: short copies, the tail, and the retry after a word fault.
.Lcopy_bytes:
    beqz a2, .Lcopy_done
.Lcopy_byte_load:
    lbu t2, 0(a1)
.Lcopy_byte_store:
    sb t2, 0(a0)
    addi a0, a0, 1
    addi a1, a1, 1
    addi a2, a2, -1
    bnez a2, .Lcopy_byte_load
.Lcopy_done:
    user_access_end
    li a0, 0
    ret

.Lcopy_fault:
    user_access_end
    mv a0, a2
    ret
    .size hv_memcpy_fallible, . - hv_memcpy_fallible

    HV_EXTABLE .Lcopy_head_load, .Lcopy_fault
    HV_EXTABLE .Lcopy_head_store, .Lcopy_fault
    HV_EXTABLE .Lcopy_word_load, .Lcopy_bytes
    HV_EXTABLE .Lcopy_word_store, .Lcopy_bytes
    HV_EXTABLE .Lcopy_shifted_first_load, .Lcopy_bytes
    HV_EXTABLE .Lcopy_shifted_load, .Lcopy_bytes
    HV_EXTABLE .Lcopy_shifted_store, .Lcopy_bytes
    HV_EXTABLE .Lcopy_byte_load, .Lcopy_fault
    HV_EXTABLE .Lcopy_byte_store, .Lcopy_fault

    .globl hv_memset_fallible
    .type hv_memset_fallible, @function
    .balign 4
hv_memset_fallible:
    user_access_begin
    andi a1, a1, 0xff
    li t0, 8
    bltu a2, t0, .Lset_bytes
    andi t1, a0, 7
    beqz t1, .Lset_dst_aligned
.Lset_head_store:
    sb a1, 0(a0)
    addi a0, a0, 1
    addi a2, a2, -1
    andi t1, a0, 7
    bnez t1, .Lset_head_store
.Lset_dst_aligned:
    bltu a2, t0, .Lset_bytes
    li t1, 0x0101010101010101
    mul t2, a1, t1                  // the byte in all eight lanes
.Lset_words:
.Lset_word_store:
    sd t2, 0(a0)
    addi a0, a0, 8
    addi a2, a2, -8
    bgeu a2, t0, .Lset_words

.Lset_bytes:
    beqz a2, .Lset_done
.Lset_byte_store:
    sb a1, 0(a0)
    addi a0, a0, 1
    addi a2, a2, -1
    bnez a2, .Lset_byte_store
.Lset_done:
    user_access_end
    li a0, 0
    ret

.Lset_fault:
    user_access_end
    mv a0, a2
    ret
    .size hv_memset_fallible, . - hv_memset_fallible

    HV_EXTABLE .Lset_head_store, .Lset_fault
    HV_EXTABLE .Lset_word_store, .Lset_bytes
    HV_EXTABLE .Lset_byte_store, .Lset_fault

// struct hv_load_once_result hv_load_once_fallible_N(const void* src)
// int hv_store_once_fallible_N(void* dst, uint64_t value)
// One naturally aligned access of N bytes with one instruction, which never
// tears (the size-dispatching hv_load/store_once_fallible of the header are
// built on these). The load returns the
// zero-extended value in a0 with a1 = 0, or a0 = 0 and a1 = 1 if the access
// faulted. The store returns 0, or 1 if it faulted.
// clang-format off
.macro LOAD_ONCE n, insn
    .globl hv_load_once_fallible_\n
    .type hv_load_once_fallible_\n, @function
    .balign 4
hv_load_once_fallible_\n:
    user_access_begin
.Lload_once_\n:
    \insn a0, 0(a0)
    user_access_end
    li a1, 0
    ret
.Lload_once_\n\()_fault:
    user_access_end
    li a0, 0
    li a1, 1
    ret
    .size hv_load_once_fallible_\n, . - hv_load_once_fallible_\n
    HV_EXTABLE .Lload_once_\n, .Lload_once_\n\()_fault
.endm

.macro STORE_ONCE n, insn
    .globl hv_store_once_fallible_\n
    .type hv_store_once_fallible_\n, @function
    .balign 4
hv_store_once_fallible_\n:
    user_access_begin
.Lstore_once_\n:
    \insn a1, 0(a0)
    user_access_end
    li a0, 0
    ret
.Lstore_once_\n\()_fault:
    user_access_end
    li a0, 1
    ret
    .size hv_store_once_fallible_\n, . - hv_store_once_fallible_\n
    HV_EXTABLE .Lstore_once_\n, .Lstore_once_\n\()_fault
.endm
// clang-format on

    LOAD_ONCE 1, lbu
    LOAD_ONCE 2, lhu
    LOAD_ONCE 4, lwu
    LOAD_ONCE 8, ld
    STORE_ONCE 1, sb
    STORE_ONCE 2, sh
    STORE_ONCE 4, sw
    STORE_ONCE 8, sd

    .section .note.GNU-stack, "", @progbits
