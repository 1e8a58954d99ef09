import { sha256, toHex } from '../crypto/sha256.js';
import { ZERO_HASH, chainHash, verifyChain } from './chain.js';
import { hashLeaf } from './merkle.js';

const leaves = Array.from({ length: 10 }, (_, i) => hashLeaf(new TextEncoder().encode(`entry ${i}`)));

function chainOf(leafHashes: Uint8Array[], prev = ZERO_HASH): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const l of leafHashes) out.push((prev = chainHash(prev, l)));
  return out;
}

describe('chain', () => {
  it('starts from 32 zero bytes and hashes prev || leaf', () => {
    expect(toHex(ZERO_HASH)).toBe('00'.repeat(32));
    expect(toHex(chainHash(ZERO_HASH, leaves[0]))).toBe(toHex(sha256(new Uint8Array(32), leaves[0])));
    // Pinned so that an accidental change of order or prefix shows up.
    expect(toHex(chainHash(ZERO_HASH, new Uint8Array(32)))).toBe('f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a92759fb4b');
  });

  it('accepts an intact chain, also from a later starting point', () => {
    const chain = chainOf(leaves);
    expect(verifyChain(leaves, chain)).toBe(-1);
    expect(verifyChain(leaves.slice(4), chain.slice(4), chain[3])).toBe(-1);
    expect(verifyChain([], [])).toBe(-1);
  });

  it('names the first altered, reordered, missing or surplus entry', () => {
    const chain = chainOf(leaves);
    const altered = leaves.map((l) => l.slice());
    altered[6][0] ^= 1;
    expect(verifyChain(altered, chain)).toBe(6);
    const swapped = [...leaves];
    [swapped[2], swapped[3]] = [swapped[3], swapped[2]];
    expect(verifyChain(swapped, chain)).toBe(2);
    expect(verifyChain(leaves.filter((_, i) => i !== 5), chain.filter((_, i) => i !== 5))).toBe(5);
    expect(verifyChain(leaves, chain.slice(0, 8))).toBe(8);
    expect(verifyChain(leaves.slice(0, 8), chain)).toBe(8);
    const badChain = chain.map((c) => c.slice());
    badChain[9][31] ^= 1;
    expect(verifyChain(leaves, badChain)).toBe(9);
    expect(verifyChain([new Uint8Array(31)], chain.slice(0, 1))).toBe(0);
  });

  it('refuses hashes of the wrong length', () => {
    expect(() => chainHash(new Uint8Array(31), leaves[0])).toThrow(RangeError);
    expect(() => chainHash(ZERO_HASH, new Uint8Array(0))).toThrow(RangeError);
  });
});
