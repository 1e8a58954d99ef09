import { distributionUrlProblem } from './distribution-url.js';

describe('distributionUrlProblem', () => {
  it('accepts public https URLs', () => {
    for (const u of ['https://data.hospital.example/cohort.parquet', 'https://93.184.216.34/x', 'https://[2001:db8::1]/x']) {
      expect(distributionUrlProblem(u, false)).toBeNull();
    }
  });
  it('refuses plain http, internal addresses and local names outside development mode', () => {
    for (const u of [
      'http://data.hospital.example/x', 'ftp://data.hospital.example/x', 'https://localhost/x', 'https://127.0.0.1/x', 'https://127.1.2.3:8443/x',
      'https://10.1.2.3/x', 'https://172.16.0.1/x', 'https://192.168.1.1/x', 'https://169.254.169.254/latest', 'https://[::1]/x',
      'https://[fe80::1]/x', 'https://[fd00::1]/x', 'https://[::ffff:127.0.0.1]/x', 'https://0.0.0.0/x', 'https://printer.local/x',
      'https://intranet/x', 'https://user:pw@data.hospital.example/x', 'https://0x7f000001/x', 'not a url',
    ]) {
      expect([u, distributionUrlProblem(u, false)]).toEqual([u, expect.any(String)]);
    }
  });
  it('refuses trailing-dot names, site-local IPv6 and IPv6 forms embedding IPv4 loopback or private addresses', () => {
    for (const u of [
      'https://localhost./x', 'https://metadata.google.internal./x', 'https://printer.local./x', 'https://intranet./x', 'https://[fec0::1]/x', 'https://[feff::1]/x',
      'https://[::7f00:1]/x', 'https://[::a00:1]/x', 'https://[2002:7f00:1::1]/x', 'https://[2002:c0a8:101::1]/x', 'https://[64:ff9b::7f00:1]/x',
      'https://[64:ff9b::a9fe:a9fe]/x', 'https://[64:ff9b:1::a00:1]/x', 'https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/x', 'https://[::ffff:7f00:1]/x',
    ]) {
      expect([u, distributionUrlProblem(u, false)]).toEqual([u, expect.any(String)]);
    }
  });
  it('allows http and loopback in development mode, but still no credentials or other schemes', () => {
    expect(distributionUrlProblem('http://127.0.0.1:9000/x', true)).toBeNull();
    expect(distributionUrlProblem('https://localhost:8443/x', true)).toBeNull();
    expect(distributionUrlProblem('ftp://localhost/x', true)).not.toBeNull();
    expect(distributionUrlProblem('https://u:p@localhost/x', true)).not.toBeNull();
  });
});
