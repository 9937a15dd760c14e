"""Device trees: compiling .dts sources and embedding the blobs.

  dtb_from_dts     compile a .dts (plus the .dtsi files it /include/s) into a
                   .dtb with dtc; any dtc warning fails the build
  dtb_cc_library   a cc_library carrying a .dtb in read-only data (8-byte
                   aligned, as the boot protocol requires) for kernel images
                   and tests
"""

load("//platforms:embed.bzl", "embed_cc_library")

# dtc 1.6 has no -Werror: it prints warnings and succeeds. The action keeps
# its stderr and fails if there is any, so a warning is as good as an error.
_DTC_STRICT = """\
set -euo pipefail
dtc="$1"
shift
if ! messages="$("$dtc" "$@" 2>&1 >/dev/null)"; then
  printf '%s\\n' "$messages" >&2
  exit 1
fi
if [[ -n "$messages" ]]; then
  printf '%s\\n' "$messages" >&2
  echo "dtb_from_dts: dtc warnings are errors. Fix the source, or turn a check off with" >&2
  echo "dtb_from_dts(disabled_checks = [...]) and a comment saying why it does not apply." >&2
  exit 1
fi
"""

def _dtb_from_dts_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".dtb")
    src = ctx.file.src
    args = ctx.actions.args()
    args.add(ctx.file._dtc)
    args.add_all(["-I", "dts", "-O", "dtb", "-o", out])

    # /include/ looks next to the including file first, then in these.
    include_dirs = {src.dirname: True}
    for f in ctx.files.deps:
        include_dirs[f.dirname] = True
    for d in include_dirs.keys():
        args.add("-i", d)
    for check in ctx.attr.disabled_checks:
        args.add("-W", "no-" + check)
    args.add(src)
    ctx.actions.run_shell(
        command = _DTC_STRICT,
        arguments = [args],
        inputs = [src] + ctx.files.deps,
        tools = [ctx.file._dtc],
        outputs = [out],
        mnemonic = "Dtc",
        progress_message = "Compiling device tree %s" % src.short_path,
    )
    return [DefaultInfo(files = depset([out]))]

dtb_from_dts = rule(
    implementation = _dtb_from_dts_impl,
    doc = """Compiles `src` (a .dts) into `<name>.dtb` with dtc -I dts -O dtb.

Sources may `/include/ "x.dtsi"` files listed in `deps` (no C preprocessor).
Any dtc warning fails the build; `disabled_checks` turns individual dtc
checks off (`-W no-<check>`) and each one needs a comment saying why.""",
    attrs = {
        "src": attr.label(mandatory = True, allow_single_file = [".dts"]),
        "deps": attr.label_list(allow_files = [".dtsi"], doc = "Files `src` may /include/."),
        "disabled_checks": attr.string_list(doc = "dtc checks to turn off (-W no-<check>)."),
        "_dtc": attr.label(default = "@dtc//:dtc", allow_single_file = True, cfg = "exec"),
    },
)

def dtb_cc_library(name, dtb, symbol, accessor = "", **kwargs):
    """A cc_library that embeds `dtb` so an image can hand it to a guest.

    The blob is 8-byte aligned in read-only data (the RISC-V and arm64 boot
    protocols want the device tree 8-byte aligned). The header
    `<package/name.h>` declares `extern "C" const std::byte <symbol>[]`,
    `extern "C" const size_t <symbol>_size` and, with `accessor`
    ("ns::Function"), an inline function returning both as a span.

    Args:
      name: the library.
      dtb: a .dtb file or a dtb_from_dts target.
      symbol: the C symbol of the blob.
      accessor: optional qualified name of an inline span accessor.
      **kwargs: passed to the cc_library (visibility, testonly, deps...).
    """
    embed_cc_library(
        name = name,
        src = dtb,
        symbol = symbol,
        accessor = accessor,
        alignment = 8,
        **kwargs
    )
