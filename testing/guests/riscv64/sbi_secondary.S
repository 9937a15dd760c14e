// Code the SBI guest starts on its second hart with SBI HSM (no stack, no
// C++): records what the boot protocol promised and stops or suspends.
//
// sbi_guest_secondary_entry: records a0 (hart id), a1 (opaque) and satp (the
// MMU must be off), then hart_stop.
// sbi_guest_suspend_entry: enables its timer interrupt, arms the timer 1 ms
// ahead and suspends non-retentively, resuming at sbi_guest_resume_entry,
// which records a0/a1/satp as above, disarms the timer and stops.

#define SBI_EXT_TIME 0x54494D45
#define SBI_EXT_HSM 0x48534D

    .text
    .globl sbi_guest_secondary_entry
    .balign 4
sbi_guest_secondary_entry:
    lla t0, g_secondary_record
    sd a0, 0(t0)
    sd a1, 8(t0)
    csrr t1, satp
    sd t1, 16(t0)
    fence rw, rw
    li a7, SBI_EXT_HSM
    li a6, 1                        // hart_stop
    ecall
1:  j 1b

    .globl sbi_guest_suspend_entry
    .balign 4
sbi_guest_suspend_entry:
    mv s1, a1                       // opaque for the resume
    li t0, (1 << 5)                 // sie.STIE: the wake-up source
    csrs sie, t0
    rdtime a0
    li t0, 10000                    // 1 ms at 10 MHz
    add a0, a0, t0
    li a7, SBI_EXT_TIME
    li a6, 0                        // set_timer
    ecall
    li a0, 0x80000000               // non-retentive
    lla a1, sbi_guest_resume_entry
    addi a2, s1, 1                  // the resumed hart records opaque + 1
    li a7, SBI_EXT_HSM
    li a6, 3                        // hart_suspend
    ecall
    // Reaching here is a failure: record it as a hart id of -1.
    li a0, -1
    j sbi_guest_secondary_entry

    .globl sbi_guest_resume_entry
    .balign 4
sbi_guest_resume_entry:
    mv s0, a0
    mv s1, a1
    li a0, -1
    li a7, SBI_EXT_TIME
    li a6, 0                        // set_timer(never)
    ecall
    mv a0, s0
    mv a1, s1
    j sbi_guest_secondary_entry

    .section .note.GNU-stack, "", @progbits
