"""Linux kernels for the Linux test guest, built from Debian's linux-source-6.1.

  linux_kernel  a riscv64 `Image` (the flat image the RISC-V boot protocol
                loads) from tinyconfig plus a Kconfig fragment, with a
                built-in initramfs holding one static program as /init

The build is an ordinary Bazel action: cached like any other, nothing
downloaded (the sources are `@linux_source`, the compilers Debian's).
"""

load("//platforms:defs.bzl", "to_platform")

_BUILD_SCRIPT = """\
set -euo pipefail
tarball="$PWD/$1"; fragment="$PWD/$2"; init="$PWD/$3"; out="$PWD/$4"
export PATH=/usr/bin:/bin LC_ALL=C
# Reproducible: no host name, user, date or build count in the image.
export KBUILD_BUILD_USER=hv KBUILD_BUILD_HOST=bazel KBUILD_BUILD_VERSION=1 \\
  KBUILD_BUILD_TIMESTAMP='Thu Jan  1 00:00:00 UTC 1970'
work="$(mktemp -d "${TMPDIR:-/tmp}/hv-linux.XXXXXX")"
trap 'rm -rf "$work"' EXIT
log="$work/build.log"
fail() {
  echo "linux_kernel: $1; the last lines of the build:" >&2
  tail -n 40 "$log" >&2
  exit 1
}
# Documentation/ is most of the tree and unused (bar its Kconfig).
tar -xJf "$tarball" -C "$work" --exclude='linux-source-6.1/Documentation/[a-z]*' \\
  || { echo "linux_kernel: cannot unpack $1" >&2; exit 1; }
src="$work/linux-source-6.1"
cp "$init" "$work/init"
cat >"$work/initramfs.list" <<LIST
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
dir /proc 0755 0 0
dir /sys 0755 0 0
file /init $work/init 0755 0 0
LIST
sed "s|@INITRAMFS_LIST@|$work/initramfs.list|" "$fragment" >"$work/guest.config"
kmake() { make -C "$src" ARCH=riscv CROSS_COMPILE=/usr/bin/riscv64-linux-gnu- "$@" >>"$log" 2>&1; }
kmake tinyconfig || fail "make tinyconfig failed"
(cd "$src" && ARCH=riscv scripts/kconfig/merge_config.sh -m .config "$work/guest.config") >>"$log" 2>&1 \\
  || fail "merging $2 failed"
kmake olddefconfig || fail "make olddefconfig failed"
# Every option of the fragment must have survived (a missing dependency
# silently drops one).
while IFS= read -r line; do
  case "$line" in
    CONFIG_*=n) grep -qx "# ${line%=n} is not set" "$src/.config" \\
                  || fail "$2: ${line%=n} is set in the resulting .config" ;;
    CONFIG_*) grep -qxF "$line" "$src/.config" \\
                || fail "$2: '$line' did not survive olddefconfig (an unmet dependency?)" ;;
  esac
done <"$work/guest.config"
kmake -j"$(nproc)" Image || fail "make Image failed"
cp "$src/arch/riscv/boot/Image" "$out"
"""

def _linux_kernel_impl(ctx):
    image = ctx.actions.declare_file(ctx.label.name + ".Image")
    init = ctx.attr.init[0][DefaultInfo].files_to_run.executable
    ctx.actions.run_shell(
        command = _BUILD_SCRIPT,
        arguments = [ctx.file._source.path, ctx.file.config.path, init.path, image.path],
        inputs = [ctx.file._source, ctx.file.config, init],
        outputs = [image],
        mnemonic = "LinuxKernel",
        progress_message = "Building Linux (tinyconfig + %s) for %s" % (ctx.file.config.short_path, ctx.label),
    )
    return [DefaultInfo(files = depset([image]))]

linux_kernel = rule(
    implementation = _linux_kernel_impl,
    doc = """A riscv64 Linux `Image` with `init` as /init of a built-in initramfs.

`config` is a Kconfig fragment applied on top of tinyconfig; it must say
CONFIG_INITRAMFS_SOURCE="@INITRAMFS_LIST@". Every option it sets must hold in
the final configuration, or the build fails naming it.""",
    attrs = {
        "config": attr.label(mandatory = True, allow_single_file = True),
        "init": attr.label(mandatory = True, cfg = to_platform, executable = True),
        "platform": attr.label(default = "//platforms:linux_riscv64"),
        "_source": attr.label(default = "@linux_source//:linux-source.tar.xz", allow_single_file = True),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
)
