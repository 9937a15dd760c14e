// hv_memcpy_fallible, hv_memset_fallible and the single-access
// hv_load_once_fallible_N/hv_store_once_fallible_N for x86_64 (contract in
// arch/include/arch/fallible.h). The same code serves kernel images and
// Linux processes; every instruction that may fault has an HV_EXTABLE entry.
//
// Paths. Kernel images (HV_KERNEL, built -mgeneral-regs-only, no vector
// state saved) use general-purpose registers only: bytes below 8, 8-byte
// words below 32, 32-byte blocks below REP_THRESHOLD, `rep movsb`/`rep
// stosb` from there. Linux processes also have vector paths (SSE2, AVX2,
// AVX-512), picked at run time by hv_x86_fallible_isa (set once at startup
// from cpuid/xgetbv by fallible_isa.cc; SSE2 until then, which every x86_64
// CPU has); below each ISA's minimum length they take the general path.
//
// Exactness: a fault in a multi-byte access (an 8-byte move, a 32-byte
// block, a vector, or `rep movsb`/`rep stosb`, which leaves rsi/rdi/rcx at
// the iteration it stopped at) resumes in the byte loop at the start of what
// was not yet done, and that loop faults again at the exact first bad byte,
// whose fixup returns rcx. A faulting x86 store writes nothing, even when it
// straddles two pages, so nothing at or beyond the faulting byte is ever
// written; re-copying bytes of an interrupted block rewrites the values they
// already hold. Vector paths keep that invariant: rsi/rdi/rcx advance only
// after a whole block is stored, each block loads everything before its
// first store, and stores go in increasing address order (overlapping
// stores only rewrite bytes already done).
//
// SysV ABI: rdi = dst, rsi = src (or value), rdx = len; returns rax = bytes
// not done. Only caller-saved registers are used; DF is clear on entry.
// Every exit of an AVX path, the fault exits included, runs vzeroupper.
#include <arch/extable_asm.h>

// At and above this length `rep movsb`/`rep stosb` (fast with ERMS/FSRM)
// beats the register loop; below it, its start-up cost dominates. See
// docs/performance.md ("mm: fallible copy").
#define REP_THRESHOLD 1024

#if !defined(HV_KERNEL)
// Values of hv_x86_fallible_isa (FallibleIsa in <arch/x86_64/fallible_isa.h>).
#define ISA_GENERAL_REGS 0
#define ISA_SSE2 1
#define ISA_AVX2 2
#define ISA_AVX512 3

// Lengths from which each ISA's vector path is taken (below: the general
// path), and from which a vector path copies with `rep movsb` when source and
// destination are co-aligned (same address mod 64) or fills with
// `rep stosb`. Figures per ISA: docs/performance.md.
#define SSE2_MIN 64
#define AVX2_MIN 64
#define AVX512_MIN 64
#define VEC_MIN 64
#define VEC_REP_MOVSB_THRESHOLD 4096
#define VEC_REP_STOSB_THRESHOLD 4096

// EX fixup, instruction: the instruction may fault; a fault resumes at fixup.
// clang-format off
.macro EX fixup:req, insn:vararg
99: \insn
    HV_EXTABLE 99b, \fixup
.endm
// clang-format on
#endif  // !HV_KERNEL

#if !defined(HV_KERNEL)
// VEC_COPY isa, v, mov, fixup, avx, r0..r7: the vector copy of one ISA with
// v-byte registers r0..r7 moved by `mov`; faults resume at `fixup`. Entered
// with rcx = len >= VEC_MIN (>= v). Long copies (over 8 vectors) come first
// and run straight into the loop: one vector is stored, then 4-vector
// blocks with an aligned destination, and the last 4 vectors (which may
// overlap what is done). Co-aligned copies from VEC_REP_MOVSB_THRESHOLD use
// `rep movsb` instead. Up to 8 vectors: loaded from both ends, then stored
// in order.
// clang-format off
.macro VEC_COPY isa, v, mov, fixup, avx, r0, r1, r2, r3, r4, r5, r6, r7
    cmp $8*\v, %rcx
    jbe .Lcopy_\isa\()_short
    cmp $VEC_REP_MOVSB_THRESHOLD, %rcx
    jae .Lcopy_\isa\()_maybe_rep
