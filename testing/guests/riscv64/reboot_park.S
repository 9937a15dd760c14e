// Where the reboot guest starts its second hart (SBI HSM): it waits for
// interrupts forever, until the VM's reboot stops it.

    .text
    .globl reboot_guest_park
    .balign 4
reboot_guest_park:
    wfi
    j reboot_guest_park
