import { UsageError, countOption, globalSettings, listOption, parseCommandLine as parseWith, portOption, requireOption, usageText } from './cli-args.js';
import { COMMANDS } from './commands.js';
import { fileNameOf } from '../gateway/gateway.js';
import { keysByKid } from './contract-commands.js';

const parseCommandLine = (argv: string[]) => parseWith(argv, COMMANDS);

describe('parseCommandLine', () => {
  it('treats an empty line and --help as help', () => {
    expect(parseCommandLine([]).command).toBe('help');
    expect(parseCommandLine(['--help']).command).toBe('help');
    expect(parseCommandLine(['contract', 'sign', 'abc', '--help'])).toMatchObject({ command: 'help', positionals: ['contract sign'] });
  });

  it('finds two-word commands past global options', () => {
    const p = parseCommandLine(['--service', 'https://tds.example', 'contract', 'sign', 'c-1', '--yes']);
    expect(p).toMatchObject({ command: 'contract sign', positionals: ['c-1'], values: { service: 'https://tds.example', yes: true } });
    expect(parseCommandLine(['--key=op.json', 'approve', 'p-1'])).toMatchObject({ command: 'approve', positionals: ['p-1'], values: { key: 'op.json' } });
  });

  it('does not take an option value for a command word', () => {
    expect(parseCommandLine(['keygen', '--out', 'contract'])).toMatchObject({ command: 'keygen', values: { out: 'contract' } });
    expect(parseCommandLine(['standing', '--field', 'cardiology'])).toMatchObject({ command: 'standing', values: { field: 'cardiology' } });
  });

  it('tells a command that is also a group (witness, witness vkey) from its subcommands', () => {
    expect(parseCommandLine(['witness', '--name', 'w.example/1', '--key', 'k.json', '--state', 'd', '--log-key', 'a', '--log-key', 'b'])).toMatchObject({
      command: 'witness',
      values: { name: 'w.example/1', key: 'k.json', state: 'd', 'log-key': ['a', 'b'] },
    });
    expect(parseCommandLine(['witness', 'vkey', '--name', 'w', '--key', 'k.json'])).toMatchObject({ command: 'witness vkey', values: { name: 'w' } });
    expect(() => parseCommandLine(['witness', 'bogus'])).toThrow(/witness: unexpected argument bogus/);
  });

  it('splits job run at -- and keeps the command verbatim', () => {
    const p = parseCommandLine(['job', 'run', '--contract', 'c', '--purpose', 'DUO:0000042', '--', 'wc', '-c', '--yes']);
    expect(p).toMatchObject({ command: 'job run', values: { contract: 'c', purpose: 'DUO:0000042' }, rest: ['wc', '-c', '--yes'] });
  });

  it('parses verify and ledger export with the same parser as every command', () => {
    expect(parseCommandLine(['verify', '--log-key', '@k.txt', '--state', 's.json'])).toMatchObject({ command: 'verify', values: { 'log-key': '@k.txt', state: 's.json' } });
    expect(parseCommandLine(['--service', 'u', 'ledger', 'export', '--out', 'd'])).toMatchObject({ command: 'ledger export', values: { service: 'u', out: 'd' } });
    expect(() => parseCommandLine(['verify', '--frobnicate', '1'])).toThrow(/verify: Unknown option '--frobnicate'/);
  });

  it('takes job run with or without a command after --', () => {
    expect(parseCommandLine(['job', 'run', '--contract', 'c', '--purpose', 'p', '--out', 'x.csv'])).toMatchObject({ command: 'job run', rest: [], values: { out: 'x.csv' } });
    expect(parseCommandLine(['job', 'run', '--contract', 'c', '--purpose', 'p', '--', 'wc', '-l'])).toMatchObject({ command: 'job run', rest: ['wc', '-l'] });
  });

  it('declares every command once, and the usage lists each of them', () => {
    const names = COMMANDS.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    const usage = usageText(COMMANDS);
    for (const name of names) expect(usage).toMatch(new RegExp(`^  ${name}( |$)`, 'm'));
    expect(usageText(COMMANDS, 'contract sign')).toMatch(/^usage: tds contract sign <contractId>/);
  });

  it('shows one command\'s usage, or every command of a group for the group word', () => {
    const usageLines = (only: string) => usageText(COMMANDS, only).split('\n').filter((l) => l.startsWith('usage: '));
    expect(usageLines('dataset')).toEqual([
      expect.stringMatching(/^usage: tds dataset publish --title T .*--schema FILE/),
      'usage: tds dataset withdraw <datasetId>',
      'usage: tds dataset attest <datasetId> --dir DIR',
    ]);
    expect(usageLines('offer')).toEqual([expect.stringMatching(/^usage: tds offer create <datasetId> /)]);
    // `contract` is the group (propose, sign, verify, revoke), not `contracts`, the list command.
    expect(usageLines('contract').map((l) => l.split(' ')[3])).toEqual(['propose', 'sign', 'verify', 'revoke']);
    expect(usageLines('ledger').map((l) => l.split(' ').slice(2, 4).join(' '))).toEqual(['ledger export', 'ledger key']);
    // A command that is also a group: the command first, then its subcommands.
    expect(usageLines('witness').map((l) => l.split(' ').slice(2, 4).join(' '))).toEqual(['witness --name', 'witness vkey']);
    // Group and command: that command alone, as before.
    expect(usageText(COMMANDS, 'dataset withdraw')).toBe(`usage: tds dataset withdraw <datasetId>\n  ${COMMANDS.find((c) => c.name === 'dataset withdraw')!.summary}`);
    expect(usageText(COMMANDS, 'contracts')).toMatch(/^usage: tds contracts [^\n]*\n {2}\S[^\n]*$/);
    // Not a command nor a group: the whole text.
    expect(usageText(COMMANDS, 'frobnicate')).toBe(usageText(COMMANDS));
  });

  it('reads `tds help <group>` and `tds <group> --help` as help for the group', () => {
    expect(parseCommandLine(['help', 'dataset'])).toMatchObject({ command: 'help', positionals: ['dataset'] });
    expect(parseCommandLine(['help', 'dataset', 'publish'])).toMatchObject({ command: 'help', positionals: ['dataset', 'publish'] });
    expect(parseCommandLine(['dataset', '--help'])).toMatchObject({ command: 'help', positionals: ['dataset'] });
    expect(parseCommandLine(['--key', 'k.json', 'offer', '-h'])).toMatchObject({ command: 'help', positionals: ['offer'] });
  });

  it.each([
    [['frobnicate'], /unknown command: frobnicate/],
    [['contract'], /contract: missing subcommand \(one of: propose, sign, verify/],
    [['contract', 'burn', 'x'], /unknown command: contract burn/],
    [['approve'], /approve: missing argument/],
    [['approve', 'a', 'b'], /approve: unexpected argument b/],
    [['keygen', '--bogus'], /keygen: Unknown option '--bogus'/],
    [['register', '--name'], /register: Option '--name <value>' argument missing/],
    [['approve', 'a', '--', 'x'], /takes no arguments after --/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCommandLine(argv)).toThrow(UsageError);
    expect(() => parseCommandLine(argv)).toThrow(message);
  });
});

describe('option helpers', () => {
  it('requires options and checks ports', () => {
    const p = parseCommandLine(['gateway', '--dir', 'd', '--port', '99999']);
    expect(requireOption(p, 'dir')).toBe('d');
    expect(() => requireOption(p, 'cert')).toThrow('--cert is required');
    expect(() => portOption(p, 'port', 8443)).toThrow(UsageError);
    expect(portOption(parseCommandLine(['gateway']), 'port', 8443)).toBe(8443);
    expect(portOption(parseCommandLine(['gateway', '--port', '0']), 'port', 8443)).toBe(0);
  });

  it('reads lists and positive counts', () => {
    const p = parseCommandLine(['offer', 'create', 'd-1', '--purposes', 'DUO:0000042, DUO:0000006', '--max-invocations', '10']);
    expect(p).toMatchObject({ command: 'offer create', positionals: ['d-1'] });
    expect(listOption(p, 'purposes')).toEqual(['DUO:0000042', 'DUO:0000006']);
    expect(listOption(p, 'rules')).toBeUndefined();
    expect(countOption(p, 'max-invocations')).toBe(10);
    for (const bad of ['0', '-1', '1.5', 'ten', '12345678901']) {
      expect(() => countOption(parseCommandLine(['offer', 'create', 'd', `--max-invocations=${bad}`]), 'max-invocations')).toThrow(UsageError);
    }
    expect(() => listOption(parseCommandLine(['contract', 'propose', '--purposes', ' , ']), 'purposes')).toThrow('needs at least one value');
  });

  it('takes global settings from options, then environment, then defaults', () => {
    expect(globalSettings(parseCommandLine(['help']), {})).toEqual({ serviceUrl: 'http://localhost:8080', keyFile: './tds-key.json', audience: 'tds', json: false });
    expect(globalSettings(parseCommandLine(['help']), { TDS_URL: 'https://a', TDS_KEY: 'k.json', TDS_AUDIENCE: 'space' })).toEqual({ serviceUrl: 'https://a', keyFile: 'k.json', audience: 'space', json: false });
    expect(globalSettings(parseCommandLine(['--service', 'https://b', 'help']), { TDS_URL: 'https://a' }).serviceUrl).toBe('https://b');
  });

});

describe('gateway path mapping', () => {
  it.each([
    ['/cohort.csv', 'cohort.csv'],
    ['/cohort%20v2.csv?x=1', 'cohort v2.csv'],
    ['/a', 'a'],
  ])('maps %s to %s', (url, name) => expect(fileNameOf(url)).toBe(name));

  it.each(['/', '/../etc/passwd', '/..', '/%2e%2e', '/a/b', '/a%2fb', '/a%2Fb', '/a%5cb', '/a\\b', '/.env', '/%00x', '/%zz', 'relative', '//etc/passwd', undefined])(
    'refuses %s',
    (url) => expect(fileNameOf(url)).toBeNull(),
  );
});

describe('keysByKid', () => {
  const jwk = { kty: 'OKP', crv: 'Ed25519', x: 'abc' };
  it('reads maps, JWKS, directory entries and key lists', () => {
    expect(keysByKid({ k1: jwk })).toEqual({ k1: jwk });
    expect(keysByKid({ keys: [{ ...jwk, kid: 'k2', use: 'sig' }] })).toEqual({ k2: jwk });
    // A directory entry's key history (registered, rotated out) is kept: contract verify checks signatures against it.
    expect(keysByKid({ id: 'p', keys: [{ kid: 'k3', publicKeyJwk: jwk, createdAt: 'x', revokedAt: null, note: 'dropped' }] })).toEqual({ k3: { ...jwk, createdAt: 'x', revokedAt: null } });
    expect(keysByKid([{ kid: 'k4', publicKeyJwk: jwk }])).toEqual({ k4: jwk });
    expect(keysByKid({ k5: { ...jwk, revokedAt: '2025-01-01T00:00:00.000Z', d: 'private part is dropped' } })).toEqual({ k5: { ...jwk, revokedAt: '2025-01-01T00:00:00.000Z' } });
    // A kid named like an Object.prototype member is just a key.
    expect(Object.keys(keysByKid(JSON.parse('{"__proto__": {"kty": "OKP", "crv": "Ed25519", "x": "abc"}}')))).toEqual(['__proto__']);
  });
});