.Lcopy_\isa\()_vec:
    EX \fixup, \mov (%rsi), \r0
    EX \fixup, \mov \r0, (%rdi)
    // Advance by 1..v bytes so that rdi is aligned to v.
    mov %edi, %eax
    and $\v-1, %eax
    mov $\v, %edx
    sub %rax, %rdx
    add %rdx, %rsi
    add %rdx, %rdi
    sub %rdx, %rcx
    .p2align 5
.Lcopy_\isa\()_loop:
    EX \fixup, \mov (%rsi), \r0
    EX \fixup, \mov \v(%rsi), \r1
    EX \fixup, \mov 2*\v(%rsi), \r2
    EX \fixup, \mov 3*\v(%rsi), \r3
    EX \fixup, \mov \r0, (%rdi)
    EX \fixup, \mov \r1, \v(%rdi)
    EX \fixup, \mov \r2, 2*\v(%rdi)
    EX \fixup, \mov \r3, 3*\v(%rdi)
    add $4*\v, %rsi
    add $4*\v, %rdi
    sub $4*\v, %rcx
    cmp $4*\v, %rcx
    ja .Lcopy_\isa\()_loop
    // 1..4v bytes left, after more than 4v done.
    EX \fixup, \mov -4*\v(%rsi,%rcx), \r0
    EX \fixup, \mov -3*\v(%rsi,%rcx), \r1
    EX \fixup, \mov -2*\v(%rsi,%rcx), \r2
    EX \fixup, \mov -\v(%rsi,%rcx), \r3
    EX \fixup, \mov \r0, -4*\v(%rdi,%rcx)
    EX \fixup, \mov \r1, -3*\v(%rdi,%rcx)
    EX \fixup, \mov \r2, -2*\v(%rdi,%rcx)
    EX \fixup, \mov \r3, -\v(%rdi,%rcx)
.Lcopy_\isa\()_done:
.if \avx
    vzeroupper
.endif
    xor %eax, %eax
    ret
.Lcopy_\isa\()_maybe_rep:
    // Co-aligned: rep movsb, before any vector register is used.
    mov %edi, %eax
    sub %esi, %eax
    test $63, %eax
    jz .Lcopy_rep
    jmp .Lcopy_\isa\()_vec
.Lcopy_\isa\()_short:
    cmp $2*\v, %rcx
    ja .Lcopy_\isa\()_over2
    EX \fixup, \mov (%rsi), \r0
    EX \fixup, \mov -\v(%rsi,%rcx), \r1
    EX \fixup, \mov \r0, (%rdi)
    EX \fixup, \mov \r1, -\v(%rdi,%rcx)
    jmp .Lcopy_\isa\()_done
.Lcopy_\isa\()_over2:
    cmp $4*\v, %rcx
    ja .Lcopy_\isa\()_over4
    EX \fixup, \mov (%rsi), \r0
    EX \fixup, \mov \v(%rsi), \r1
    EX \fixup, \mov -2*\v(%rsi,%rcx), \r2
    EX \fixup, \mov -\v(%rsi,%rcx), \r3
    EX \fixup, \mov \r0, (%rdi)
    EX \fixup, \mov \r1, \v(%rdi)
    EX \fixup, \mov \r2, -2*\v(%rdi,%rcx)
    EX \fixup, \mov \r3, -\v(%rdi,%rcx)
    jmp .Lcopy_\isa\()_done
.Lcopy_\isa\()_over4:
    EX \fixup, \mov (%rsi), \r0
    EX \fixup, \mov \v(%rsi), \r1
    EX \fixup, \mov 2*\v(%rsi), \r2
    EX \fixup, \mov 3*\v(%rsi), \r3
    EX \fixup, \mov -4*\v(%rsi,%rcx), \r4
    EX \fixup, \mov -3*\v(%rsi,%rcx), \r5
    EX \fixup, \mov -2*\v(%rsi,%rcx), \r6
    EX \fixup, \mov -\v(%rsi,%rcx), \r7
    EX \fixup, \mov \r0, (%rdi)
    EX \fixup, \mov \r1, \v(%rdi)
    EX \fixup, \mov \r2, 2*\v(%rdi)
    EX \fixup, \mov \r3, 3*\v(%rdi)
    EX \fixup, \mov \r4, -4*\v(%rdi,%rcx)
    EX \fixup, \mov \r5, -3*\v(%rdi,%rcx)
    EX \fixup, \mov \r6, -2*\v(%rdi,%rcx)
    EX \fixup, \mov \r7, -\v(%rdi,%rcx)
    jmp .Lcopy_\isa\()_done
