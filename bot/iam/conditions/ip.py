"""IpAddress / NotIpAddress: IPv4 and IPv6 addresses against CIDR ranges (or single IPs).

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IPAddress
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

from bot.iam.variables import Context

OPERATORS: dict[str, tuple[str, bool]] = {
    "IpAddress": ("ip", False),
    "NotIpAddress": ("ip", True),
}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
#: a dotted-quad IPv4 address exactly as `ipaddress` accepts it (ASCII digits, no leading
#: zeros, octets up to 255)
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_QUAD = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}")


def compile(op: str, values: list[str], variables: bool) -> Callable[[str, Context], bool]:
    del op, variables
    networks: list[Network] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address or CIDR range") from None

    # IPv4 ranges as (netmask, network) integers, for the dotted-quad fast path
    ranges4 = [(int(n.netmask), int(n.network_address)) for n in networks if n.version == 4]

    def test(value: str, ctx: Context) -> bool:
        text = value.strip()
        quad = _QUAD.fullmatch(text)
        if quad is not None:  # the IPv4 address ipaddress would parse, as an integer
            a, b, c, d = quad.groups()
            address4 = int(a) << 24 | int(b) << 16 | int(c) << 8 | int(d)
            for mask, network in ranges4:  # noqa: SIM110 (hot path: no generator)
                if address4 & mask == network:
                    return True
            return False
        try:
            if "/" in text:
                given = ipaddress.ip_network(text, strict=False)
                return any(
                    given.version == n.version and given.subnet_of(n)  # type: ignore[arg-type]
                    for n in networks
                )
            address = ipaddress.ip_address(text)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            mapped = address.ipv4_mapped
            if any(mapped in n for n in networks if n.version == 4):
                return True
        return any(address in n for n in networks)

    return test
