import { generateKeyPair, privateJwkOf, publicKeyOf } from '../crypto/ed25519.js';
import { signerOf } from '../crypto/ed25519-node.js';
import { fromBase64, sha256, toBase64, toHex, utf8 } from '../crypto/sha256.js';
import {
  formatCheckpointBody,
  noteKeyId,
  noteSignerOf,
  openNote,
  parseCheckpointBody,
  parseVerifierKey,
  signNote,
  signNoteWith,
  verifierKey,
  verifyNote,
} from './checkpoint.js';
import { ledgerCode } from '../../test/helpers/ledger-code.js';

const ORIGIN = 'tds.example/ledger';
const ROOT = sha256(utf8('root'));

function freshLog() {
  const { secretKey, publicKey } = generateKeyPair();
  const verifier = parseVerifierKey(verifierKey(ORIGIN, publicKey));
  const body = formatCheckpointBody({ origin: ORIGIN, size: 42, rootHash: ROOT });
  return { secretKey, publicKey, verifier, body, note: signNote(body, ORIGIN, secretKey) };
}

describe('golang.org/x/mod/sumdb/note package example (PeterNeumann)', () => {
  const vkey = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
  const skey = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
  const text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
  const msg = text + '\n' + '\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';

  it('parses the verifier key and recomputes its key id', () => {
    const v = parseVerifierKey(vkey);
    expect(v.name).toBe('PeterNeumann');
    expect(toHex(v.keyId)).toBe('c74f20a3');
    expect(verifierKey(v.name, v.publicKey)).toBe(vkey);
  });
  it('verifies the published signed note', () => {
    expect(verifyNote(msg, parseVerifierKey(vkey))).toBe(text);
  });
  it('reproduces the published note byte for byte from the published signer key', () => {
    const seed = fromBase64(skey.split('+').slice(4).join('+')).slice(1); // the key itself may contain '+'
    expect(verifierKey('PeterNeumann', publicKeyOf(seed))).toBe(vkey);
    expect(signNote(text, 'PeterNeumann', seed)).toBe(msg);
  });
  it('reproduces it with the node:crypto signer the service signs checkpoints with', () => {
    const seed = fromBase64(skey.split('+').slice(4).join('+')).slice(1);
    expect(signNoteWith(text, noteSignerOf('PeterNeumann', seed, signerOf(privateJwkOf(seed))))).toBe(msg);
  });
  it('is not a checkpoint, so openNote refuses it after verifying', () => {
    expect(ledgerCode(() => openNote(msg, parseVerifierKey(vkey)))).toBe('LEDGER_MALFORMED_CHECKPOINT');
  });
});

describe('published sum.golang.org checkpoints', () => {
  const sumdb = parseVerifierKey('sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8');

  it('opens a signed tree head (google/trillian-examples sumdb test)', () => {
    const note = 'go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n\n'
      + '\u2014 sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYfvimWEPWL+o3GeoWwOoAw=\n';
    const { checkpoint } = openNote(note, sumdb, 'go.sum database tree');
    expect(checkpoint.size).toBe(6476701);
    expect(toBase64(checkpoint.rootHash)).toBe('mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=');
    expect(ledgerCode(() => openNote(note.replace('6476701', '6476702'), sumdb))).toBe('LEDGER_BAD_SIGNATURE');
  });
  it('ignores a cosignature from an unknown key (transparency-dev witness README)', () => {
    const note = 'go.sum database tree\n15067302\ngJyioq6dwR9n+NjEWORfYmH+ubeYm3kH42BBQ0bTpYI=\n\n'
      + '\u2014 sum.golang.org Az3grp1rvWOs5NKlr/xR4GLN/CDyzzakmt1o61uSxYKpK1SerqOP2ClbX/peKUZjYnyomH5Xz7GZG3TpB7OeKn4E2ww=\n'
      + '\u2014 test.example.com qTGhC/xIPQ0AXKHK6Y+9ypRfuvMZWPjRXM8NiOg5M1WREn07VQXyuIXM3NRNav3ieVFLUqDRK77PWDmL6w8w84UqeAw=\n';
    expect(openNote(note, sumdb).checkpoint.size).toBe(15067302);
  });
});

