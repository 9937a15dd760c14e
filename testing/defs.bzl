"""Test rules: QEMU system tests, qemu-user tests and in-kernel test images.

  qemu_test        boot a kernel image under QEMU; pass on the exit device's
                   success code plus the pass sentinel (tag: qemu)
  riscv64_cc_test  a GoogleTest binary cross-built for linux_riscv64 and run
                   under qemu-riscv64 (tag: qemu_user)
  hv_cc_test       a GoogleTest test on the host and, by default, also as a
                   riscv64_cc_test
  kernel_test      in-kernel tests (testing/ktest) as one qemu_test per board
  sanitized_cc_test  a GoogleTest test on the host that is always built with
                   sanitizers (ASan and UBSan by default), also in a plain
                   `bazel test //...`
  qemu_run         `bazel run` target that boots an image with the serial
                   console on the terminal
"""

load("@bazel_skylib//lib:shell.bzl", "shell")
load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_test")
load("//platforms:board.bzl", "board_command", "board_runfiles")
load("//platforms:defs.bzl", "HV_COPTS", "KernelImageInfo", "hv_kernel_image", "to_platform")

PASS_SENTINEL = "HV_TEST_RESULT: PASS"

# The boards kernel_test runs on by default.
KERNEL_TEST_BOARDS = {
    "riscv64": "//platforms/qemu_virt_riscv64",
    "x86_64": "//platforms/qemu_pc_x86_64",
}

def _qemu_command(image_info, extra_args):
    return board_command(image_info.board, image_info.image) + extra_args

def _image_runfiles(ctx, image_info):
    return ctx.runfiles(
        files = [image_info.image, image_info.elf] + board_runfiles(image_info.board),
    )

def _qemu_test_impl(ctx):
    info = ctx.attr.image[KernelImageInfo]
    runner = ctx.executable._runner
    qemu = _qemu_command(info, ["-display", "none", "-monitor", "none", "-serial", "stdio"] + ctx.attr.qemu_args)
    runner_cmd = [
        runner.short_path,
        "--timeout=%ds" % ctx.attr.timeout_s,
        "--success_exit_code=%d" % info.board.success_exit_code,
        "--sentinel=" + ctx.attr.sentinel,
        "--symbols=" + info.elf.short_path,
    ]
    if ctx.attr.expect_runner_failure:
        # A test of the runner itself: it must fail, for the expected reason,
        # and within its timeout (plus QEMU start-up and shutdown slack).
        lines = [
            "exec %s %s %d %s \"$@\" -- %s" % (
                shell.quote(ctx.executable._expect_failure.short_path),
                shell.quote(ctx.attr.expect_runner_failure),
                ctx.attr.timeout_s + 30,
                " ".join([shell.quote(a) for a in runner_cmd]),
                " ".join([shell.quote(a) for a in qemu]),
            ),
        ]
    else:
        lines = [
            "exec %s \"$@\" -- %s" % (
                " ".join([shell.quote(a) for a in runner_cmd]),
                " ".join([shell.quote(a) for a in qemu]),
            ),
        ]
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.write(script, "#!/bin/bash\n" + "\n".join(lines) + "\n", is_executable = True)
    runfiles = _image_runfiles(ctx, info).merge(ctx.attr._runner[DefaultInfo].default_runfiles)
    runfiles = runfiles.merge(ctx.runfiles(files = [ctx.executable._expect_failure]))
    return [DefaultInfo(executable = script, runfiles = runfiles)]

_qemu_test = rule(
    implementation = _qemu_test_impl,
    test = True,
    attrs = {
        "image": attr.label(mandatory = True, providers = [KernelImageInfo]),
        "timeout_s": attr.int(default = 120, doc = "The runner's own timeout (below Bazel's)."),
        "sentinel": attr.string(default = PASS_SENTINEL),
        "qemu_args": attr.string_list(doc = "Extra QEMU arguments after the board's."),
        "expect_runner_failure": attr.string(
            doc = "Test the runner: pass only if it fails with output matching this regex.",
        ),
        "_runner": attr.label(
            default = "//testing/runner:qemu_runner",
            executable = True,
            cfg = "target",
        ),
        "_expect_failure": attr.label(
            default = "//testing/runner:expect_failure.sh",
            allow_single_file = True,
            executable = True,
            cfg = "target",
        ),
    },
)

def qemu_test(name, image, tags = [], size = "medium", **kwargs):
    """Boots `image` (an hv_kernel_image) on its board under QEMU as a test.

    Passes when QEMU exits with the board's success code and the serial
    console showed the pass sentinel; otherwise fails with the last serial
    lines. `bazel run` it with `-- --gdb` to debug (QEMU -s -S).
    """
    _qemu_test(
        name = name,
        image = image,
        size = size,
        tags = tags + ["qemu"],
        **kwargs
    )

def _qemu_run_impl(ctx):
    info = ctx.attr.image[KernelImageInfo]
    qemu = _qemu_command(info, ["-nographic"] + ctx.attr.qemu_args)
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.write(
        script,
        "#!/bin/bash\nexec %s \"$@\"\n" % " ".join([shell.quote(a) for a in qemu]),
        is_executable = True,
    )
    return [DefaultInfo(executable = script, runfiles = _image_runfiles(ctx, info))]

qemu_run = rule(
    implementation = _qemu_run_impl,
    executable = True,
    doc = "Boots an image under QEMU with its serial console on the terminal (Ctrl-A X quits).",
    attrs = {
        "image": attr.label(mandatory = True, providers = [KernelImageInfo]),
        "qemu_args": attr.string_list(),
    },
)

