// Multiboot (v1) entry in 32-bit protected mode: build identity page tables
// for the first 4 GiB (2 MiB pages; the top GiB, where the APICs and HPET
// live, uncached), enter long mode and call x86_64_boot_main(mbi).

#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0x00000003  // page-align modules, provide the memory map
#define MB_BOOTLOADER_MAGIC 0x2badb002

#define CR0_PE (1 << 0)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define EFER_NXE (1 << 11)

#define PTE_P 0x1
#define PTE_W 0x2
#define PTE_PWT 0x8
#define PTE_PCD 0x10
#define PTE_PS 0x80

    .section .multiboot, "a"
    .balign 4
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .section .text.boot, "ax"
    .code32
    .globl _start
_start:
    cli
    cld
    mov %ebx, %esi                  // multiboot information (kept in esi)
    cmp $MB_BOOTLOADER_MAGIC, %eax
    jne .Lhang32
    mov $__boot_stack_top, %esp

    // Zero .bss (the page tables live there).
    mov $__bss_start, %edi
    mov $__bss_end, %ecx
    sub %edi, %ecx
    shr $2, %ecx
    xor %eax, %eax
    rep stosl

    // PML4[0] -> PDPT; PDPT[0..3] -> PD[0..3].
    mov $boot_pdpt, %eax
    or $(PTE_P | PTE_W), %eax
    mov %eax, boot_pml4
    xor %ecx, %ecx
1:  mov %ecx, %eax
    shl $12, %eax
    add $boot_pd, %eax
    or $(PTE_P | PTE_W), %eax
    mov %eax, boot_pdpt(, %ecx, 8)
    inc %ecx
    cmp $4, %ecx
    jb 1b

    // 2048 large pages of 2 MiB: identity map 0..4 GiB.
    xor %ecx, %ecx
2:  mov %ecx, %eax
    shl $21, %eax
    or $(PTE_P | PTE_W | PTE_PS), %eax
    cmp $1536, %ecx                 // 3 GiB and above: MMIO, uncached
    jb 3f
    or $(PTE_PCD | PTE_PWT), %eax
3:  mov %eax, boot_pd(, %ecx, 8)
    inc %ecx
    cmp $2048, %ecx
    jb 2b

    mov %cr4, %eax
    or $CR4_PAE, %eax
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov $MSR_EFER, %ecx
    rdmsr
    or $(EFER_LME | EFER_NXE), %eax
    wrmsr
    mov %cr0, %eax
    or $(CR0_PE | CR0_WP | CR0_PG), %eax
    mov %eax, %cr0

    lgdt boot_gdt_pointer
    ljmp $0x08, $.Llong_mode

.Lhang32:
    hlt
    jmp .Lhang32

    .code64
.Llong_mode:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %eax, %eax
    mov %ax, %fs
    mov %ax, %gs
    mov $__boot_stack_top, %rsp
    xor %ebp, %ebp                  // ends the frame-pointer chain
    mov %esi, %edi
    call x86_64_boot_main
.Lhang64:
    hlt
    jmp .Lhang64

    .section .rodata
    .balign 16
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff        // 0x08: 64-bit code, DPL 0
    .quad 0x00cf92000000ffff        // 0x10: data, DPL 0
boot_gdt_end:
    .globl boot_gdt_pointer
boot_gdt_pointer:
    .word boot_gdt_end - boot_gdt - 1
    .quad boot_gdt

    .section .bss
    .balign 4096
    .globl boot_pml4
boot_pml4:
    .skip 4096
boot_pdpt:
    .skip 4096
boot_pd:
    .skip 4 * 4096
