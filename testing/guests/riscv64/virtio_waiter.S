// Code the virtio guest starts on its second hart with SBI HSM (no stack,
// no C++): waits in WFI with sstatus.SIE off and sie.SEIE on; after each
// wake-up it opens SIE for one instruction, so a pending S-mode external
// interrupt (the PLIC's context 3) is taken, into a trap vector that claims
// the source, records what it saw and stops the hart. Hart 0 completes the
// claim. (QEMU 7.2 does not show the injected VSEIP in VS-mode sip reads,
// so the hart takes the interrupt instead of polling sip.)
//
// virtio_guest_waiter[0]  1 once the hart is about to wait
// virtio_guest_waiter[1]  the source claimed from context 3
// virtio_guest_waiter[2]  WFIs executed until the interrupt was taken
// virtio_guest_waiter[3]  scause of the trap

#define SBI_EXT_HSM 0x48534D
#define PLIC_CONTEXT3_CLAIM 0x0c203004
#define SIE_SEIE (1 << 9)
#define SSTATUS_SIE (1 << 1)

    .text
    .globl virtio_guest_waiter_entry
    .balign 4
virtio_guest_waiter_entry:
    lla s0, virtio_guest_waiter
    lla t1, virtio_guest_waiter_trap
    csrw stvec, t1
    li t0, SIE_SEIE
    csrs sie, t0
    li t1, 1
    sd t1, 0(s0)
    fence rw, rw
    li s1, 0
1:  wfi
    addi s1, s1, 1
    csrsi sstatus, SSTATUS_SIE
    csrci sstatus, SSTATUS_SIE
    j 1b

    .balign 4
virtio_guest_waiter_trap:
    csrr t2, scause
    sd t2, 24(s0)
    sd s1, 16(s0)
    li t4, PLIC_CONTEXT3_CLAIM
    lw t5, 0(t4)
    sd t5, 8(s0)
    fence rw, rw
    csrc sie, t0
    li a7, SBI_EXT_HSM
    li a6, 1                        // hart_stop
    ecall
2:  j 2b

    .section .note.GNU-stack, "", @progbits
