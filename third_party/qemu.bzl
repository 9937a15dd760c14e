"""`@qemu`: Debian's QEMU 7.2 and OpenSBI, version-checked, as labels.

Tests reach QEMU only through these labels:
  @qemu//:qemu-system-riscv64  @qemu//:qemu-system-x86_64  @qemu//:qemu-riscv64
  @qemu//:opensbi_fw_dynamic   (OpenSBI generic platform, fw_dynamic.bin)
"""

# Pinned versions: the upstream QEMU release series and Debian's opensbi.
_QEMU_VERSION_PREFIX = "7.2."
_OPENSBI_VERSION_PREFIX = "1.1"

_BINARIES = {
    "qemu-system-riscv64": "qemu-system-misc",
    "qemu-system-x86_64": "qemu-system-x86",
    "qemu-riscv64": "qemu-user",
}

_OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"

def _version_of(rctx, binary):
    res = rctx.execute([binary, "--version"])
    if res.return_code != 0:
        fail("%s --version failed: %s" % (binary, res.stderr))

    # "QEMU emulator version 7.2.22 (Debian ...)" / "qemu-riscv64 version 7.2.22 (...)"
    words = res.stdout.split("\n")[0].split(" ")
    for i, w in enumerate(words):
        if w == "version" and i + 1 < len(words):
            return words[i + 1]
    fail("cannot read a version from `%s --version`: %r" % (binary, res.stdout))

def _debian_qemu_impl(rctx):
    for name, package in _BINARIES.items():
        path = rctx.path("/usr/bin/" + name)
        if not path.exists:
            fail("%s not found: install Debian's %s (./bazelw does)" % (path, package))
        version = _version_of(rctx, str(path))
        if not version.startswith(_QEMU_VERSION_PREFIX):
            fail("%s is QEMU %s, but this repository is pinned to QEMU %sx (Debian %s)" %
                 (path, version, _QEMU_VERSION_PREFIX, package))
        rctx.symlink(path, name)

    if not rctx.path(_OPENSBI).exists:
        fail("%s not found: install Debian's opensbi (./bazelw does)" % _OPENSBI)
    res = rctx.execute(["dpkg-query", "-W", "-f=${Version}", "opensbi"])
    if res.return_code != 0 or not res.stdout.startswith(_OPENSBI_VERSION_PREFIX):
        fail("Debian's opensbi is %r, but this repository is pinned to %sx" %
             (res.stdout, _OPENSBI_VERSION_PREFIX))
    rctx.symlink(_OPENSBI, "opensbi_fw_dynamic.bin")

    rctx.file("WORKSPACE", 'workspace(name = "qemu")\n')
    rctx.file("BUILD.bazel", """\
package(default_visibility = ["//visibility:public"])

exports_files({binaries})

filegroup(
    name = "opensbi_fw_dynamic",
    srcs = ["opensbi_fw_dynamic.bin"],
)
""".format(binaries = repr(sorted(_BINARIES.keys()))))

debian_qemu = repository_rule(
    implementation = _debian_qemu_impl,
    local = True,
)
