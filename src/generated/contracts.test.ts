import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../package-root.js';
import { GENERATED_FILE, generateContractTypes, typeNameOf } from './generate-contract-types.js';

describe('types generated from contracts/*.schema.json', () => {
  it('are current: src/generated/contracts.ts is exactly what `npm run gen:types` writes', async () => {
    const committed = fs.readFileSync(path.join(packageRoot(), GENERATED_FILE), 'utf8');
    expect(committed).toBe(await generateContractTypes());
  }, 60_000);

  it('name every schema after its file, so each appears once', async () => {
    const text = fs.readFileSync(path.join(packageRoot(), GENERATED_FILE), 'utf8');
    const files = fs.readdirSync(path.join(packageRoot(), 'contracts')).filter((f) => f.endsWith('.schema.json'));
    for (const f of files) expect(text.match(new RegExp(`^export (interface|type) ${typeNameOf(f)}\\b`, 'gm'))).toHaveLength(1);
    expect(typeNameOf('contract-proposal.v1.schema.json')).toBe('ContractProposalV1');
  });
});
