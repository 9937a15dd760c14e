// Kernel entry from OpenSBI (fw_dynamic) in HS-mode, per the RISC-V Linux
// boot protocol: a0 = hart id, a1 = device tree, MMU off, interrupts off.
// Only the boot hart arrives here; OpenSBI keeps the others stopped (HSM).

    .section .text.boot, "ax"
    .globl _start
_start:
    csrw sie, zero
    // FS off: kernel code never touches FP state, and this makes sure of it.
    li t0, (3 << 13)
    csrc sstatus, t0
    la sp, __boot_stack_top
    // The first frame ends the frame-pointer chain.
    li fp, 0
    li ra, 0

    la t0, __bss_start
    la t1, __bss_end
1:  bgeu t0, t1, 2f
    sd zero, 0(t0)
    addi t0, t0, 8
    j 1b
2:
    // a0 and a1 are still the boot arguments.
    call riscv64_boot_main
3:  wfi
    j 3b