describe('checkpoint notes', () => {
  it('formats the tlog-checkpoint body exactly', () => {
    expect(formatCheckpointBody({ origin: ORIGIN, size: 0, rootHash: new Uint8Array(32) }))
      .toBe(`${ORIGIN}\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n`);
    expect(ledgerCode(() => formatCheckpointBody({ origin: 'a\nb', size: 1, rootHash: ROOT }))).toBe('LEDGER_INVALID_NAME');
    expect(() => formatCheckpointBody({ origin: ORIGIN, size: -1, rootHash: ROOT })).toThrow(RangeError);
    expect(() => formatCheckpointBody({ origin: ORIGIN, size: 1, rootHash: new Uint8Array(31) })).toThrow(RangeError);
  });

  it('round-trips: sign, then open with the verifier key', () => {
    const { note, body, verifier, publicKey } = freshLog();
    const keyId = noteKeyId(ORIGIN, publicKey);
    expect(note).toBe(`${body}\n\u2014 ${ORIGIN} ${note.split(' ').pop()}`);
    expect(toHex(fromBase64(note.trimEnd().split(' ').pop() as string).slice(0, 4))).toBe(toHex(keyId));
    const opened = openNote(note, verifier, ORIGIN);
    expect(opened.body).toBe(body);
    expect(opened.checkpoint).toEqual({ origin: ORIGIN, size: 42, rootHash: ROOT, extensions: [] });
    expect(ledgerCode(() => openNote(note, verifier, 'other.example/log'))).toBe('LEDGER_ORIGIN_MISMATCH');
  });

  it('refuses a tampered origin, size, root or signature line', () => {
    const { note, verifier } = freshLog();
    const lines = note.split('\n');
    const tamper = (i: number, value: string) => lines.map((l, j) => (j === i ? value : l)).join('\n');
    expect(ledgerCode(() => openNote(tamper(0, 'tds.example/ledgeR'), verifier))).toBe('LEDGER_BAD_SIGNATURE');
    expect(ledgerCode(() => openNote(tamper(1, '43'), verifier))).toBe('LEDGER_BAD_SIGNATURE');
    expect(ledgerCode(() => openNote(tamper(2, toBase64(sha256(utf8('other')))), verifier))).toBe('LEDGER_BAD_SIGNATURE');
    const sig = fromBase64(lines[4].split(' ').pop() as string);
    sig[10] ^= 1;
    expect(ledgerCode(() => openNote(tamper(4, `\u2014 ${ORIGIN} ${toBase64(sig)}`), verifier))).toBe('LEDGER_BAD_SIGNATURE');
    expect(ledgerCode(() => openNote(tamper(4, `- ${ORIGIN} ${toBase64(sig)}`), verifier))).toBe('LEDGER_MALFORMED_NOTE');
    expect(ledgerCode(() => openNote(note.slice(0, -1), verifier))).toBe('LEDGER_MALFORMED_NOTE');
    expect(ledgerCode(() => openNote(note.replace('\n\n', '\n'), verifier))).toBe('LEDGER_MALFORMED_NOTE');
    expect(ledgerCode(() => openNote(note.replace('42', '4\t2'), verifier))).toBe('LEDGER_MALFORMED_NOTE');
  });

  it('refuses a note signed only by another key, or by another name with the same key', () => {
    const { note, publicKey } = freshLog();
    const other = parseVerifierKey(verifierKey(ORIGIN, generateKeyPair().publicKey));
    expect(ledgerCode(() => openNote(note, other))).toBe('LEDGER_NOT_SIGNED');
    const renamed = parseVerifierKey(verifierKey('tds.example/other', publicKey));
    expect(ledgerCode(() => openNote(note, renamed))).toBe('LEDGER_NOT_SIGNED');
  });

  it('accepts extra signatures from unknown keys but not an invalid one from the trusted key', () => {
    const { note, verifier, body, secretKey } = freshLog();
    const cosigned = note + signNote(body, 'witness.example', generateKeyPair().secretKey).slice(body.length + 1);
    expect(openNote(cosigned, verifier).checkpoint.size).toBe(42);
    const forged = signNote(body.replace('42', '43'), ORIGIN, secretKey).slice(body.length + 1);
    expect(ledgerCode(() => openNote(note + forged, verifier))).toBe('LEDGER_BAD_SIGNATURE');
  });

  it('parses checkpoint bodies strictly', () => {
    const root = toBase64(ROOT);
    expect(parseCheckpointBody(`o\n1\n${root}\next one\n`).extensions).toEqual(['ext one']);
    for (const bad of [`o\n1\n${root}`, `o\n1\n`, `\n1\n${root}\n`, `o\n01\n${root}\n`, `o\n-1\n${root}\n`, `o\n1e3\n${root}\n`,
      `o\n99999999999999999999\n${root}\n`, `o\n1\n${root.slice(0, -1)}\n`, `o\n1\nAAAA\n`, `o\n1\n${root}\n\n`]) {
      expect(ledgerCode(() => parseCheckpointBody(bad))).toBe('LEDGER_MALFORMED_CHECKPOINT');
    }
  });

  it('validates verifier keys', () => {
    const { publicKey } = freshLog();
    const good = verifierKey(ORIGIN, publicKey);
    const [name, id] = good.split('+');
    const key = good.slice(name.length + id.length + 2); // base64 may itself contain '+'
    const flipped = (parseInt(id, 16) ^ 1).toString(16).padStart(8, '0');
    const otherAlg = toBase64(new Uint8Array([2, ...fromBase64(key).slice(1)]));
    for (const bad of [`${name}+${id}`, `${name}+${flipped}+${key}`, `+${id}+${key}`, `a b+${id}+${key}`, `${name}+${id.slice(1)}+${key}`,
      `${name}+${id}+${key.slice(0, -4)}`, `${name}+${id}+${otherAlg}`, `${good}\n`]) {
      expect(ledgerCode(() => parseVerifierKey(bad))).toBe('LEDGER_MALFORMED_VERIFIER_KEY');
    }
    expect(ledgerCode(() => verifierKey('has space', publicKey))).toBe('LEDGER_INVALID_NAME');
    expect(ledgerCode(() => verifierKey('has+plus', publicKey))).toBe('LEDGER_INVALID_NAME');
    expect(ledgerCode(() => signNote('no final newline', ORIGIN, generateKeyPair().secretKey))).toBe('LEDGER_MALFORMED_NOTE');
  });
});
