"""Boards are data: the QEMU machine a kernel image runs on.

A board package (platforms/<board>/) declares one `qemu_board`, a `platform`
for its kernel images, a linker script and its memory map.
"""

BoardInfo = provider(
    doc = "How to run a kernel image of this board under QEMU.",
    fields = {
        "name": "string: the board's name",
        "qemu": "File or None: the qemu-system binary (from @qemu); None for a\n" +
                "virtual board that only the hypervisor runs",
        "firmware": "File or None: passed where an argument says {firmware}",
        "machine_args": "list of string: QEMU machine arguments ({firmware} is substituted)",
        "image_format": "string: 'elf' or an objcopy output format (e.g. binary)",
        "success_exit_code": "int: QEMU's exit code when the image reports success",
    },
)

def _qemu_board_impl(ctx):
    return [BoardInfo(
        name = ctx.label.package.split("/")[-1],
        qemu = ctx.file.qemu,
        firmware = ctx.file.firmware,
        machine_args = ctx.attr.machine_args,
        image_format = ctx.attr.image_format,
        success_exit_code = ctx.attr.success_exit_code,
    )]

qemu_board = rule(
    implementation = _qemu_board_impl,
    attrs = {
        "qemu": attr.label(allow_single_file = True),
        "firmware": attr.label(allow_single_file = True),
        "machine_args": attr.string_list(),
        "image_format": attr.string(default = "elf"),
        "success_exit_code": attr.int(default = 0),
    },
)

def board_command(board, image):
    """QEMU's command line to boot an image on a board.

    Paths are runfiles paths: valid from the runfiles directory of this
    workspace, where `bazel test` and `bazel run` start their programs.

    Args:
      board: the BoardInfo of the board.
      image: the File QEMU loads with -kernel.

    Returns:
      The argv, a list of strings.
    """
    if not board.qemu:
        fail("board %s is not a QEMU machine (its images run under the hypervisor)" % board.name)
    argv = [board.qemu.short_path]
    for arg in board.machine_args:
        if "{firmware}" in arg:
            if not board.firmware:
                fail("board %s uses {firmware} but has none" % board.name)
            arg = arg.replace("{firmware}", board.firmware.short_path)
        argv.append(arg)
    return argv + ["-kernel", image.short_path]

def board_runfiles(board):
    """The Files a command from board_command() needs besides the image.

    Args:
      board: the BoardInfo of the board.

    Returns:
      A list of Files.
    """
    return ([board.qemu] if board.qemu else []) + ([board.firmware] if board.firmware else [])
