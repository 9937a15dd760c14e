// Kernel trap entry: one stub per vector pushes a zero error code where the
// CPU does not, then the vector number, and joins the common path, which
// saves the general registers as a TrapFrame and calls
// x86_64_handle_trap(frame).

    .section .text.trap, "ax"
    .code64

// Vectors for which the CPU pushes an error code.
#define HAS_ERROR(v) ((v) == 8 || (v) == 10 || (v) == 11 || (v) == 12 || (v) == 13 || (v) == 14 || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

    .altmacro
    .macro trap_stub v
    .balign 16
trap_stub_\v:
    .if !HAS_ERROR(\v)
    pushq $0
    .endif
    pushq $\v
    jmp trap_common
    .endm

    .set vector, 0
    .rept 256
    trap_stub %vector
    .set vector, vector + 1
    .endr

trap_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi
    // Keep the ABI's 16-byte stack alignment for the call.
    mov %rsp, %rbx
    and $-16, %rsp
    call x86_64_handle_trap
    mov %rbx, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp                   // vector and error code
    iretq

    .macro stub_address v
    .quad trap_stub_\v
    .endm

    .section .rodata
    .balign 8
    .globl x86_64_trap_stubs
x86_64_trap_stubs:
    .set vector, 0
    .rept 256
    stub_address %vector
    .set vector, vector + 1
    .endr
