"""Build macros of this repository: one wrapper per kind of target.

  hv_cc_library    a C++ library (project warnings, for every platform)
  hv_cc_binary     a hosted C++ program
  hv_kernel_image  a bare-metal image for one board, built through a platform
                   transition so that `bazel build //...` needs no --config

Toolchain flags (freestanding, code model, sanitizers) live in
//platforms/toolchains, not here.
"""

load("@bazel_tools//tools/cpp:toolchain_utils.bzl", "find_cpp_toolchain")
load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_library")
load("//platforms:board.bzl", "BoardInfo")

# Warnings for our own code (third-party code is compiled without these).
# -Wmaybe-uninitialized is off: GCC 12 reports it spuriously when a
# temporary holding a std::variant or std::optional (VmQueriedItem, Result)
# is destroyed, notably for x86_64 kernel code at -O1; -Wuninitialized (the
# definite case) stays on.
HV_COPTS = [
    "-Werror",
    "-Wshadow",
    "-Wnon-virtual-dtor",
    "-Wno-missing-field-initializers",
    "-Wno-maybe-uninitialized",
]

def hv_cc_library(name, copts = [], **kwargs):
    cc_library(name = name, copts = HV_COPTS + copts, **kwargs)

def hv_cc_binary(name, copts = [], **kwargs):
    cc_binary(name = name, copts = HV_COPTS + copts, **kwargs)

def _to_platform_impl(_settings, attr):
    return {"//command_line_option:platforms": str(attr.platform)}

# Builds the dependency for the platform named by the rule's `platform`.
to_platform = transition(
    implementation = _to_platform_impl,
    inputs = [],
    outputs = ["//command_line_option:platforms"],
)

KernelImageInfo = provider(
    doc = "A bootable bare-metal image and the board it runs on.",
    fields = {
        "image": "File: what QEMU's -kernel loads",
        "elf": "File: the ELF with symbols (for gdb)",
        "board": "BoardInfo of the board it was linked for",
    },
)

def _kernel_image_impl(ctx):
    elf = ctx.attr.elf[DefaultInfo].files_to_run.executable
    board = ctx.attr.board[BoardInfo]
    if board.image_format == "elf":
        image = ctx.actions.declare_file(ctx.label.name + ".elf")
        ctx.actions.symlink(output = image, target_file = elf)
    else:
        # The rule itself is built for the image's platform (incoming
        # transition), so this is the kernel toolchain and its objcopy.
        cc = find_cpp_toolchain(ctx)
        image = ctx.actions.declare_file(ctx.label.name + ".img")
        ctx.actions.run(
            executable = cc.objcopy_executable,
            arguments = ["-O", board.image_format, elf.path, image.path],
            inputs = [elf],
            outputs = [image],
            mnemonic = "KernelImage",
            progress_message = "Packaging %s for %s" % (ctx.label, board.name),
        )
    return [
        DefaultInfo(files = depset([image]), runfiles = ctx.runfiles(files = [image, elf])),
        KernelImageInfo(image = image, elf = elf, board = board),
    ]

kernel_image = rule(
    implementation = _kernel_image_impl,
    doc = "Packages a kernel ELF, built for `platform`, into what the board's QEMU loads.",
    cfg = to_platform,
    fragments = ["cpp"],
    toolchains = ["@bazel_tools//tools/cpp:toolchain_type"],
    attrs = {
        "elf": attr.label(mandatory = True, cfg = "target", executable = True),
        "platform": attr.label(mandatory = True),
        "board": attr.label(mandatory = True, providers = [BoardInfo]),
        "_cc_toolchain": attr.label(default = "@bazel_tools//tools/cpp:current_cc_toolchain"),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
)

def hv_kernel_image(name, board, srcs = [], deps = [], copts = [], linkopts = [], visibility = None, **kwargs):
    """A bare-metal image `name` for `board` (a package such as //platforms/qemu_virt_riscv64).

    The board package provides `:platform` (the platform to build for),
    `:board` (its qemu_board) and `:kernel_link` (linker script and boot code).

    Args:
      name: the image; `<name>_elf` is the linked ELF.
      board: the board package.
      srcs: sources of the image.
      deps: libraries of the image.
      copts: extra compiler options (HV_COPTS come first).
      linkopts: extra linker options.
      visibility: the image's visibility (the ELF is private).
      **kwargs: passed to the cc_binary, except `testonly` and `tags`, which
        both targets get (the ELF is always "manual" as well).
    """
    testonly = kwargs.pop("testonly", False)
    tags = kwargs.pop("tags", [])
    cc_binary(
        name = name + "_elf",
        testonly = testonly,
        srcs = srcs,
        deps = deps + [board + ":kernel_link"],
        copts = HV_COPTS + copts,
        linkopts = linkopts,
        tags = tags + ["manual"],
        target_compatible_with = ["@platforms//os:none"],
        visibility = ["//visibility:private"],
        **kwargs
    )
    kernel_image(
        name = name,
        elf = ":" + name + "_elf",
        platform = board + ":platform",
        board = board + ":board",
        testonly = testonly,
        tags = tags,
        visibility = visibility,
    )
