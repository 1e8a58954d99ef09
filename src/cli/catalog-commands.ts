/**
 * `tds dataset publish`, `tds offer create` and `tds contract propose`: the
 * steps between registration and signing. Publishing hashes the local file
 * itself, so the digest in the catalog (and later in every contract) is the
 * digest of the bytes the gateway will serve, not a number typed by hand.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import type { OfferRequest, TdsClient } from '../client/tds-client.js';
import type { PriceV1 } from '../generated/contracts.js';
import { UsageError, choiceOption, countOption, listOption, requireList, requireOption, stringOption, type CliIo, type CommandSpec, type ParsedCommand } from './cli-args.js';
import { describeContract } from './contract-commands.js';
import { OUTPUT_POLICY_OPTIONS, outputPolicyFromOptions } from './output-policy-options.js';
import { attestDatasetFile } from '../compute/attest-dataset.js';
import { progressReporter } from './progress.js';
import { SCHEMA_OPTIONS, columnsText, schemaFromOptions, type DatasetSchema } from './dataset-schema-options.js';

/** SHA-256 (hex) and size of a file, streamed so large datasets do not fill memory; `onBytes` is told the bytes read so far. */
export async function digestFile(file: string, onBytes?: (bytes: number) => void): Promise<{ sha256: string; byteSize: number }> {
  const hash = createHash('sha256');
  let byteSize = 0;
  await pipeline(
    fs.createReadStream(file),
    new Writable({
      write(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        byteSize += chunk.length;
        onBytes?.(byteSize);
        done();
      },
    }),
  );
  return { sha256: hash.digest('hex'), byteSize };
}

const MEDIA_TYPES: Record<string, string> = {
  '.csv': 'text/csv', '.tsv': 'text/tab-separated-values', '.txt': 'text/plain', '.json': 'application/json',
  '.ndjson': 'application/x-ndjson', '.parquet': 'application/vnd.apache.parquet', '.zip': 'application/zip',
  '.gz': 'application/gzip', '.vcf': 'text/plain',
};

