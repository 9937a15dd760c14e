// hv_memcpy_fallible, hv_memset_fallible and the single-access
// hv_load_once_fallible/hv_store_once_fallible for x86_64 (contract in
// arch/include/arch/fallible.h). The same code serves kernel images and
// Linux processes; every instruction that may fault has an HV_EXTABLE entry.
//
// Exactness: a fault in a multi-byte access (an 8-byte move, a 32-byte
// block, or `rep movsb`/`rep stosb`, which leaves rsi/rdi/rcx at the
// iteration it stopped at) resumes in the byte loop at the start of what was
// not yet done, and that loop faults again at the exact first bad byte,
// whose fixup returns rcx. A faulting x86 store writes nothing, even when it
// straddles two pages, so nothing at or beyond the faulting byte is ever
// written; re-copying bytes of an interrupted block rewrites the values they
// already hold.
//
// SysV ABI: rdi = dst, rsi = src (or value), rdx = len; returns rax = bytes
// not done. Only caller-saved registers are used; DF is clear on entry.
#include <arch/extable_asm.h>

// At and above this length `rep movsb`/`rep stosb` (fast with ERMS/FSRM)
// beats the register loop; below it, its start-up cost dominates. See
// docs/performance.md ("mm: fallible copy").
#define REP_THRESHOLD 1024

    .text

    .globl hv_memcpy_fallible
    .type hv_memcpy_fallible, @function
    .balign 16
hv_memcpy_fallible:
    mov %rdx, %rcx
    cmp $REP_THRESHOLD, %rdx
    jae .Lcopy_rep
    cmp $8, %rcx
    jb .Lcopy_bytes
    cmp $32, %rcx
    jb .Lcopy_words
    // 32-byte blocks: four loads, then four stores.
.Lcopy_blocks:
.Lcopy_block_load0:
    mov (%rsi), %rax
.Lcopy_block_load1:
    mov 8(%rsi), %r8
.Lcopy_block_load2:
    mov 16(%rsi), %r9
.Lcopy_block_load3:
    mov 24(%rsi), %r10
.Lcopy_block_store0:
    mov %rax, (%rdi)
.Lcopy_block_store1:
    mov %r8, 8(%rdi)
.Lcopy_block_store2:
    mov %r9, 16(%rdi)
.Lcopy_block_store3:
    mov %r10, 24(%rdi)
    add $32, %rsi
    add $32, %rdi
    sub $32, %rcx
    cmp $32, %rcx
    jae .Lcopy_blocks
    cmp $8, %rcx
    jb .Lcopy_tail
.Lcopy_words:
.Lcopy_word_load:
    mov (%rsi), %rax
.Lcopy_word_store:
    mov %rax, (%rdi)
    add $8, %rsi
    add $8, %rdi
    sub $8, %rcx
    cmp $8, %rcx
    jae .Lcopy_words
    // 0..7 bytes left after at least 8 copied: one 8-byte move that ends at
    // the end covers them (and rewrites a few bytes already copied).
.Lcopy_tail:
    test %rcx, %rcx
    jz .Lcopy_done
.Lcopy_tail_load:
    mov -8(%rsi,%rcx), %rax
.Lcopy_tail_store:
    mov %rax, -8(%rdi,%rcx)
.Lcopy_done:
    xor %eax, %eax
    ret

.Lcopy_rep:
.Lcopy_rep_movs:
    rep movsb
    xor %eax, %eax
    ret

    // Bytewise: short copies, and the retry after a multi-byte fault.
.Lcopy_bytes:
    test %rcx, %rcx
    jz .Lcopy_done
.Lcopy_byte_load:
    movzbl (%rsi), %eax
.Lcopy_byte_store:
    mov %al, (%rdi)
    inc %rsi
    inc %rdi
    dec %rcx
    jnz .Lcopy_byte_load
    xor %eax, %eax
    ret

