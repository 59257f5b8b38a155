"""msys.parseRFC2822Addresses."""
from .conftest import values


def test_parse_addresses(run):
    got = values(run("""
        local a = msys.parseRFC2822Addresses('"Joe, Q." <joe@example.com>, ann@b.example, undisclosed:;')
        return #a, a[1].name, a[1].address, a[1].localpart, a[1].domain, a[2].address"""))
    assert got == (2, b"Joe, Q.", b"joe@example.com", b"joe", b"example.com", b"ann@b.example")
