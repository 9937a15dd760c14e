"""Device trees for test VMs: the virt-like machine with 16 MiB of RAM and
the given /chosen/bootargs (how a test image tells one instance of a guest
from another)."""

load("//platforms:dts.bzl", "dtb_cc_library", "dtb_from_dts")

_DTS = """/dts-v1/;
/include/ "virt_guest.dtsi"

/ {
	memory@80000000 {
		reg = <0x0 0x80000000 0x0 0x1000000>;	// 16 MiB
	};

	chosen {
		bootargs = "%s";
	};
};
"""

def small_guest_dtb(name, bootargs, accessor):
    """<package/name.h> with `accessor` returning the blob (16 MiB, `bootargs`)."""
    native.genrule(
        name = name + "_dts",
        outs = [name + ".dts"],
        cmd = "cat > $@ <<'EOF'\n" + (_DTS % bootargs) + "EOF\n",
    )
    dtb_from_dts(
        name = name + "_dtb",
        src = ":" + name + ".dts",
        deps = ["//hv/configs:virt_guest.dtsi"],
    )
    dtb_cc_library(
        name = name,
        accessor = accessor,
        dtb = ":" + name + "_dtb",
        symbol = "hv_" + name,
    )
