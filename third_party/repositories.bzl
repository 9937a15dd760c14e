"""Repositories for the Debian-provided dependencies. Nothing is downloaded."""

load("//third_party:abseil.bzl", "debian_abseil")
load("//third_party:dtc.bzl", "debian_dtc")
load("//third_party:linux.bzl", "debian_linux_source")
load("//third_party:qemu.bzl", "debian_qemu")

def _debian_rules_cc_impl(rctx):
    """Debian's rules_cc 0.0.4, patched so that it loads on Bazel 4.2.3.

    rules_cc 0.0.4 calls `use_cpp_toolchain()`, which Bazel 4 does not have.
    Both call sites only want the C++ toolchain type, so they get it spelled out.
    """
    src = rctx.path(rctx.attr.path)
    if not src.exists:
        fail("rules_cc not found at %s: install Debian's bazel-rules-cc (./bazelw does)" % src)
    for entry in src.readdir():
        rctx.symlink(entry, entry.basename)
    rctx.delete("cc")
    res = rctx.execute(["cp", "-r", str(src.get_child("cc")), "cc"])
    if res.return_code != 0:
        fail("copying rules_cc failed: " + res.stderr)
    for f in ["cc_flags_supplier.bzl", "compiler_flag.bzl"]:
        p = "cc/private/rules_impl/" + f
        text = rctx.read(p)
        text = text.replace(', "use_cpp_toolchain")', ")")
        text = text.replace("use_cpp_toolchain()", '["@bazel_tools//tools/cpp:toolchain_type"]')
        if "use_cpp_toolchain" in text:
            fail("unexpected use_cpp_toolchain left in " + p)
        rctx.file(p, text)

_debian_rules_cc = repository_rule(
    implementation = _debian_rules_cc_impl,
    attrs = {"path": attr.string(mandatory = True)},
    local = True,
)

def _local_dir_impl(rctx):
    """A repository made of a system directory plus a BUILD file of ours."""
    src = rctx.path(rctx.attr.path)
    if not src.exists:
        fail("%s not found: install %s (./bazelw does)" % (src, rctx.attr.package))
    for entry in src.readdir():
        if entry.basename not in ["BUILD", "BUILD.bazel", "WORKSPACE"]:
            rctx.symlink(entry, entry.basename)
    rctx.symlink(rctx.attr.build_file, "BUILD.bazel")
    rctx.file("WORKSPACE", "workspace(name = %r)\n" % rctx.name)

_local_dir = repository_rule(
    implementation = _local_dir_impl,
    attrs = {
        "path": attr.string(mandatory = True),
        "package": attr.string(mandatory = True),
        "build_file": attr.label(mandatory = True, allow_single_file = True),
    },
    local = True,
)

def hv_dependencies():
    """Declares every external repository; called once from WORKSPACE."""
    _debian_rules_cc(name = "rules_cc", path = "/usr/share/bazel/rules/cc")

    # Bazel's own copy: Debian's bazel-platforms 0.0.2 lacks cpu:riscv64.
    native.local_repository(name = "platforms", path = "/usr/share/bazel/platforms")
    native.local_repository(name = "bazel_skylib", path = "/usr/share/bazel/tools/skylib")
    native.local_repository(name = "rules_java", path = "/usr/share/bazel/rules/java")

    # Bazel 4's test rules reference these targets even when coverage is off.
    native.local_repository(
        name = "remote_coverage_tools",
        path = "third_party/remote_coverage_tools",
    )

    _local_dir(
        name = "com_google_googletest",
        path = "/usr/src/googletest",
        package = "googletest",
        build_file = "//third_party:googletest.BUILD",
    )
    _local_dir(
        name = "com_google_benchmark",
        path = "/usr/include/benchmark",
        package = "libbenchmark-dev",
        build_file = "//third_party:benchmark.BUILD",
    )
    debian_abseil(name = "com_google_absl")
    debian_qemu(name = "qemu")
    debian_dtc(name = "dtc")
    debian_linux_source(name = "linux_source")
