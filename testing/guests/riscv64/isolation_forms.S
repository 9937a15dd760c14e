// Instructions the hypervisor must refuse to emulate on a device, for the
// isolation guest: an AMO and an FP load aimed at an address (the UART).
//
//   void isolation_amoadd_w(uint64_t addr)
//   void isolation_fld(uint64_t addr)

    .text
    .option push
    .option arch, +a, +d

    .globl isolation_amoadd_w
    .balign 4
isolation_amoadd_w:
    li t0, 1
    amoadd.w zero, t0, (a0)
    ret

    .globl isolation_fld
    .balign 4
isolation_fld:
    li t0, (1 << 13)                // sstatus.FS = Initial: FP usable
    csrs sstatus, t0
    fld ft0, 0(a0)
    ret

    .option pop
    .section .note.GNU-stack, "", @progbits
