"""`@dtc`: Debian's device-tree compiler, version-checked, as a label.

Build rules reach dtc only through `@dtc//:dtc` (see //platforms:dts.bzl).
"""

# Pinned upstream release series of Debian's device-tree-compiler.
_DTC_VERSION_PREFIX = "1.6."

_DTC = "/usr/bin/dtc"

def _debian_dtc_impl(rctx):
    path = rctx.path(_DTC)
    if not path.exists:
        fail("%s not found: install Debian's device-tree-compiler (./bazelw does)" % _DTC)
    res = rctx.execute([str(path), "--version"])
    if res.return_code != 0:
        fail("%s --version failed: %s" % (_DTC, res.stderr))

    # "Version: DTC 1.6.1"
    words = res.stdout.strip().split(" ")
    if len(words) < 3 or words[1] != "DTC":
        fail("cannot read a version from `%s --version`: %r" % (_DTC, res.stdout))
    if not words[2].startswith(_DTC_VERSION_PREFIX):
        fail("%s is dtc %s, but this repository is pinned to dtc %sx (Debian device-tree-compiler)" %
             (_DTC, words[2], _DTC_VERSION_PREFIX))
    rctx.symlink(path, "dtc")

    rctx.file("WORKSPACE", 'workspace(name = "dtc")\n')
    rctx.file("BUILD.bazel", """\
package(default_visibility = ["//visibility:public"])

exports_files(["dtc"])
""")

debian_dtc = repository_rule(
    implementation = _debian_dtc_impl,
    local = True,
)
