# Every load/store form the MMIO decoder handles, and instructions it must
# refuse, assembled at build time by GNU as (see BUILD: insn_cases) into a
# table that insn_assembler_test decodes.
#
# One record per line:
#   C32/C16  hand, kind, width, sign, reg, fp, instruction
# hand   the encoding assembled by hand from the ISA manual's formats
#        (0: none, for instructions only as encodes); the test checks it
#        equals what as produced
# kind   LOAD, STORE, or UNSUPPORTED (DecodeMemoryAccess must say
#        kUnsupported; the other fields are then 0)
# width  bytes accessed; sign: sign-extended load; reg: rd (loads) or rs2
#        (stores) as named in the instruction; fp: an f register
# C32 assembles with compression off (so `lw` stays 32-bit), C16 with it on.
#
# Record layout (56 bytes, little-endian; see insn_assembler_test.cc):
#   u32 hand | u8 kind, width, sign, reg, fp, length (as assembled), 0, 0 |
#   instruction (2 or 4 bytes, zero-padded to 4) | 40 bytes of NUL-padded text

	.option norelax		# label differences must be resolved here
	.section .cases, "a"

	.equ LOAD, 0
	.equ STORE, 1
	.equ UNSUPPORTED, 2

	.macro RECORD hand, kind, width, sign, reg, fp, insn:vararg
	.balign 4
	.4byte \hand
	.byte \kind, \width, \sign, \reg, \fp, 99f - 98f, 0, 0
98:	\insn
99:	.balign 4, 0
97:	.ascii "\insn"
	.byte 0
	.org 97b + 40, 0
	.endm

	.macro C32 hand, kind, width, sign, reg, fp, insn:vararg
	.option push
	.option norvc
	RECORD \hand, \kind, \width, \sign, \reg, \fp, \insn
	.option pop
	.endm

	.macro C16 hand, kind, width, sign, reg, fp, insn:vararg
	.option push
	.option rvc
	RECORD \hand, \kind, \width, \sign, \reg, \fp, \insn
	.option pop
	.endm