.Lcopy_fault:
    mov %rcx, %rax
    ret
    .size hv_memcpy_fallible, . - hv_memcpy_fallible

    HV_EXTABLE .Lcopy_block_load0, .Lcopy_bytes
    HV_EXTABLE .Lcopy_block_load1, .Lcopy_bytes
    HV_EXTABLE .Lcopy_block_load2, .Lcopy_bytes
    HV_EXTABLE .Lcopy_block_load3, .Lcopy_bytes
    HV_EXTABLE .Lcopy_block_store0, .Lcopy_bytes
    HV_EXTABLE .Lcopy_block_store1, .Lcopy_bytes
    HV_EXTABLE .Lcopy_block_store2, .Lcopy_bytes
    HV_EXTABLE .Lcopy_block_store3, .Lcopy_bytes
    HV_EXTABLE .Lcopy_word_load, .Lcopy_bytes
    HV_EXTABLE .Lcopy_word_store, .Lcopy_bytes
    HV_EXTABLE .Lcopy_tail_load, .Lcopy_bytes
    HV_EXTABLE .Lcopy_tail_store, .Lcopy_bytes
    HV_EXTABLE .Lcopy_rep_movs, .Lcopy_bytes
    HV_EXTABLE .Lcopy_byte_load, .Lcopy_fault
    HV_EXTABLE .Lcopy_byte_store, .Lcopy_fault

    .globl hv_memset_fallible
    .type hv_memset_fallible, @function
    .balign 16
hv_memset_fallible:
    movzbl %sil, %eax
    movabs $0x0101010101010101, %r8
    imul %r8, %rax                  // the byte in all eight lanes
    mov %rdx, %rcx
    cmp $REP_THRESHOLD, %rdx
    jae .Lset_rep
    cmp $8, %rcx
    jb .Lset_bytes
    cmp $32, %rcx
    jb .Lset_words
.Lset_blocks:
.Lset_block_store0:
    mov %rax, (%rdi)
.Lset_block_store1:
    mov %rax, 8(%rdi)
.Lset_block_store2:
    mov %rax, 16(%rdi)
.Lset_block_store3:
    mov %rax, 24(%rdi)
    add $32, %rdi
    sub $32, %rcx
    cmp $32, %rcx
    jae .Lset_blocks
    cmp $8, %rcx
    jb .Lset_tail
.Lset_words:
.Lset_word_store:
    mov %rax, (%rdi)
    add $8, %rdi
    sub $8, %rcx
    cmp $8, %rcx
    jae .Lset_words
.Lset_tail:
    test %rcx, %rcx
    jz .Lset_done
.Lset_tail_store:
    mov %rax, -8(%rdi,%rcx)
.Lset_done:
    xor %eax, %eax
    ret

.Lset_rep:
.Lset_rep_stos:
    rep stosb
    xor %eax, %eax
    ret

.Lset_bytes:
    test %rcx, %rcx
    jz .Lset_done
.Lset_byte_store:
    mov %al, (%rdi)
    inc %rdi
    dec %rcx
    jnz .Lset_byte_store
    xor %eax, %eax
    ret

.Lset_fault:
    mov %rcx, %rax
    ret
    .size hv_memset_fallible, . - hv_memset_fallible

    HV_EXTABLE .Lset_block_store0, .Lset_bytes
    HV_EXTABLE .Lset_block_store1, .Lset_bytes
    HV_EXTABLE .Lset_block_store2, .Lset_bytes
    HV_EXTABLE .Lset_block_store3, .Lset_bytes
    HV_EXTABLE .Lset_word_store, .Lset_bytes
    HV_EXTABLE .Lset_tail_store, .Lset_bytes
    HV_EXTABLE .Lset_rep_stos, .Lset_bytes
    HV_EXTABLE .Lset_byte_store, .Lset_fault

// int hv_load_once_fallible(const void* src, size_t size, uint64_t* value)
// int hv_store_once_fallible(void* dst, size_t size, uint64_t value)
// One naturally aligned access of `size` bytes with one mov, which never
// tears. rdi = address, rsi = size, rdx = value pointer / value; returns 0,
// or 1 if the access faulted (nothing stored), or 2 for a size that is not
// 1, 2, 4 or 8.
    .globl hv_load_once_fallible
    .type hv_load_once_fallible, @function
    .balign 16
