/** Names for ids (participants, dataset titles), fetched once per page load and cached in memory. */
import { call } from './api.js';
import type { Names } from './terms.js';

const participants = new Map<string, Promise<string>>();
const datasets = new Map<string, Promise<string>>();

function cached(map: Map<string, Promise<string>>, id: string, fetcher: () => Promise<string>): Promise<string> {
  let p = map.get(id);
  if (!p) {
    // A name that cannot be looked up (not visible to the caller) shows the id alone.
    p = fetcher().catch(() => id);
    map.set(id, p);
  }
  return p;
}

/** A participant's name. */
export function participantName(id: string): Promise<string> {
  return cached(participants, id, async () => (await call<{ name: string }>('GET', `/v1/participants/${encodeURIComponent(id)}`)).name);
}

/** A dataset's title. */
export function datasetTitle(id: string): Promise<string> {
  return cached(datasets, id, async () => (await call<{ title: string }>('GET', `/v1/datasets/${encodeURIComponent(id)}`)).title);
}

/** Names for the ids a contract document carries. */
export async function namesFor(doc: { provider: { id: string }; consumer: { id: string }; dataset: { id: string }; outputPolicy?: { review?: { reviewers?: string[] } } }): Promise<Names> {
  const ids = [doc.provider.id, doc.consumer.id, ...(doc.outputPolicy?.review?.reviewers ?? [])];
  const [title, ...found] = await Promise.all([datasetTitle(doc.dataset.id), ...ids.map((id) => participantName(id))]);
  return { participants: Object.fromEntries(ids.map((id, i) => [id, found[i]!])), datasets: { [doc.dataset.id]: title! } };
}