/** A media type guessed from the file name; octet-stream when unknown. */
export function mediaTypeOf(file: string): string {
  return MEDIA_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** Input of `tds dataset publish`. */
export interface PublishInput {
  title: string;
  description: string;
  researchField: string;
  kind: 'raw' | 'insight';
  url: string;
  file: string;
  mediaType?: string;
  license?: string;
  /** The declared columns (`--schema FILE` or `--columns`), which a compute offer needs. */
  schema?: DatasetSchema;
}

/** `tds dataset publish`: hash the file, publish the description; prints the dataset id. */
export async function publishCommand(client: TdsClient, input: PublishInput, io: CliIo): Promise<number> {
  // On a terminal only (the size is read only then; a missing file is reported by the read as before).
  const progress = io.progress && fs.existsSync(input.file)
    ? progressReporter(io.progress, { label: `hashing ${path.basename(input.file)}`, total: fs.statSync(input.file).size, unit: 'bytes' })
    : undefined;
  const { sha256, byteSize } = await digestFile(input.file, progress);
  const d = await client.publishDataset({
    title: input.title,
    description: input.description,
    researchField: input.researchField,
    kind: input.kind,
    distribution: { url: input.url, sha256, byteSize, mediaType: input.mediaType ?? mediaTypeOf(input.file) },
    ...(input.license ? { license: input.license } : {}),
    ...(input.schema ? { schema: input.schema } : {}),
  });
  io.out(`dataset: ${d.id}`);
  io.out(`sha256: ${sha256} (${byteSize} bytes)`);
  io.out(`url: ${input.url}`);
  const columns = d.schema?.columns ?? [];
  if (columns.length > 0) io.out(`columns: ${columnsText(columns)}`);
  else if (input.kind === 'raw') io.out('columns: none declared (a compute offer needs them: publish with --schema FILE or --columns; a download offer does not)');
  io.out('do not change the file from now on: consumers reject bytes that differ from this digest');
  return 0;
}

/** `tds offer create <datasetId>`: prints the offer id. */
export async function offerCommand(
  client: TdsClient,
  datasetId: string,
  input: OfferRequest,
  io: CliIo,
): Promise<number> {
  const o = await client.createOffer(datasetId, input);
  io.out(`offer: ${o.id}`);
  return 0;
}

/** `tds contract propose`: prints the contract's terms and id, ready for `tds contract sign`. */
export async function proposeCommand(
  client: TdsClient,
  input: { offerId: string; purposes: string[]; maxInvocations: number; validFrom?: string; validUntil?: string },
  io: CliIo,
): Promise<number> {
  const c = await client.proposeContract(input);
  for (const line of describeContract(c)) io.out(line);
  io.out(`next: tds contract sign ${c.id}`);
  return 0;
}

function windowOf(p: ParsedCommand): { validFrom?: string; validUntil?: string } {
  const validFrom = stringOption(p, 'valid-from');
  const validUntil = stringOption(p, 'valid-until');
  return { ...(validFrom ? { validFrom } : {}), ...(validUntil ? { validUntil } : {}) };
}

/** `tds dataset publish`. */
export const datasetPublish: CommandSpec = {
  name: 'dataset publish',
  synopsis: '--title T --field F --file PATH --url URL [--kind raw|insight] [--description D] [--media-type M] [--license L] [--schema FILE | --columns NAME:TYPE[:identifier],..]',
  summary: 'hash the file and publish it (provider; insight: consumer); --schema/--columns declare its columns, which a compute offer needs (types: integer, number, string, boolean, date)',
  options: { title: { type: 'string' }, description: { type: 'string' }, field: { type: 'string' }, kind: { type: 'string' }, url: { type: 'string' }, file: { type: 'string' }, 'media-type': { type: 'string' }, license: { type: 'string' }, ...SCHEMA_OPTIONS },
  run: async ({ p, io, client }) => {
    const kind = choiceOption(p, 'kind', ['raw', 'insight'] as const) ?? 'raw';
    const schema = schemaFromOptions(p);
    const input: PublishInput = {
      title: requireOption(p, 'title'), description: stringOption(p, 'description') ?? '', researchField: requireOption(p, 'field'), kind,
      url: requireOption(p, 'url'), file: requireOption(p, 'file'), mediaType: stringOption(p, 'media-type'), license: stringOption(p, 'license'),
      ...(schema ? { schema } : {}),
    };
    return publishCommand(await client(), input, io);
  },
};

/** `tds dataset attest`: the provider's node hashes its copy and, when it is the published file, attests it (exit 1 otherwise). */
export const datasetAttest: CommandSpec = {
  name: 'dataset attest',
  synopsis: '<datasetId> --dir DIR',
  summary: 'provider: hash your copy (DIR/<file of the URL>) and attest it is the published file, so the dataset counts as a contribution',
  options: { dir: { type: 'string' } },
  positionals: [1, 1],
  run: async ({ p, io, client }) => {
    const outcome = await attestDatasetFile(await client(), p.positionals[0]!, requireOption(p, 'dir'));
    if (!outcome.attested) {
      io.err(`not attested: ${outcome.problem}`);
      return 1;
    }
    io.out(`attested ${p.positionals[0]}: ${outcome.file} has sha256 ${outcome.sha256} (${outcome.byteSize} bytes), at ${outcome.attestedAt}`);
    return 0;
  },
};

/** `tds offer create`. */
export const offerCreate: CommandSpec = {
  name: 'offer create',
  synopsis: '<datasetId> --purposes CODE,.. --max-invocations N [--valid-from T] [--valid-until T] [--rules ID,..] [--price "12.50 EUR"] [--access compute|download] [--output-policy JSON|FILE] [--min-cell-count N] [--round-to N] [--dominance n:k] [--p-ratio X] [--min-residual-df N] [--allow-extremes] [--max-rows N] [--noise-epsilon E] [--approvals N] [--reviewers ID,..]',
  summary: 'offer a dataset for these purposes (--price: exact amount and ISO 4217 code per invocation; --access: default compute for raw, download for insight datasets)',
  options: { purposes: { type: 'string' }, 'max-invocations': { type: 'string' }, 'valid-from': { type: 'string' }, 'valid-until': { type: 'string' }, rules: { type: 'string' }, price: { type: 'string' }, access: { type: 'string' }, ...OUTPUT_POLICY_OPTIONS },
  positionals: [1, 1],
  run: async ({ p, io, client }) => {
    const rules = listOption(p, 'rules');
    const price = priceOption(p);
    const access = choiceOption(p, 'access', ['compute', 'download'] as const);
    const outputPolicy = outputPolicyFromOptions(p);
    const input = { purposes: requireList(p, 'purposes'), maxInvocations: countOption(p, 'max-invocations'), ...windowOf(p), ...(rules ? { reciprocityRuleIds: rules } : {}), ...(price ? { price } : {}), ...(access ? { access } : {}), ...(outputPolicy ? { outputPolicy } : {}) };
    return offerCommand(await client(), p.positionals[0]!, input, io);
  },
};

/** `--price "12.50 EUR"`: the amount string and currency code as typed (the service checks the digits). */
function priceOption(p: ParsedCommand): PriceV1 | undefined {
  const v = stringOption(p, 'price');
  if (v === undefined) return undefined;
  const m = /^\s*(\S+)\s+([A-Za-z]{3})\s*$/.exec(v);
  if (!m) throw new UsageError(`${p.command}: --price must be an amount and an ISO 4217 code, e.g. --price "12.50 EUR"`);
  return { perInvocation: m[1]!, currency: m[2]!.toUpperCase() };
}

/** `tds contract propose`. */
export const contractPropose: CommandSpec = {
  name: 'contract propose',
  synopsis: '--offer ID --purposes CODE,.. --max-invocations N [--valid-from T] [--valid-until T]',
  summary: 'consumer: propose a contract from an offer',
  options: { offer: { type: 'string' }, purposes: { type: 'string' }, 'max-invocations': { type: 'string' }, 'valid-from': { type: 'string' }, 'valid-until': { type: 'string' } },
  run: async ({ p, io, client }) => {
    const input = { offerId: requireOption(p, 'offer'), purposes: requireList(p, 'purposes'), maxInvocations: countOption(p, 'max-invocations'), ...windowOf(p) };
    return proposeCommand(await client(), input, io);
  },
};