hv_load_once_fallible:
    cmp $8, %rsi
    je .Lload8
    cmp $4, %rsi
    je .Lload4
    cmp $2, %rsi
    je .Lload2
    cmp $1, %rsi
    jne .Lonce_bad_size
.Lload1:
    movzbl (%rdi), %eax
    jmp .Lload_done
.Lload2:
    movzwl (%rdi), %eax
    jmp .Lload_done
.Lload4:
    movl (%rdi), %eax
    jmp .Lload_done
.Lload8:
    movq (%rdi), %rax
.Lload_done:
    movq %rax, (%rdx)
    xor %eax, %eax
    ret
    .size hv_load_once_fallible, . - hv_load_once_fallible

    .globl hv_store_once_fallible
    .type hv_store_once_fallible, @function
    .balign 16
hv_store_once_fallible:
    cmp $8, %rsi
    je .Lstore8
    cmp $4, %rsi
    je .Lstore4
    cmp $2, %rsi
    je .Lstore2
    cmp $1, %rsi
    jne .Lonce_bad_size
.Lstore1:
    movb %dl, (%rdi)
    xor %eax, %eax
    ret
.Lstore2:
    movw %dx, (%rdi)
    xor %eax, %eax
    ret
.Lstore4:
    movl %edx, (%rdi)
    xor %eax, %eax
    ret
.Lstore8:
    movq %rdx, (%rdi)
    xor %eax, %eax
    ret

.Lonce_fault:
    mov $1, %eax
    ret
.Lonce_bad_size:
    mov $2, %eax
    ret
    .size hv_store_once_fallible, . - hv_store_once_fallible

    HV_EXTABLE .Lload1, .Lonce_fault
    HV_EXTABLE .Lload2, .Lonce_fault
    HV_EXTABLE .Lload4, .Lonce_fault
    HV_EXTABLE .Lload8, .Lonce_fault
    HV_EXTABLE .Lstore1, .Lonce_fault
    HV_EXTABLE .Lstore2, .Lonce_fault
    HV_EXTABLE .Lstore4, .Lonce_fault
    HV_EXTABLE .Lstore8, .Lonce_fault

// struct hv_load_once_result hv_load_once_fallible_N(const void* src)
// int hv_store_once_fallible_N(void* dst, uint64_t value)
// The same single accesses with the size N in the name, for callers that
// know it at compile time: no size dispatch, and the load returns the
// zero-extended value in rax with rdx = 0, or rax = 0 and rdx = 1 if the
// access faulted. The store returns 0, or 1 if it faulted.
// clang-format off
.macro LOAD_ONCE n, insn:vararg
    .globl hv_load_once_fallible_\n
    .type hv_load_once_fallible_\n, @function
    .balign 16
hv_load_once_fallible_\n:
    xor %edx, %edx
.Lload_once_\n:
    \insn
    ret
.Lload_once_\n\()_fault:
    xor %eax, %eax
    mov $1, %edx
    ret
    .size hv_load_once_fallible_\n, . - hv_load_once_fallible_\n
    HV_EXTABLE .Lload_once_\n, .Lload_once_\n\()_fault
.endm

.macro STORE_ONCE n, insn:vararg
    .globl hv_store_once_fallible_\n
    .type hv_store_once_fallible_\n, @function
    .balign 16
hv_store_once_fallible_\n:
    xor %eax, %eax
.Lstore_once_\n:
    \insn
    ret
    .size hv_store_once_fallible_\n, . - hv_store_once_fallible_\n
    HV_EXTABLE .Lstore_once_\n, .Lonce_fault
.endm
// clang-format on

    LOAD_ONCE 1, movzbl (%rdi), %eax
    LOAD_ONCE 2, movzwl (%rdi), %eax
    LOAD_ONCE 4, movl (%rdi), %eax
    LOAD_ONCE 8, movq (%rdi), %rax
    STORE_ONCE 1, movb %sil, (%rdi)
    STORE_ONCE 2, movw %si, (%rdi)
    STORE_ONCE 4, movl %esi, (%rdi)
    STORE_ONCE 8, movq %rsi, (%rdi)

    .section .note.GNU-stack, "", @progbits
