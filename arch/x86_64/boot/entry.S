// Multiboot (v1) entry in 32-bit protected mode, paging off, at the physical
// load address. Builds boot page tables that map
//   - the first 4 GiB identity (PML4[0], only until we run high),
//   - the same 4 GiB as the direct map at 0xffff800000000000 (PML4[256]),
//   - physical 0..1 GiB at 0xffffffff80000000 for the image (PML4[511]),
// with 2 MiB pages (the top GiB, where the APICs and HPET live, uncached:
// PCD|PWT, PAT index 3, UC both at reset and in the layout boot.cc installs),
// enters long mode, jumps to the linked address, drops the identity map and
// calls x86_64_boot_main(multiboot info physical address).

#define KERNEL_VIRT_OFFSET 0xffffffff80000000
#define PHYS(sym) ((sym) - KERNEL_VIRT_OFFSET)
#define BOOT_TABLES_SIZE (7 * 4096)

#define MB_MAGIC 0x1badb002
// Page-align modules, provide the memory map, and use the a.out-kludge
// address fields (the image is a flat binary).
#define MB_FLAGS 0x00010003
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
multiboot_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)
    .long PHYS(multiboot_header)    // header_addr
    .long PHYS(__kernel_start)      // load_addr
    .long 0                         // load_end_addr: the whole file
    .long PHYS(__kernel_end)        // bss_end_addr (zeroed by the loader)
    .long PHYS(_start)              // entry_addr

    .section .text.boot, "ax"
    .code32
    .globl _start
_start:
    cli
    cld
    mov %ebx, %esi                  // multiboot information (kept in esi)
    cmp $MB_BOOTLOADER_MAGIC, %eax
    jne .Lhang32
    mov $PHYS(__boot_stack_top), %esp

    // Zero the boot tables.
    mov $PHYS(boot_pml4), %edi
    mov $(BOOT_TABLES_SIZE / 4), %ecx
    xor %eax, %eax
    rep stosl

    // PML4[0] and PML4[256] -> the low PDPT; PML4[511] -> the high PDPT.
    mov $PHYS(boot_pdpt_low), %eax
    or $(PTE_P | PTE_W), %eax
    mov %eax, PHYS(boot_pml4)
    mov %eax, PHYS(boot_pml4) + 256 * 8
    mov $PHYS(boot_pdpt_high), %eax
    or $(PTE_P | PTE_W), %eax
    mov %eax, PHYS(boot_pml4) + 511 * 8

    // Low PDPT[0..3] -> PD[0..3]; high PDPT[510] -> PD[0] (physical 0..1 GiB).
    xor %ecx, %ecx
1:  mov %ecx, %eax
    shl $12, %eax
    add $PHYS(boot_pd), %eax
    or $(PTE_P | PTE_W), %eax
    mov %eax, PHYS(boot_pdpt_low)(, %ecx, 8)
    inc %ecx
    cmp $4, %ecx
    jb 1b
    mov $PHYS(boot_pd), %eax
    or $(PTE_P | PTE_W), %eax
    mov %eax, PHYS(boot_pdpt_high) + 510 * 8

    // 2048 large pages of 2 MiB: physical 0..4 GiB.
    xor %ecx, %ecx
2:  mov %ecx, %eax
    shl $21, %eax
    or $(PTE_P | PTE_W | PTE_PS), %eax
    cmp $1536, %ecx                 // 3 GiB and above: MMIO, uncached
    jb 3f
    or $(PTE_PCD | PTE_PWT), %eax
3:  mov %eax, PHYS(boot_pd)(, %ecx, 8)
    inc %ecx
    cmp $2048, %ecx
    jb 2b

    mov %cr4, %eax
    or $CR4_PAE, %eax
    mov %eax, %cr4
    mov $PHYS(boot_pml4), %eax
    mov %eax, %cr3
    mov $MSR_EFER, %ecx
    rdmsr
    or $(EFER_LME | EFER_NXE), %eax
    wrmsr
    mov %cr0, %eax
    or $(CR0_PE | CR0_WP | CR0_PG), %eax
    mov %eax, %cr0

    lgdt PHYS(boot_gdt_pointer_low)
    ljmp $0x08, $PHYS(.Llong_mode)

.Lhang32:
    hlt
    jmp .Lhang32

    .code64
.Llong_mode:
    movabs $.Lhigh, %rax
    jmp *%rax

.Lhigh:
    lgdt boot_gdt_pointer(%rip)
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %eax, %eax
    mov %ax, %fs
    mov %ax, %gs
    // The lower half is for user/guest windows: unmap the identity map.
    movq $0, boot_pml4(%rip)
    mov %cr3, %rax
    mov %rax, %cr3
    lea __boot_stack_top(%rip), %rsp
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
    .balign 8
boot_gdt_pointer_low:               // for lgdt in 32-bit mode: physical base
    .word boot_gdt_end - boot_gdt - 1
    .long PHYS(boot_gdt)
    .balign 8
boot_gdt_pointer:                   // for lgdt in long mode: linked base
    .word boot_gdt_end - boot_gdt - 1
    .quad boot_gdt

    .section .boot_tables, "aw", @nobits
    .balign 4096
    .globl boot_pml4
boot_pml4:
    .skip 4096
boot_pdpt_low:
    .skip 4096
boot_pdpt_high:
    .skip 4096
boot_pd:
    .skip 4 * 4096
