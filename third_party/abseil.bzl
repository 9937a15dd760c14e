"""abseil-cpp from Debian's libabsl-dev, under upstream-style labels.

Headers are system headers (/usr/include/absl); each library links the system
shared object as `-labsl_*`. The repository is generated from the package's
pkg-config files, so every Debian abseil library is available as
`@com_google_absl//:absl_<name>`, and the commonly used ones also under their
upstream labels (`@com_google_absl//absl/strings`, `//absl/flags:flag`, ...).
Host only.
"""

_PKGCONFIG_DIR = "/usr/lib/x86_64-linux-gnu/pkgconfig"

# Upstream label (package, target) for pkg-config names whose upstream
# location cannot be derived from the name.
_UPSTREAM = {
    "algorithm_container": ("algorithm", "container"),
    "any": ("types", "any"),
    "bad_optional_access": ("types", "bad_optional_access"),
    "bad_variant_access": ("types", "bad_variant_access"),
    "bits": ("numeric", "bits"),
    "civil_time": ("time", "civil_time"),
    "config": ("base", "config"),
    "cord": ("strings", "cord"),
    "core_headers": ("base", "core_headers"),
    "flags": ("flags", "flag"),
    "flat_hash_map": ("container", "flat_hash_map"),
    "flat_hash_set": ("container", "flat_hash_set"),
    "btree": ("container", "btree"),
    "fixed_array": ("container", "fixed_array"),
    "inlined_vector": ("container", "inlined_vector"),
    "node_hash_map": ("container", "node_hash_map"),
    "node_hash_set": ("container", "node_hash_set"),
    "int128": ("numeric", "int128"),
    "log_severity": ("base", "log_severity"),
    "optional": ("types", "optional"),
    "random_random": ("random", "random"),
    "random_distributions": ("random", "distributions"),
    "span": ("types", "span"),
    "statusor": ("status", "statusor"),
    "str_format": ("strings", "str_format"),
    "time_zone": ("time", "time_zone"),
    "variant": ("types", "variant"),
    "function_ref": ("functional", "function_ref"),
    "any_invocable": ("functional", "any_invocable"),
    "bind_front": ("functional", "bind_front"),
    "stacktrace": ("debugging", "stacktrace"),
    "symbolize": ("debugging", "symbolize"),
    "failure_signal_handler": ("debugging", "failure_signal_handler"),
    "cleanup": ("cleanup", "cleanup"),
}

_COMPATIBLE = """[
        "@platforms//os:linux",
        "@platforms//cpu:x86_64",
    ]"""

def _parse_pc(text):
    requires = []
    libs = []
    for line in text.splitlines():
        if line.startswith("Requires:"):
            for item in line[len("Requires:"):].split(","):
                name = item.strip().split(" ")[0]
                if name:
                    requires.append(name)
        elif line.startswith("Libs:"):
            for tok in line[len("Libs:"):].split(" "):
                if tok.startswith("-labsl_"):
                    libs.append(tok)
    return requires, libs

def _debian_abseil_impl(rctx):
    pcdir = rctx.path(_PKGCONFIG_DIR)
    if not rctx.path("/usr/include/absl/base/config.h").exists:
        fail("abseil headers not found: install Debian's libabsl-dev (./bazelw does)")
    include_dirs = [d.basename for d in rctx.path("/usr/include/absl").readdir()]

    root = [
        "# Generated from Debian's libabsl-dev pkg-config files.",
        'load("@rules_cc//cc:defs.bzl", "cc_library")',
        "",
        'package(default_visibility = ["//visibility:public"])',
        "",
    ]
    packages = {}
    pcs = {p.basename: p for p in pcdir.readdir()}
    for base in sorted(pcs.keys()):
        pc = pcs[base]
        if not (base.startswith("absl_") and base.endswith(".pc")):
            continue
        name = base[len("absl_"):-len(".pc")]
        requires, libs = _parse_pc(rctx.read(pc))
        deps = [":" + r for r in requires if r.startswith("absl_")]
        root.append("cc_library(")
        root.append("    name = %r," % ("absl_" + name))
        root.append("    linkopts = %r," % libs)
        root.append("    deps = %r," % deps)
        root.append("    target_compatible_with = %s," % _COMPATIBLE)
        root.append(")")
        root.append("")

        upstream = _UPSTREAM.get(name)
        if upstream == None:
            best = ""
            for d in include_dirs:
                if (name == d or name.startswith(d + "_")) and len(d) > len(best):
                    best = d
            if best and "internal" not in name:
                upstream = (best, name[len(best) + 1:] or best)
        if upstream:
            packages.setdefault(upstream[0], []).append((upstream[1], name))

    rctx.file("BUILD.bazel", "\n".join(root))
    for pkg, targets in packages.items():
        lines = ['package(default_visibility = ["//visibility:public"])', ""]
        for target, name in sorted(targets):
            lines.append("alias(name = %r, actual = %r)" % (target, "//:absl_" + name))
        rctx.file("absl/%s/BUILD.bazel" % pkg, "\n".join(lines) + "\n")
    rctx.file("WORKSPACE", 'workspace(name = "com_google_absl")\n')

debian_abseil = repository_rule(
    implementation = _debian_abseil_impl,
    local = True,
)
