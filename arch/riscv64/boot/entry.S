// Kernel entry from OpenSBI (fw_dynamic) in HS-mode, per the RISC-V Linux
// boot protocol: a0 = hart id, a1 = device tree (physical), MMU off,
// interrupts off. Only the boot hart arrives here; OpenSBI keeps the others
// stopped (HSM).
//
// We run at the physical load address until Sv39 is on: build a boot page
// table with the direct map (root entries 256..319: physical 0..64 GiB in
// 1 GiB pages, VA = 0xffffffc000000000 + PA) plus a temporary identity entry
// for the GiB we execute from, enable it, jump to the linked (upper-half)
// address and drop the identity entry, leaving the lower half unmapped.

#define SATP_MODE_SV39 (8 << 60)
// V R W X G A D: a global, kernel-only, read-write-execute leaf.
#define PTE_KERNEL_RWX 0xef
#define DIRECT_MAP_FIRST_ENTRY 256
#define DIRECT_MAP_GIBS 64
#define KERNEL_VIRT_OFFSET 0xffffffc000000000

    .section .text.boot, "ax"
    .globl _start
_start:
    csrw sie, zero
    // FS off: kernel code never touches FP state, and this makes sure of it.
    li t0, (3 << 13)
    csrc sstatus, t0
    mv s0, a0
    mv s1, a1

    // PC-relative addresses are physical while the MMU is off.
    lla s2, boot_root_table
    mv t0, s2
    li t1, 4096
    add t1, t1, s2                  // t1 = end of the table
1:  sd zero, 0(t0)
    addi t0, t0, 8
    bltu t0, t1, 1b

    // Direct map: entry 256 + i -> physical i GiB. PPN = i << 18, so the PTE
    // is (i << 28) | flags.
    li t0, 0
    li t1, DIRECT_MAP_GIBS
    li t2, DIRECT_MAP_FIRST_ENTRY * 8
    add t2, t2, s2
2:  slli t3, t0, 28
    ori t3, t3, PTE_KERNEL_RWX
    sd t3, 0(t2)
    addi t0, t0, 1
    addi t2, t2, 8
    bltu t0, t1, 2b

    // Identity entry for the GiB holding this code.
    lla t0, _start
    srli t0, t0, 30                 // GiB index = root index (below 512 GiB)
    slli t1, t0, 3
    add t1, t1, s2
    slli t3, t0, 28
    ori t3, t3, PTE_KERNEL_RWX
    sd t3, 0(t1)

    srli t0, s2, 12
    li t1, SATP_MODE_SV39
    or t0, t0, t1
    sfence.vma
    csrw satp, t0
    sfence.vma

    // Jump to the linked address of .Lhigh (an absolute 64-bit constant).
    ld t0, .Lhigh_address
    jr t0

    .balign 8
.Lhigh_address:
    .dword .Lhigh

.Lhigh:
    // Drop the identity entry: the lower half is for user/guest windows.
    // (PC is high now, so `la` yields linked addresses.)
    la t1, _start
    li t2, KERNEL_VIRT_OFFSET
    sub t1, t1, t2                  // physical address of _start
    srli t1, t1, 30
    slli t1, t1, 3
    la t0, boot_root_table
    add t0, t0, t1
    sd zero, 0(t0)
    sfence.vma

    la sp, __boot_stack_top
    // The first frame ends the frame-pointer chain.
    li fp, 0
    li ra, 0

    la t0, __bss_start
    la t1, __bss_end
3:  bgeu t0, t1, 4f
    sd zero, 0(t0)
    addi t0, t0, 8
    j 3b
4:
    mv a0, s0
    mv a1, s1
    call riscv64_boot_main
5:  wfi
    j 5b

    .section .boot_tables, "aw", @nobits
    .balign 4096
    .globl boot_root_table
boot_root_table:
    .skip 4096
