"""`@linux_source`: the Linux 6.1 source tarball of Debian's linux-source-6.1,
version-checked, as a label, with the host tools a kernel build needs checked
once here rather than failing halfway through a build.

Build rules reach it only through `@linux_source//:linux-source.tar.xz`
(see //testing/guests/linux:linux.bzl).
"""

# The kernel series the guest configuration (testing/guests/linux) is
# written for; any Debian point release of it will do.
_SERIES = "6.1."
_PACKAGE = "linux-source-6.1"
_TARBALL = "/usr/src/linux-source-6.1.tar.xz"

# What Kbuild runs on the host for a riscv64 kernel with a built-in
# initramfs, and the Debian package of each.
_HOST_TOOLS = {
    "make": "make",
    "gcc": "gcc-12 (as gcc)",
    "flex": "flex",
    "bison": "bison",
    "bc": "bc",
    "xz": "xz-utils",
    "perl": "perl",
    "riscv64-linux-gnu-gcc": "gcc-12-riscv64-linux-gnu",
    "riscv64-linux-gnu-ld": "binutils-riscv64-linux-gnu",
}

def _debian_linux_source_impl(rctx):
    tarball = rctx.path(_TARBALL)
    if not tarball.exists:
        fail("%s not found: install Debian's %s (./bazelw does)" % (_TARBALL, _PACKAGE))
    res = rctx.execute(["dpkg-query", "-W", "-f=${Version}", _PACKAGE])
    if res.return_code != 0:
        fail("cannot ask dpkg for the version of %s: %s" % (_PACKAGE, res.stderr))
    version = res.stdout.strip()
    if not version.startswith(_SERIES):
        fail("%s is %s, but the Linux guest is configured for %sx" % (_PACKAGE, version, _SERIES))
    for tool, package in _HOST_TOOLS.items():
        path = rctx.path("/usr/bin/" + tool)
        if not path.exists:
            fail("/usr/bin/%s not found: the Linux guest's build needs it (Debian %s; ./bazelw installs it)" %
                 (tool, package))
    rctx.symlink(tarball, "linux-source.tar.xz")
    rctx.file("version.txt", version + "\n")
    rctx.file("WORKSPACE", 'workspace(name = "linux_source")\n')
    rctx.file("BUILD.bazel", """\
package(default_visibility = ["//visibility:public"])

exports_files(["linux-source.tar.xz", "version.txt"])
""")

debian_linux_source = repository_rule(
    implementation = _debian_linux_source_impl,
    local = True,
)