.endm
// clang-format on

#endif  // !HV_KERNEL

    .text

    .globl hv_memcpy_fallible
    .type hv_memcpy_fallible, @function
    .balign 16
hv_memcpy_fallible:
    mov %rdx, %rcx
#if !defined(HV_KERNEL)
    // Copies of VEC_MIN bytes and more take the ISA's vector path. The
    // AVX-512 one follows straight on, and within it the long copies, so a
    // long copy runs into its loop without a taken branch (whose bubbles
    // showed as up to 15% on 2 KiB copies, depending on where the code
    // landed): docs/performance.md ("mm: fallible copy").
    cmp $VEC_MIN, %rdx
    jb .Lcopy_general
    movzbl hv_x86_fallible_isa(%rip), %eax
    cmp $ISA_AVX512, %eax
    jne .Lcopy_not_avx512
    VEC_COPY avx512, 64, vmovdqu64, .Lcopy_avx_fault, 1, \
        %zmm0, %zmm1, %zmm2, %zmm3, %zmm4, %zmm5, %zmm6, %zmm7
.Lcopy_not_avx512:
    cmp $ISA_AVX2, %eax
    je .Lcopy_avx2
    cmp $ISA_SSE2, %eax
    je .Lcopy_sse2
.Lcopy_general:
#endif
    cmp $REP_THRESHOLD, %rcx
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

#if !defined(HV_KERNEL)

.Lcopy_sse2:
    VEC_COPY sse2, 16, movdqu, .Lcopy_bytes, 0, \
        %xmm0, %xmm1, %xmm2, %xmm3, %xmm4, %xmm5, %xmm6, %xmm7
.Lcopy_avx2:
    VEC_COPY avx2, 32, vmovdqu, .Lcopy_avx_fault, 1, \
        %ymm0, %ymm1, %ymm2, %ymm3, %ymm4, %ymm5, %ymm6, %ymm7

    // A fault in an AVX path: clean the upper state, then retry bytewise.
.Lcopy_avx_fault:
    vzeroupper
    jmp .Lcopy_bytes
#endif  // !HV_KERNEL
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
#if !defined(HV_KERNEL)
    cmp $VEC_MIN, %rdx
    jae .Lset_dispatch
.Lset_general:
#endif
    // rcx, not rdx: the vector dispatch uses rdx.
    cmp $REP_THRESHOLD, %rcx
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

#if !defined(HV_KERNEL)
.Lset_dispatch:
    movzbl hv_x86_fallible_isa(%rip), %edx
    cmp $ISA_AVX2, %edx
    ja .Lset_avx512
    je .Lset_avx2
    cmp $ISA_SSE2, %edx
    je .Lset_sse2
    jmp .Lset_general

// VEC_SET isa, v, mov, fixup, avx, r: the body of the vector fill of one
// ISA, entered with r holding the byte in every lane (and len >= v); stored
// by `mov`, faults resume at `fixup`. Same shape as VEC_COPY; rax keeps the
// 8-lane value for the byte loop.
// clang-format off
.macro VEC_SET isa, v, mov, fixup, avx, r
.Lset_\isa\()_body:
    cmp $2*\v, %rcx
    ja .Lset_\isa\()_over2
    EX \fixup, \mov \r, (%rdi)
    EX \fixup, \mov \r, -\v(%rdi,%rcx)
    jmp .Lset_\isa\()_done
.Lset_\isa\()_over2:
    cmp $4*\v, %rcx
    ja .Lset_\isa\()_over4
    EX \fixup, \mov \r, (%rdi)
    EX \fixup, \mov \r, \v(%rdi)
    EX \fixup, \mov \r, -2*\v(%rdi,%rcx)
    EX \fixup, \mov \r, -\v(%rdi,%rcx)
    jmp .Lset_\isa\()_done
.Lset_\isa\()_over4:
    cmp $8*\v, %rcx
    ja .Lset_\isa\()_long
    EX \fixup, \mov \r, (%rdi)
    EX \fixup, \mov \r, \v(%rdi)
    EX \fixup, \mov \r, 2*\v(%rdi)
    EX \fixup, \mov \r, 3*\v(%rdi)
    EX \fixup, \mov \r, -4*\v(%rdi,%rcx)
    EX \fixup, \mov \r, -3*\v(%rdi,%rcx)
    EX \fixup, \mov \r, -2*\v(%rdi,%rcx)
    EX \fixup, \mov \r, -\v(%rdi,%rcx)
    jmp .Lset_\isa\()_done
