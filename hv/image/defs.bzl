"""Hypervisor images and the guests embedded in them.

  hv_image     the riscv64 hypervisor for the QEMU virt board, with the VMs
               its sources declare (hv::image::ImageVms())
  guest_embed  a guest image's bytes as a C++ accessor, for VM configs
"""

load("//platforms:defs.bzl", "hv_kernel_image")
load("//platforms:embed.bzl", "embed_cc_library")

def hv_image(name, srcs, deps = [], **kwargs):
    """A hypervisor image `name` whose `srcs` define hv::image::ImageVms()."""
    hv_kernel_image(
        name = name,
        srcs = srcs,
        board = "//platforms/qemu_virt_riscv64",
        deps = deps + [
            "//hv/image",
            "//hv/image:main",
        ],
        **kwargs
    )

def guest_embed(name, guest, accessor, **kwargs):
    """Embeds the flat image of `guest` (an hv_kernel_image for //platforms/hv_virt_guest).

    The header <package/name.h> declares `accessor` ("ns::Function"), which
    returns the image's bytes as a std::span<const std::byte>.
    """
    embed_cc_library(
        name = name,
        src = guest,
        symbol = "hv_guest_" + name,
        accessor = accessor,
        alignment = 8,
        **kwargs
    )
