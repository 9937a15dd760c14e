"""One C++ toolchain configuration rule for every platform of this repository.

All project-wide compiler and linker flags live here, as toolchain features:
hosted vs. kernel, per-arch code generation, and the sanitizer features
(`asan`, `ubsan`, `tsan`, `fuzzer`) that `--config=...` switches on. Only the
x86_64 host toolchains define the sanitizer features, so a sanitizer config
that reaches a kernel image or a qemu-riscv64 test through a transition is
ignored there.
"""

load("@rules_cc//cc:action_names.bzl", "ACTION_NAMES")
load(
    "@rules_cc//cc:cc_toolchain_config_lib.bzl",
    "feature",
    "flag_group",
    "flag_set",
    "tool_path",
    "with_feature_set",
)

_COMPILE_ACTIONS = [
    ACTION_NAMES.assemble,
    ACTION_NAMES.preprocess_assemble,
    ACTION_NAMES.c_compile,
    ACTION_NAMES.cpp_compile,
    ACTION_NAMES.cpp_header_parsing,
    ACTION_NAMES.cpp_module_compile,
    ACTION_NAMES.linkstamp_compile,
]

_CXX_ACTIONS = [
    ACTION_NAMES.cpp_compile,
    ACTION_NAMES.cpp_header_parsing,
    ACTION_NAMES.cpp_module_compile,
    ACTION_NAMES.linkstamp_compile,
]

_LINK_ACTIONS = [
    ACTION_NAMES.cpp_link_executable,
    ACTION_NAMES.cpp_link_dynamic_library,
    ACTION_NAMES.cpp_link_nodeps_dynamic_library,
]

def _flags_feature(name, actions, flags, enabled = True, with_features = []):
    return feature(
        name = name,
        enabled = enabled,
        flag_sets = [flag_set(
            actions = actions,
            flag_groups = [flag_group(flags = flags)],
            with_features = with_features,
        )] if flags else [],
    )

def _sanitizer_feature(name, flags):
    return feature(
        name = name,
        flag_sets = [
            flag_set(
                actions = _COMPILE_ACTIONS,
                flag_groups = [flag_group(flags = flags + ["-fno-omit-frame-pointer", "-g"])],
            ),
            flag_set(actions = _LINK_ACTIONS, flag_groups = [flag_group(flags = flags)]),
        ],
    )

def _impl(ctx):
    tools = {
        "gcc": ctx.attr.compiler,
        "cpp": ctx.attr.compiler,
        "ld": ctx.attr.binutils_prefix + "ld",
        "ar": ctx.attr.binutils_prefix + "ar",
        "nm": ctx.attr.binutils_prefix + "nm",
        "objcopy": ctx.attr.binutils_prefix + "objcopy",
        "objdump": ctx.attr.binutils_prefix + "objdump",
        "strip": ctx.attr.binutils_prefix + "strip",
        "gcov": "/bin/false",
    }
    features = [
        feature(name = "opt"),
        feature(name = "dbg"),
        feature(name = "fastbuild"),
        _flags_feature("default_compile_flags", _COMPILE_ACTIONS, ctx.attr.compile_flags + [
            "-no-canonical-prefixes",
            "-Wall",
            "-Wextra",
            "-fdiagnostics-color=always",
        ] + (["-fno-canonical-system-headers"] if ctx.attr.compiler_kind == "gcc" else [])),
        _flags_feature("default_cxx_flags", _CXX_ACTIONS, ["-std=c++20"] + ctx.attr.cxx_flags),
        _flags_feature("opt_flags", _COMPILE_ACTIONS, ["-O2", "-g1"], with_features = [with_feature_set(features = ["opt"])]),
        _flags_feature("fastbuild_flags", _COMPILE_ACTIONS, ["-O1", "-g1"], with_features = [with_feature_set(features = ["fastbuild"])]),
        _flags_feature("dbg_flags", _COMPILE_ACTIONS, ["-O0", "-g"], with_features = [with_feature_set(features = ["dbg"])]),
        _flags_feature("default_link_flags", _LINK_ACTIONS, ctx.attr.link_flags),
        # Libraries go after the objects: the legacy `libraries_to_link`
        # feature is followed by `user_link_flags`, then these.
        _flags_feature("default_link_libs", _LINK_ACTIONS, ctx.attr.link_libs),
    ]
    if ctx.attr.sanitizers:
        features += [
            _sanitizer_feature("asan", ["-fsanitize=address"]),
            _sanitizer_feature("ubsan", ["-fsanitize=undefined", "-fno-sanitize-recover=all"]),
            _sanitizer_feature("tsan", ["-fsanitize=thread"]),
        ]
        if ctx.attr.compiler_kind == "clang":
            features.append(_sanitizer_feature("fuzzer", ["-fsanitize=fuzzer,address,undefined"]))

    return cc_common.create_cc_toolchain_config_info(
        ctx = ctx,
        features = features,
        cxx_builtin_include_directories = ctx.attr.builtin_include_directories,
        toolchain_identifier = ctx.label.name,
        host_system_name = "x86_64-linux-gnu",
        target_system_name = ctx.attr.target_system_name,
        target_cpu = ctx.attr.target_cpu,
        target_libc = "none" if ctx.attr.target_system_name.endswith("-none") else "glibc",
        compiler = ctx.attr.compiler_kind,
        abi_version = "unknown",
        abi_libc_version = "unknown",
        tool_paths = [tool_path(name = k, path = v) for k, v in tools.items()],
    )

hv_cc_toolchain_config = rule(
    implementation = _impl,
    attrs = {
        "compiler": attr.string(mandatory = True, doc = "Absolute path of the C++ compiler driver (also links)."),
        "compiler_kind": attr.string(default = "gcc", values = ["gcc", "clang"]),
        "binutils_prefix": attr.string(mandatory = True, doc = "e.g. /usr/bin/riscv64-linux-gnu-"),
        "builtin_include_directories": attr.string_list(mandatory = True),
        "compile_flags": attr.string_list(),
        "cxx_flags": attr.string_list(),
        "link_flags": attr.string_list(),
        "link_libs": attr.string_list(),
        "sanitizers": attr.bool(default = False, doc = "Define the asan/ubsan/tsan(/fuzzer) features."),
        "target_cpu": attr.string(mandatory = True),
        "target_system_name": attr.string(mandatory = True),
    },
    provides = [CcToolchainConfigInfo],
)

def hv_cc_toolchain(name, target_compatible_with, **config):
    """A registered C++ toolchain `name` for the given target constraints.

    Runs on an x86_64 Linux host; `config` is passed to hv_cc_toolchain_config.
    """
    hv_cc_toolchain_config(name = name + "_config", **config)
    native.cc_toolchain(
        name = name + "_cc",
        all_files = ":empty",
        ar_files = ":empty",
        as_files = ":empty",
        compiler_files = ":empty",
        dwp_files = ":empty",
        linker_files = ":empty",
        objcopy_files = ":empty",
        strip_files = ":empty",
        supports_param_files = True,
        toolchain_config = ":" + name + "_config",
    )
    native.toolchain(
        name = name,
        exec_compatible_with = [
            "@platforms//os:linux",
            "@platforms//cpu:x86_64",
        ],
        target_compatible_with = target_compatible_with,
        toolchain = ":" + name + "_cc",
        toolchain_type = "@bazel_tools//tools/cpp:toolchain_type",
    )
