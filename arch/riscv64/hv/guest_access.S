// Fallible access to guest memory by guest-virtual address from HS-mode,
// with the hypervisor load/store instructions: HLV/HSV translate through
// the guest's vsatp (stage 1) and hgatp (stage 2) with the privilege in
// hstatus.SPVP, exactly as the guest's own access would; HLVX reads with
// execute permission (instruction fetch). Every such instruction is in the
// exception table, so a guest page fault (stage 1) or guest-page fault
// (stage 2) returns a short count instead of trapping the hypervisor.
//
//   size_t hv_guest_read(void* dst, uint64_t gva, size_t len)
//   size_t hv_guest_write(uint64_t gva, const void* src, size_t len)
//   size_t hv_guest_fetch(void* dst, uint64_t gva, size_t len)
//
// Each returns the bytes NOT done, exact to the byte (fetch: to the
// halfword; REQUIRES gva 2-byte aligned and len even). Reads and writes use
// 8-byte accesses where the guest address is aligned and fall back to bytes
// after a fault, like the fallible memcpy. REQUIRES: called right after a
// guest exit, with the guest's vsatp/hgatp/hstatus still loaded.
#include <arch/extable_asm.h>

    .option push
    .option arch, +h
    .text

    .globl hv_guest_read
    .type hv_guest_read, @function
    .balign 4
hv_guest_read:
    // a0 = dst (hypervisor memory), a1 = gva, a2 = len
1:  beqz a2, .Lread_done
    andi t0, a1, 7
    bnez t0, .Lread_byte
    li t0, 8
    bltu a2, t0, .Lread_byte
.Lread_word:
    hlv.d t1, (a1)
    sd t1, 0(a0)
    addi a0, a0, 8
    addi a1, a1, 8
    addi a2, a2, -8
    j 1b
.Lread_byte:
    hlv.bu t1, (a1)
    sb t1, 0(a0)
    addi a0, a0, 1
    addi a1, a1, 1
    addi a2, a2, -1
    j 1b
.Lread_done:
    li a0, 0
    ret
.Lread_fault:
    mv a0, a2
    ret
    .size hv_guest_read, . - hv_guest_read

    .globl hv_guest_write
    .type hv_guest_write, @function
    .balign 4
hv_guest_write:
    // a0 = gva, a1 = src (hypervisor memory), a2 = len
1:  beqz a2, .Lwrite_done
    andi t0, a0, 7
    bnez t0, .Lwrite_byte
    li t0, 8
    bltu a2, t0, .Lwrite_byte
    ld t1, 0(a1)
.Lwrite_word:
    hsv.d t1, (a0)
    addi a0, a0, 8
    addi a1, a1, 8
    addi a2, a2, -8
    j 1b
.Lwrite_byte:
    lbu t1, 0(a1)
.Lwrite_byte_store:
    hsv.b t1, (a0)
    addi a0, a0, 1
    addi a1, a1, 1
    addi a2, a2, -1
    j 1b
.Lwrite_done:
    li a0, 0
    ret
.Lwrite_fault:
    mv a0, a2
    ret
    .size hv_guest_write, . - hv_guest_write

    .globl hv_guest_fetch
    .type hv_guest_fetch, @function
    .balign 4
hv_guest_fetch:
    // a0 = dst, a1 = gva, a2 = len (even)
1:  beqz a2, .Lfetch_done
.Lfetch_half:
    hlvx.hu t1, (a1)
    sh t1, 0(a0)
    addi a0, a0, 2
    addi a1, a1, 2
    addi a2, a2, -2
    j 1b
.Lfetch_done:
    li a0, 0
    ret
.Lfetch_fault:
    mv a0, a2
    ret
    .size hv_guest_fetch, . - hv_guest_fetch

    // A faulting 8-byte access is retried bytewise (from the same address),
    // which faults again at the exact first inaccessible byte.
    HV_EXTABLE .Lread_word, .Lread_byte
    HV_EXTABLE .Lread_byte, .Lread_fault
    HV_EXTABLE .Lwrite_word, .Lwrite_byte
    HV_EXTABLE .Lwrite_byte_store, .Lwrite_fault
    HV_EXTABLE .Lfetch_half, .Lfetch_fault

    .option pop
    .section .note.GNU-stack, "", @progbits