#	form	hand       kind         w  s  reg fp  instruction
	C32	0x00010083, LOAD,        1, 1,  1, 0,  lb x1, 0(x2)
	C32	0xffff0f83, LOAD,        1, 1, 31, 0,  lb x31, -1(x30)
	C32	0x7ff59503, LOAD,        2, 1, 10, 0,  lh a0, 2047(a1)
	C32	0x80029003, LOAD,        2, 1,  0, 0,  lh x0, -2048(x5)
	C32	0x0005a503, LOAD,        4, 1, 10, 0,  lw x10, 0(x11)
	C32	0x06412283, LOAD,        4, 1,  5, 0,  lw t0, 100(sp)
	C32	0xff843383, LOAD,        8, 1,  7, 0,  ld x7, -8(x8)
	C32	0x7f803f83, LOAD,        8, 1, 31, 0,  ld x31, 2040(x0)
	C32	0x0016c603, LOAD,        1, 0, 12, 0,  lbu x12, 1(x13)
	C32	0xffe7d703, LOAD,        2, 0, 14, 0,  lhu x14, -2(x15)
	C32	0x0048e803, LOAD,        4, 0, 16, 0,  lwu x16, 4(x17)
	C32	0x00006003, LOAD,        4, 0,  0, 0,  lwu x0, 0(x0)
	C32	0x00110023, STORE,       1, 0,  1, 0,  sb x1, 0(x2)
	C32	0xffff0fa3, STORE,       1, 0, 31, 0,  sb x31, -1(x30)
	C32	0x7ec69f23, STORE,       2, 0, 12, 0,  sh a2, 2046(a3)
	C32	0x00a5a023, STORE,       4, 0, 10, 0,  sw x10, 0(x11)
	C32	0xfe012e23, STORE,       4, 0,  0, 0,  sw x0, -4(sp)
	C32	0x81f0b023, STORE,       8, 0, 31, 0,  sd x31, -2048(x1)
	C32	0x0084b423, STORE,       8, 0,  8, 0,  sd s0, 8(s1)
	C32	0x0000a007, LOAD,        4, 0,  0, 1,  flw f0, 0(x1)
	C32	0xffc12f87, LOAD,        4, 0, 31, 1,  flw f31, -4(x2)
	C32	0x00813507, LOAD,        8, 0, 10, 1,  fld f10, 8(sp)
	C32	0x7f8fb787, LOAD,        8, 0, 15, 1,  fld f15, 2040(x31)
	C32	0x00112027, STORE,       4, 0,  1, 1,  fsw f1, 0(x2)
	C32	0x81f1a027, STORE,       4, 0, 31, 1,  fsw f31, -2048(x3)
	C32	0x0084b827, STORE,       8, 0,  8, 1,  fsd f8, 16(x9)
	C32	0x00003027, STORE,       8, 0,  0, 1,  fsd f0, 0(x0)
	C16	0x4080,    LOAD,        4, 1,  8, 0,  c.lw x8, 0(x9)
	C16	0x5ffc,    LOAD,        4, 1, 15, 0,  c.lw x15, 124(x15)
	C16	0x41a8,    LOAD,        4, 1, 10, 0,  c.lw a0, 64(a1)
	C16	0x6004,    LOAD,        8, 1,  9, 0,  c.ld x9, 0(x8)
	C16	0x7d78,    LOAD,        8, 1, 14, 0,  c.ld x14, 248(x10)
	C16	0xc080,    STORE,       4, 0,  8, 0,  c.sw x8, 0(x9)
	C16	0xde7c,    STORE,       4, 0, 15, 0,  c.sw x15, 124(x12)
	C16	0xe68c,    STORE,       8, 0, 11, 0,  c.sd x11, 8(x13)
	C16	0xffe0,    STORE,       8, 0,  8, 0,  c.sd x8, 248(x15)
	C16	0x4082,    LOAD,        4, 1,  1, 0,  c.lwsp x1, 0(sp)
	C16	0x5ffe,    LOAD,        4, 1, 31, 0,  c.lwsp x31, 252(sp)
	C16	0x4512,    LOAD,        4, 1, 10, 0,  c.lwsp a0, 4(sp)
	C16	0x60a2,    LOAD,        8, 1,  1, 0,  c.ldsp x1, 8(sp)
	C16	0x7ffe,    LOAD,        8, 1, 31, 0,  c.ldsp x31, 504(sp)
	C16	0xc002,    STORE,       4, 0,  0, 0,  c.swsp x0, 0(sp)
	C16	0xdffe,    STORE,       4, 0, 31, 0,  c.swsp x31, 252(sp)
	C16	0xc206,    STORE,       4, 0,  1, 0,  c.swsp ra, 4(sp)
	C16	0xe002,    STORE,       8, 0,  0, 0,  c.sdsp x0, 0(sp)
	C16	0xfffe,    STORE,       8, 0, 31, 0,  c.sdsp x31, 504(sp)
	C16	0x2080,    LOAD,        8, 0,  8, 1,  c.fld f8, 0(x9)
	C16	0x3c7c,    LOAD,        8, 0, 15, 1,  c.fld f15, 248(x8)
	C16	0xa504,    STORE,       8, 0,  9, 1,  c.fsd f9, 8(x10)
	C16	0xbffc,    STORE,       8, 0, 15, 1,  c.fsd f15, 248(x15)
	C16	0x2002,    LOAD,        8, 0,  0, 1,  c.fldsp f0, 0(sp)
	C16	0x3ffe,    LOAD,        8, 0, 31, 1,  c.fldsp f31, 504(sp)
	C16	0xa002,    STORE,       8, 0,  0, 1,  c.fsdsp f0, 0(sp)
	C16	0xbffe,    STORE,       8, 0, 31, 1,  c.fsdsp f31, 504(sp)
	C32	0,         UNSUPPORTED, 0, 0,  0, 0,  lr.w x1, (x2)
	C32	0,         UNSUPPORTED, 0, 0,  0, 0,  lr.d x3, (x4)
	C32	0,         UNSUPPORTED, 0, 0,  0, 0,  sc.w x1, x2, (x3)
	C32	0,         UNSUPPORTED, 0, 0,  0, 0,  sc.d x5, x6, (x7)
	C32	0,         UNSUPPORTED, 0, 0,  0, 0,  amoswap.w x1, x2, (x3)
	C32	0,         UNSUPPORTED, 0, 0,  0, 0,  amoadd.d x4, x5, (x6)
	C32	0,         UNSUPPORTED, 0, 0,  0, 0,  amoor.w.aqrl x7, x8, (x9)
	C32	0,         UNSUPPORTED, 0, 0,  0, 0,  csrrw x1, sstatus, x2
	C32	0,         UNSUPPORTED, 0, 0,  0, 0,  csrrs x0, sepc, x0
	C32	0,         UNSUPPORTED, 0, 0,  0, 0,  csrrci x1, 0x100, 5
	C32	0,         UNSUPPORTED, 0, 0,  0, 0,  fence
	C32	0,         UNSUPPORTED, 0, 0,  0, 0,  fence.i
	C32	0,         UNSUPPORTED, 0, 0,  0, 0,  ecall
	C32	0,         UNSUPPORTED, 0, 0,  0, 0,  ebreak
	C32	0,         UNSUPPORTED, 0, 0,  0, 0,  wfi
	C32	0,         UNSUPPORTED, 0, 0,  0, 0,  sret
	C32	0,         UNSUPPORTED, 0, 0,  0, 0,  addi x1, x2, 3
	C32	0,         UNSUPPORTED, 0, 0,  0, 0,  lui x1, 0x12345
	C32	0,         UNSUPPORTED, 0, 0,  0, 0,  jalr x1, 0(x2)
	C32	0,         UNSUPPORTED, 0, 0,  0, 0,  hlv.w x1, (x2)
	C32	0,         UNSUPPORTED, 0, 0,  0, 0,  hlv.d x3, (x4)
	C32	0,         UNSUPPORTED, 0, 0,  0, 0,  hlvx.hu x5, (x6)
	C32	0,         UNSUPPORTED, 0, 0,  0, 0,  hsv.w x1, (x2)
	C32	0,         UNSUPPORTED, 0, 0,  0, 0,  flh f1, 0(x2)
	C32	0,         UNSUPPORTED, 0, 0,  0, 0,  fsh f3, 4(x4)
	C32	0,         UNSUPPORTED, 0, 0,  0, 0,  flq f5, 8(x6)
	C32	0,         UNSUPPORTED, 0, 0,  0, 0,  fsq f7, 16(x8)
	C32	0,         UNSUPPORTED, 0, 0,  0, 0,  vle32.v v1, (x2)
	C32	0,         UNSUPPORTED, 0, 0,  0, 0,  vse8.v v3, (x4)
	C32	0,         UNSUPPORTED, 0, 0,  0, 0,  cbo.zero 0(x3)
	C16	0,         UNSUPPORTED, 0, 0,  0, 0,  c.addi4spn x8, sp, 4
	C16	0,         UNSUPPORTED, 0, 0,  0, 0,  c.nop
	C16	0,         UNSUPPORTED, 0, 0,  0, 0,  c.addi x1, 1
	C16	0,         UNSUPPORTED, 0, 0,  0, 0,  c.li x1, 1
	C16	0,         UNSUPPORTED, 0, 0,  0, 0,  c.lui x1, 1
	C16	0,         UNSUPPORTED, 0, 0,  0, 0,  c.slli x1, 1
	C16	0,         UNSUPPORTED, 0, 0,  0, 0,  c.mv x1, x2
	C16	0,         UNSUPPORTED, 0, 0,  0, 0,  c.add x1, x2
	C16	0,         UNSUPPORTED, 0, 0,  0, 0,  c.jr x1
	C16	0,         UNSUPPORTED, 0, 0,  0, 0,  c.jalr x1
	C16	0,         UNSUPPORTED, 0, 0,  0, 0,  c.ebreak
	C16	0,         UNSUPPORTED, 0, 0,  0, 0,  c.srli x8, 1
	C16	0,         UNSUPPORTED, 0, 0,  0, 0,  c.and x8, x9
