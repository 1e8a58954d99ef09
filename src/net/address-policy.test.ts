import { addressProblem, hostNameProblem } from './address-policy.js';

describe('address policy', () => {
  it.each(['127.0.0.1', '10.0.0.1', '169.254.169.254', '::1', '::', '::7f00:1', 'fec0::1', 'fe80::1', 'fd12::1', '2002:a00:1::', '64:ff9b::7f00:1', '64:ff9b:1::1', '::ffff:127.0.0.1', 'fe80::1%eth0', '100.64.0.1'])(
    'refuses %s', (a) => expect(addressProblem(a)).not.toBeNull());
  it.each(['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946', '8.8.8.8'])('accepts %s', (a) => expect(addressProblem(a)).toBeNull());
  it('judges names without their trailing dot', () => {
    for (const h of ['localhost.', 'metadata.google.internal.', 'intranet.', 'x.local.', '0x7f.1']) expect(hostNameProblem(h)).not.toBeNull();
    expect(hostNameProblem('data.hospital.example.')).toBeNull();
  });
});
