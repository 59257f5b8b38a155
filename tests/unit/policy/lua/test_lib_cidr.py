"""msys.cidr.define / query."""
from .conftest import values


def test_most_specific_network_wins(run):
    got = values(run("""
        msys.cidr.define('nets', {['10.0.0.0/8'] = 'corp', ['10.1.0.0/16'] = 'lab',
                                  ['2001:db8::/32'] = 'v6'})
        msys.cidr.define('plain', {'192.0.2.0/24'})
        return msys.cidr.query('nets', '10.1.2.3'), msys.cidr.query('nets', '10.9.9.9'),
               msys.cidr.query('nets', '2001:db8::1'), msys.cidr.query('nets', '192.0.2.1'),
               msys.cidr.query('plain', '192.0.2.9'), msys.cidr.query('missing', '1.2.3.4')"""))
    assert got == (b"lab", b"corp", b"v6", None, b"1", None)


def test_bad_network_is_an_error(run):
    assert "does not appear to be" in run("msys.cidr.define('x', {'10.0.0.300/8'})").error


def test_ip_versions_never_match_each_other_and_bad_addresses_match_nothing(run):
    got = values(run("""
        msys.cidr.define('all4', {['0.0.0.0/0'] = 'v4'})
        msys.cidr.define('all6', {['::/0'] = 'v6', ['2001:db8::/127'] = 'pair'})
        return msys.cidr.query('all4', '::1'), msys.cidr.query('all6', '10.0.0.1'),
               msys.cidr.query('all4', '255.255.255.255'), msys.cidr.query('all6', '2001:db8::1'),
               msys.cidr.query('all6', '2001:db8::2'), msys.cidr.query('all6', '[2001:db8::]'),
               msys.cidr.query('all4', 'not an address'), msys.cidr.query('all4', '10.0.0.1/8')"""))
    assert got == (None, None, b"v4", b"pair", b"v6", b"pair", None, None)
