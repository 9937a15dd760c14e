// One MMIO access per function, each with exactly the instruction form its
// name says (no compiler choice), for the MMIO guest:
//
//   uint64_t mmio_<load>(uint64_t addr)            lb lbu lh lhu lw lwu ld
//   void     mmio_<store>(uint64_t addr, uint64_t)  sb sh sw sd
//   uint64_t mmio_c_lw / c_ld (addr)               c.lw c.ld (x8..x15)
//   void     mmio_c_sw / c_sd (addr, value)
//   uint64_t mmio_c_lwsp / c_ldsp (addr)           sp-relative: sp = addr
//   void     mmio_c_swsp / c_sdsp (addr, value)    for one instruction
//   int      mmio_try_lw(addr, uint64_t* out)      0, or 1 if the load
//   int      mmio_try_sw(addr, value)              faulted (exception table)
//
// The sp-relative forms borrow sp for one instruction; the guest runs with
// interrupts off, so nothing uses the stack meanwhile.
#include <arch/extable_asm.h>

    .text
    .option push
    .option norvc

.macro LOAD name, insn
    .globl mmio_\name
    .balign 4
mmio_\name:
    \insn a0, 0(a0)
    ret
.endm

.macro STORE name, insn
    .globl mmio_\name
    .balign 4
mmio_\name:
    \insn a1, 0(a0)
    ret
.endm

    LOAD lb, lb
    LOAD lbu, lbu
    LOAD lh, lh
    LOAD lhu, lhu
    LOAD lw, lw
    LOAD lwu, lwu
    LOAD ld, ld
    STORE sb, sb
    STORE sh, sh
    STORE sw, sw
    STORE sd, sd

    .globl mmio_try_lw
    .balign 4
mmio_try_lw:
1:  lw t0, 0(a0)
    sd t0, 0(a1)
    li a0, 0
    ret
2:  li a0, 1
    ret
    HV_EXTABLE 1b, 2b

    .globl mmio_try_sw
    .balign 4
mmio_try_sw:
3:  sw a1, 0(a0)
    li a0, 0
    ret
4:  li a0, 1
    ret
    HV_EXTABLE 3b, 4b

    .option rvc

    .globl mmio_c_lw
    .balign 4
mmio_c_lw:
    c.lw a0, 0(a0)
    ret

    .globl mmio_c_ld
    .balign 4
mmio_c_ld:
    c.ld a0, 0(a0)
    ret

    .globl mmio_c_sw
    .balign 4
mmio_c_sw:
    c.sw a1, 0(a0)
    ret

    .globl mmio_c_sd
    .balign 4
mmio_c_sd:
    c.sd a1, 0(a0)
    ret

    .globl mmio_c_lwsp
    .balign 4
mmio_c_lwsp:
    mv t0, sp
    mv sp, a0
    c.lwsp a0, 0(sp)
    mv sp, t0
    ret

    .globl mmio_c_ldsp
    .balign 4
mmio_c_ldsp:
    mv t0, sp
    mv sp, a0
    c.ldsp a0, 0(sp)
    mv sp, t0
    ret

    .globl mmio_c_swsp
    .balign 4
mmio_c_swsp:
    mv t0, sp
    mv sp, a0
    c.swsp a1, 0(sp)
    mv sp, t0
    ret

    .globl mmio_c_sdsp
    .balign 4
mmio_c_sdsp:
    mv t0, sp
    mv sp, a0
    c.sdsp a1, 0(sp)
    mv sp, t0
    ret

    .option pop
    .section .note.GNU-stack, "", @progbits
