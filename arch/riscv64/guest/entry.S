// Entry of a guest image in the hypervisor's virtual machine, per the RISC-V
// Linux boot protocol: VS-mode (the guest sees S-mode), a0 = hart id, a1 =
// device tree (guest-physical), MMU off, at the image's load address. Guest
// images are linked where they run, so no relocation is needed.

    .section .text.boot, "ax"
    .globl _start
_start:
    csrw sie, zero
    // FS off, as in the hypervisor: guest test code uses no FP.
    li t0, (3 << 13)
    csrc sstatus, t0
    la sp, __boot_stack_top
    li fp, 0
    li ra, 0
    la t0, __bss_start
    la t1, __bss_end
1:  bgeu t0, t1, 2f
    sd zero, 0(t0)
    addi t0, t0, 8
    j 1b
2:  call riscv64_guest_main
3:  wfi
    j 3b