.Lset_\isa\()_long:
    EX \fixup, \mov \r, (%rdi)
    mov %edi, %edx
    and $\v-1, %edx
    mov $\v, %r8d
    sub %rdx, %r8
    add %r8, %rdi
    sub %r8, %rcx
.Lset_\isa\()_loop:
    EX \fixup, \mov \r, (%rdi)
    EX \fixup, \mov \r, \v(%rdi)
    EX \fixup, \mov \r, 2*\v(%rdi)
    EX \fixup, \mov \r, 3*\v(%rdi)
    add $4*\v, %rdi
    sub $4*\v, %rcx
    cmp $4*\v, %rcx
    ja .Lset_\isa\()_loop
    EX \fixup, \mov \r, -4*\v(%rdi,%rcx)
    EX \fixup, \mov \r, -3*\v(%rdi,%rcx)
    EX \fixup, \mov \r, -2*\v(%rdi,%rcx)
    EX \fixup, \mov \r, -\v(%rdi,%rcx)
.Lset_\isa\()_done:
.if \avx
    vzeroupper
.endif
    xor %eax, %eax
    ret
.endm
// clang-format on

.Lset_sse2:
    cmp $SSE2_MIN, %rcx
    jb .Lset_general
    cmp $VEC_REP_STOSB_THRESHOLD, %rcx
    jae .Lset_rep
    movq %rax, %xmm0
    punpcklqdq %xmm0, %xmm0
    VEC_SET sse2, 16, movdqu, .Lset_bytes, 0, %xmm0

.Lset_avx2:
    cmp $AVX2_MIN, %rcx
    jb .Lset_general
    cmp $VEC_REP_STOSB_THRESHOLD, %rcx
    jae .Lset_rep
    vmovq %rax, %xmm0
    vpbroadcastq %xmm0, %ymm0
    VEC_SET avx2, 32, vmovdqu, .Lset_avx_fault, 1, %ymm0

.Lset_avx512:
    cmp $AVX512_MIN, %rcx
    jb .Lset_general
    cmp $VEC_REP_STOSB_THRESHOLD, %rcx
    jae .Lset_rep
    vpbroadcastq %rax, %zmm0
    VEC_SET avx512, 64, vmovdqu64, .Lset_avx_fault, 1, %zmm0

.Lset_avx_fault:
    vzeroupper
    jmp .Lset_bytes
#endif  // !HV_KERNEL
    .size hv_memset_fallible, . - hv_memset_fallible

    HV_EXTABLE .Lset_block_store0, .Lset_bytes
    HV_EXTABLE .Lset_block_store1, .Lset_bytes
    HV_EXTABLE .Lset_block_store2, .Lset_bytes
    HV_EXTABLE .Lset_block_store3, .Lset_bytes
    HV_EXTABLE .Lset_word_store, .Lset_bytes
    HV_EXTABLE .Lset_tail_store, .Lset_bytes
    HV_EXTABLE .Lset_rep_stos, .Lset_bytes
    HV_EXTABLE .Lset_byte_store, .Lset_fault

#if !defined(HV_KERNEL)
// uint8_t hv_x86_fallible_isa: which paths the two functions above take
// (ISA_*). SSE2 until fallible_isa.cc picks the best the CPU and OS support.
    .data
    .globl hv_x86_fallible_isa
    .hidden hv_x86_fallible_isa
    .type hv_x86_fallible_isa, @object
hv_x86_fallible_isa:
    .byte ISA_SSE2
    .size hv_x86_fallible_isa, 1
    .text
#endif  // !HV_KERNEL

// struct hv_load_once_result hv_load_once_fallible_N(const void* src)
// int hv_store_once_fallible_N(void* dst, uint64_t value)
// One naturally aligned access of N bytes with one instruction, which never
// tears (the size-dispatching hv_load/store_once_fallible of the header are
// built on these). The load returns the
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

    // Where every faulting single store resumes: nothing was stored.
    .type hv_store_once_fault, @function
hv_store_once_fault:
.Lonce_fault:
    mov $1, %eax
    ret
    .size hv_store_once_fault, . - hv_store_once_fault

    .section .note.GNU-stack, "", @progbits