def _qemu_user_test_impl(ctx):
    binary = ctx.attr.binary[0][DefaultInfo].files_to_run.executable
    qemu = ctx.file._qemu_riscv64
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.write(
        script,
        "#!/bin/bash\nexec %s %s \"$@\"\n" % (shell.quote(qemu.short_path), shell.quote(binary.short_path)),
        is_executable = True,
    )
    runfiles = ctx.runfiles(files = [qemu, binary]).merge(ctx.attr.binary[0][DefaultInfo].default_runfiles)
    return [DefaultInfo(executable = script, runfiles = runfiles)]

_qemu_user_test = rule(
    implementation = _qemu_user_test_impl,
    test = True,
    attrs = {
        "binary": attr.label(mandatory = True, cfg = to_platform, executable = True),
        "platform": attr.label(default = "//platforms:linux_riscv64"),
        "_qemu_riscv64": attr.label(default = "@qemu//:qemu-riscv64", allow_single_file = True),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
)

def riscv64_cc_test(name, srcs, deps = [], copts = [], data = [], tags = [], size = "medium", **kwargs):
    """A GoogleTest test cross-built for linux_riscv64, run under qemu-riscv64."""
    cc_binary(
        name = name + "_bin",
        srcs = srcs,
        deps = deps + ["@com_google_googletest//:gtest_main"],
        copts = HV_COPTS + copts,
        data = data,
        testonly = True,
        tags = ["manual"],
        target_compatible_with = ["@platforms//os:linux"],
        visibility = ["//visibility:private"],
    )
    _qemu_user_test(
        name = name,
        binary = ":" + name + "_bin",
        size = size,
        tags = tags + ["qemu_user"],
        **kwargs
    )

def hv_cc_test(name, srcs, deps = [], copts = [], riscv64 = True, tags = [], **kwargs):
    """A GoogleTest test on the host and, from the same sources, under qemu-riscv64.

    Creates `name` (host) and, when `riscv64` is set, `name_riscv64`.
    """
    cc_test(
        name = name,
        srcs = srcs,
        deps = deps + ["@com_google_googletest//:gtest_main"],
        copts = HV_COPTS + copts,
        tags = tags,
        **kwargs
    )
    if riscv64:
        riscv64_cc_test(
            name = name + "_riscv64",
            srcs = srcs,
            deps = deps,
            copts = copts,
            tags = tags,
            **kwargs
        )

def kernel_test(name, srcs, deps = [], boards = KERNEL_TEST_BOARDS, timeout_s = 120, **kwargs):
    """In-kernel tests (TEST/EXPECT from //testing/ktest) on every board.

    Creates one bare-metal image and one qemu_test `name_<arch>` per board.
    """
    for arch, board in boards.items():
        hv_kernel_image(
            name = "%s_%s_image" % (name, arch),
            srcs = srcs,
            board = board,
            deps = deps + ["//testing/ktest", "//testing/ktest:main"],
            testonly = True,
        )
        qemu_test(
            name = "%s_%s" % (name, arch),
            image = ":%s_%s_image" % (name, arch),
            timeout_s = timeout_s,
            **kwargs
        )

def _add_sanitizers_impl(settings, attr):
    features = list(settings["//command_line_option:features"])

    # TSan cannot be combined with ASan: under --config=tsan the test runs
    # with TSan alone.
    if "tsan" in features:
        return {"//command_line_option:features": features}
    for sanitizer in attr.sanitizers:
        if sanitizer not in features:
            features.append(sanitizer)
    return {"//command_line_option:features": features}

# Adds the toolchain's sanitizer features to everything the test links, so
# the code under test is instrumented, not just the test's own sources.
_add_sanitizers = transition(
    implementation = _add_sanitizers_impl,
    inputs = ["//command_line_option:features"],
    outputs = ["//command_line_option:features"],
)

def _sanitized_test_impl(ctx):
    binary = ctx.attr.binary[0][DefaultInfo].files_to_run.executable
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.write(
        script,
        "#!/bin/bash\nexec %s \"$@\"\n" % shell.quote(binary.short_path),
        is_executable = True,
    )
    runfiles = ctx.runfiles(files = [binary]).merge(ctx.attr.binary[0][DefaultInfo].default_runfiles)
    return [DefaultInfo(executable = script, runfiles = runfiles)]

_sanitized_test = rule(
    implementation = _sanitized_test_impl,
    test = True,
    attrs = {
        "binary": attr.label(mandatory = True, cfg = _add_sanitizers, executable = True),
        "sanitizers": attr.string_list(default = ["asan", "ubsan"]),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
)

def sanitized_cc_test(name, srcs, deps = [], copts = [], sanitizers = ["asan", "ubsan"], tags = [], **kwargs):
    """A host GoogleTest test whose binary and dependencies are built with `sanitizers`.

    The sanitizers are host toolchain features (see //platforms/toolchains),
    added by a transition, so a plain `bazel test //...` runs it sanitized.
    """
    cc_binary(
        name = name + "_bin",
        testonly = True,
        srcs = srcs,
        deps = deps + ["@com_google_googletest//:gtest_main"],
        copts = HV_COPTS + copts,
        tags = ["manual"],
        target_compatible_with = [
            "@platforms//os:linux",
            "@platforms//cpu:x86_64",
        ],
        visibility = ["//visibility:private"],
    )
    _sanitized_test(
        name = name,
        binary = ":" + name + "_bin",
        sanitizers = sanitizers,
        tags = tags,
        **kwargs
    )
