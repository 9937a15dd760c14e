// The world switch between the hypervisor (HS-mode) and a guest (VS-mode).
//
// riscv64_run_guest(VcpuRegs* regs): saves the host's callee-saved registers
// and stvec, points stvec at riscv64_guest_exit and sscratch at regs, loads
// the guest's sepc/sstatus/hstatus and registers, and srets into the guest.
// The next trap to HS-mode lands in riscv64_guest_exit, which saves the
// guest's registers and the cause CSRs into regs, restores the host and
// returns from riscv64_run_guest. Offsets match struct VcpuRegs (vcpu.h).

#define REG(n) ((n) * 8)
#define SEPC 256
#define SSTATUS 264
#define HSTATUS 272
#define SCAUSE 280
#define STVAL 288
#define HTVAL 296
#define HTINST 304
#define HOST(n) (312 + (n) * 8)
#define HOST_STVEC 440

    .option push
    .option arch, +h

    .section .text.vcpu, "ax"
    .balign 4
    .globl riscv64_run_guest
riscv64_run_guest:
    sd ra, HOST(0)(a0)
    sd sp, HOST(1)(a0)
    sd gp, HOST(2)(a0)
    sd tp, HOST(3)(a0)
    sd s0, HOST(4)(a0)
    sd s1, HOST(5)(a0)
    sd s2, HOST(6)(a0)
    sd s3, HOST(7)(a0)
    sd s4, HOST(8)(a0)
    sd s5, HOST(9)(a0)
    sd s6, HOST(10)(a0)
    sd s7, HOST(11)(a0)
    sd s8, HOST(12)(a0)
    sd s9, HOST(13)(a0)
    sd s10, HOST(14)(a0)
    sd s11, HOST(15)(a0)
    csrr t0, stvec
    sd t0, HOST_STVEC(a0)

    lla t0, riscv64_guest_exit
    csrw stvec, t0
    csrw sscratch, a0

    ld t0, SEPC(a0)
    csrw sepc, t0
    ld t0, SSTATUS(a0)
    csrw sstatus, t0
    ld t0, HSTATUS(a0)
    csrw hstatus, t0

    ld x1, REG(1)(a0)
    .irp n, 2,3,4,5,6,7,8,9,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    ld x\n, REG(\n)(a0)
    .endr
    ld a0, REG(10)(a0)
    sret

    // Traps from the guest arrive here (stvec must be 4-byte aligned).
    .balign 4
    .globl riscv64_guest_exit
riscv64_guest_exit:
    csrrw a0, sscratch, a0          // a0 = regs, sscratch = guest a0
    sd x1, REG(1)(a0)
    .irp n, 2,3,4,5,6,7,8,9,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    sd x\n, REG(\n)(a0)
    .endr
    csrr t0, sscratch
    sd t0, REG(10)(a0)

    csrr t0, sepc
    sd t0, SEPC(a0)
    csrr t0, sstatus
    sd t0, SSTATUS(a0)
    // The guest may have had FP on; the hypervisor runs with FS off.
    li t1, (3 << 13)
    csrc sstatus, t1
    csrr t0, hstatus
    sd t0, HSTATUS(a0)
    csrr t0, scause
    sd t0, SCAUSE(a0)
    csrr t0, stval
    sd t0, STVAL(a0)
    csrr t0, htval
    sd t0, HTVAL(a0)
    csrr t0, htinst
    sd t0, HTINST(a0)

    ld t0, HOST_STVEC(a0)
    csrw stvec, t0
    csrw sscratch, zero
    ld ra, HOST(0)(a0)
    ld sp, HOST(1)(a0)
    ld gp, HOST(2)(a0)
    ld tp, HOST(3)(a0)
    ld s0, HOST(4)(a0)
    ld s1, HOST(5)(a0)
    ld s2, HOST(6)(a0)
    ld s3, HOST(7)(a0)
    ld s4, HOST(8)(a0)
    ld s5, HOST(9)(a0)
    ld s6, HOST(10)(a0)
    ld s7, HOST(11)(a0)
    ld s8, HOST(12)(a0)
    ld s9, HOST(13)(a0)
    ld s10, HOST(14)(a0)
    ld s11, HOST(15)(a0)
    ret

// riscv64_fp_save(FpRegs*) / riscv64_fp_restore(const FpRegs*): the guest's
// FP registers. The kernel runs with sstatus.FS off; these turn it on for
// the copy and leave it as the guest needs it (Dirty after a restore, so the
// next save is not skipped).
    .option arch, +d
    .globl riscv64_fp_save
riscv64_fp_save:
    li t1, (3 << 13)
    csrs sstatus, t1
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    fsd f\n, (\n * 8)(a0)
    .endr
    frcsr t0
    sd t0, 256(a0)
    csrc sstatus, t1
    ret

    .globl riscv64_fp_restore
riscv64_fp_restore:
    li t1, (3 << 13)
    csrs sstatus, t1
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    fld f\n, (\n * 8)(a0)
    .endr
    ld t0, 256(a0)
    fscsr t0
    csrc sstatus, t1
    ret

    .option pop
